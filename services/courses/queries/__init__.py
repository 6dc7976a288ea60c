"""Read models of the courses service for the gateway: the offer, enrolments, purchasing."""
