"""Contracts of the partners service: `events` (frozen) and `api` (requests, replies and views)."""
