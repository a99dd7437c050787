"""The pages of outputs before publication (the work is in portal/lifecycle/outputs/
and portal/workflow/outputs.py)."""
