"""Outputs reviewed before publication (issue 11): a researcher submits what they mean
to publish; each Nation that asked for it reviews it and decides alone."""
