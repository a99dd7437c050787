"""Background and periodic work (registry.py lists every job). Jobs build workflow
commands like every adapter; they run under RQ (worker.py) or inside the portal
(inline.py)."""
