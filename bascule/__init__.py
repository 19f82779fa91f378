"""Bascule: self-service and order management for mobile operators and MVNOs."""

__version__ = "0.1.0"
