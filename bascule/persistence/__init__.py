"""Persistence adapters: SQLAlchemy Core tables, the unit of work and repositories (SQLite and PostgreSQL)."""
