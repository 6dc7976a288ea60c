"""The requests the partners service answers over NATS, and the replies and views it gives."""
