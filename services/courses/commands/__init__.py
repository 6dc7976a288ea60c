"""Use cases of the courses service: load, decide (domain), save, stage events, commit."""
