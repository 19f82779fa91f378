"""The audit trail: every state change with actor, channel, time, before and after."""
