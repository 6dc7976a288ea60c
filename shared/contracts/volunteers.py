"""Contracts of the volunteers service: its events and requests (the catalogue grows with the volunteers issue)."""

from __future__ import annotations
