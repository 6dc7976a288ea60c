"""Routes for referrals: submit, read and list, the lifecycle steps, the participant's rights, the policy.

Every route is made from its operation's declaration (gateway/routes.py); a lifecycle step puts the path's
referral id and the body's command together (`ReferralStep`).
"""

from __future__ import annotations

from typing import Any

from litestar import Router
from litestar.handlers import HTTPRouteHandler

from gateway.routes import passthrough
from shared.contracts.referrals.api import operations as ops
from shared.contracts.referrals.api.referrals import ReferralView
from shared.operations import Operation

PATH = "/api/v1/referrals"
ONE = "/{referral_id:uuid}"


def _step(
    path: str, operation: Operation[Any, ReferralView], summary: str, *, optional: bool = False
) -> HTTPRouteHandler:
    """A lifecycle step: the path gives the referral, the body the step's command (`ReferralStep`), If-Match the
    version it was based on; `optional`: a command whose every field has a default may be left out."""
    return passthrough(
        "POST",
        f"{ONE}/{path}",
        operation,
        body="command",
        optional_body=optional,
        if_match=True,
        status_code=200,
        summary=summary,
        handler_name=path.replace("-", "_"),
    )


referral_routes = Router(
    path=PATH,
    tags=["referrals"],
    route_handlers=[
        passthrough("POST", "/", ops.SUBMIT_REFERRAL, body=True, status_code=201),
        passthrough("GET", "/", ops.LIST_REFERRALS, handler_name="list_referrals"),
        passthrough("GET", "/statistics", ops.REFERRAL_STATISTICS),
        passthrough("GET", "/access-log", ops.LIST_ACCESS_LOG),
        passthrough("GET", "/policy", ops.GET_REFERRAL_POLICY, handler_name="policy"),
        passthrough("PUT", "/policy", ops.SET_REFERRAL_POLICY, body=True, if_match=True),
        # The person's name travels in the body, never in an address (gateway logs and spans show addresses).
        passthrough("POST", "/person/export", ops.EXPORT_PERSON, body=True, status_code=200),
        passthrough("POST", "/person/erase", ops.ERASE_PERSON, body=True, status_code=200),
        passthrough("POST", "/person/ask-other-libraries", ops.ASK_OTHER_LIBRARIES, body=True, status_code=200),
        passthrough("POST", "/encryption/rotate", ops.ROTATE_ENCRYPTION, status_code=200),
        passthrough("GET", "/agreements", ops.LIST_REFERRAL_AGREEMENTS, handler_name="referral_agreements"),
        passthrough("POST", "/agreements", ops.RECORD_REFERRAL_AGREEMENT, body=True, status_code=201),
        passthrough("POST", "/agreements/{agreement_id:uuid}/end", ops.END_REFERRAL_AGREEMENT, status_code=200),
        passthrough("GET", "/counterparts", ops.LIST_REFERRAL_COUNTERPARTS, handler_name="referral_counterparts"),
        passthrough("GET", ONE, ops.GET_REFERRAL, handler_name="get_one"),
        passthrough(
            "GET",
            f"{ONE}/access-log",
            ops.LIST_ACCESS_LOG,
            summary="Who read this participant's personal data (staff)",
            handler_name="referral_access_log",
        ),
        passthrough("GET", f"{ONE}/export", ops.EXPORT_PARTICIPANT_DATA),
        passthrough("POST", f"{ONE}/erase", ops.ERASE_PARTICIPANT_DATA, status_code=200),
        # The lifecycle: the receiving side accepts, declines, plans, records the intake held, completes, records
        # a no-show; the referring side withdraws; either side records a revocation of consent. Enrolment comes
        # from the courses service, expiry from the clock.
        _step("accept", ops.ACCEPT_REFERRAL, "Accept a submitted referral (receiving side)", optional=True),
        _step("decline", ops.DECLINE_REFERRAL, "Decline a submitted referral, with a reason"),
        _step("plan-intake", ops.PLAN_INTAKE, "Plan (or re-plan) the warm handover"),
        _step(
            "intake-held",
            ops.RECORD_INTAKE_HELD,
            "The planned intake took place (receiving side); outcomes follow only after it",
            optional=True,
        ),
        _step("complete", ops.COMPLETE_REFERRAL, "Complete with the outcome (goes to the referrer)"),
        _step("withdraw", ops.WITHDRAW_REFERRAL, "Withdraw a referral (referring side)"),
        _step("no-show", ops.RECORD_NO_SHOW, "The participant did not come (receiving side)", optional=True),
        _step(
            "revoke-consent",
            ops.REVOKE_CONSENT,
            "Record that the participant withdrew consent (either side); what is open is withdrawn",
        ),
    ],
)
