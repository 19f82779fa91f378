"""Channels: thin adapters (REST, portal, USSD, CLI, TMF) over the same use cases."""
