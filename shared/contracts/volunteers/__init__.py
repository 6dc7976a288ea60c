"""Contracts of the volunteers service: `events` (frozen) and `api` (requests, replies and views)."""
