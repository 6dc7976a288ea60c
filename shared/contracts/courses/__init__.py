"""Contracts of the courses service: `events` (frozen) and `api` (requests, replies and views)."""
