"""Routes for volunteers: recruitment, interns and screening, training, and assignment; each calls one
operation of the volunteers service.
"""

from gateway.volunteers.assignments import AssignmentController
from gateway.volunteers.privacy import VolunteerPrivacyController
from gateway.volunteers.recruitment import (
    ApplicationController,
    InternController,
    VacancyController,
    VolunteerController,
)
from gateway.volunteers.training import TrainingController

VOLUNTEER_CONTROLLERS = [
    VacancyController,
    ApplicationController,
    VolunteerController,
    VolunteerPrivacyController,
    InternController,
    TrainingController,
    AssignmentController,
]
