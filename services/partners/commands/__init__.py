"""Use cases of the partners service: load, decide (domain), save, stage events, commit."""
