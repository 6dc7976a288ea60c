"""Use cases of the volunteers service: load, decide (domain), save, stage events, commit."""
