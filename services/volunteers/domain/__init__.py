"""The volunteers service's rules: pure, no I/O and no clock reads (callers pass the time or the date)."""
