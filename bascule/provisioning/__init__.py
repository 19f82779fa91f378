"""Provisioning towards the networks: jobs written with the change, run by idempotent workers."""
