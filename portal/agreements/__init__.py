"""Data-use agreements: written when every Nation approved, signed by each party,
verifiable by anyone (see service.py, and routes.py for the pages)."""
