"""Contracts of the courses service: its events and requests (the catalogue grows with the courses issue)."""

from __future__ import annotations
