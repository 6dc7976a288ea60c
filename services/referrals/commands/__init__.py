"""Use cases of the referrals service: load, decide (domain), save, stage events, commit."""
