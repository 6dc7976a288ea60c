"""The requests the referrals service answers over NATS, and the replies and views it gives."""
