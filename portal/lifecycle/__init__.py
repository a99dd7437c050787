"""What follows a request's activation: what the researcher owes each Nation
(obligations), the outputs reviewed before publication (outputs/), and the end of
access (attestations)."""
