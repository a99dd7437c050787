"""After activation: what the request's researcher owes each Nation (obligations)."""
