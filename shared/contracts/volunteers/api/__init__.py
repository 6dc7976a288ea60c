"""The requests the volunteers service answers over NATS, and the replies and views it gives."""
