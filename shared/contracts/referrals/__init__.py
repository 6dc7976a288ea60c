"""Contracts of the referrals service: `events` (frozen) and `api` (requests, replies and views)."""
