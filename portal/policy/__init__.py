"""Governance rules as Casbin policy: who may do what, in whose Nation, and why not."""
