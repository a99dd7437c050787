"""The administrators' pages: people, invitations, Nations and datasets."""
