"""Background and periodic work. Jobs build workflow commands like every adapter."""
