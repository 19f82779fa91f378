"""API v1 routers, one per room."""
