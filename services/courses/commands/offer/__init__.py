"""Use cases of the offer: its courses (`courses`) and their sessions (`sessions`); what every change starts with, and
the cancellation of one session, in `managing`."""
