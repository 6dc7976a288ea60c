"""The courses service's rules, pure: the offer and its scope, enrolment and the waiting list, purchasing."""
