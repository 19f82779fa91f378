"""Bulk inputs from the network: usage record files read with a columnar engine."""
