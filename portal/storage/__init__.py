"""Shared file storage: files kept by their SHA-256 in the database, or in an
S3-compatible bucket when one is configured (see service.py and s3.py)."""
