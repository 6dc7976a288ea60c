"""courses: the municipality's course offer, sessions, enrolment and waiting lists, and purchasing."""
