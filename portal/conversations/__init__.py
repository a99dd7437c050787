"""Conversations on a request: the researcher with the coordinators, the researcher with
each Nation, and each Nation's own discussion. Who may read and write each thread is
the policy's to say (portal/workflow/messaging.py); this package keeps the messages."""
