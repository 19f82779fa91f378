"""The shared kernel: pure value types and rules every feature uses (no framework, no database)."""
