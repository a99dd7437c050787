"""Pages of the portal-wide rule changes the member Nations govern."""
