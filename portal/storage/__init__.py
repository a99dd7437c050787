"""Shared file storage: files kept in the database by their SHA-256 (see service.py)."""
