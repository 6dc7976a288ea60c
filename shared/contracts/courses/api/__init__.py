"""The requests the courses service answers over NATS, and the replies and views it gives."""
