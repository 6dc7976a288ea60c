"""gateway: the one HTTP API over the four services, scoped per library and partner by the token."""
