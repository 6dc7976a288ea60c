"""Read models of the volunteers service for the gateway, and the views its use cases answer with."""
