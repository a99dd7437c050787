"""The pages where members read the governance rules in force and their history."""
