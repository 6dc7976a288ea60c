"""Routes for volunteers: recruitment, interns and screening, training, and assignment; each passes a request
through to one declared operation of the volunteers service (shared/contracts/volunteers/api/operations.py).
"""

from gateway.volunteers.assignments import assignment_routes
from gateway.volunteers.privacy import volunteer_privacy_routes
from gateway.volunteers.recruitment import application_routes, intern_routes, vacancy_routes, volunteer_routes
from gateway.volunteers.training import training_routes

VOLUNTEER_CONTROLLERS = [
    vacancy_routes,
    application_routes,
    volunteer_routes,
    volunteer_privacy_routes,
    intern_routes,
    training_routes,
    assignment_routes,
]
