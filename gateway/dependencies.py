"""What every route gets injected: the caller as an actor, the client that calls the services, versions.

Optimistic concurrency for updates (If-Match → `expected_version`): a route made from an operation's declaration
says `if_match=True` (gateway/routes.py); a hand-written one asks for it:

    @post(f"{ONE}/accept", status_code=200)
    async def accept(
        self,
        referral_id: FromPath[UUID],
        actor: NamedDependency[Actor],
        rpc: NamedDependency[RpcClient],
        if_match_version: NamedDependency[int | None],
        data: JSONBody[AcceptReferral | None] = None,
    ) -> ReferralView:
        command = with_expected_version(data or AcceptReferral(), if_match_version)
        return await rpc.call(ops.ACCEPT_REFERRAL, actor, ReferralStep(referral_id=referral_id, command=command))

`if_match_version` is provided app-wide from the `If-Match` header (`"3"`, `W/"3"`, `3`, or `*` for any),
and is documented as a header parameter on every route that asks for it. It is not called `expected_version`:
Litestar takes a body field's validation error for a failing dependency of the same name (a 500). A request
body that names `expected_version` itself wins when the header is absent; the two disagreeing is a 422. A body without
that field (a transition by path only) is built in the controller:
`AcceptReferral(referral_id=referral_id, expected_version=if_match_version)`.
Every response whose body has an integer `version` carries `ETag: "<version>"` (`add_etag`, app-wide), so
a client reads, edits, and sends the ETag back; a stale one is a 409 problem with `current` (and its ETag).
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from litestar.params import FromQuery, HeaderParameter, Parameter, PathParameter, QueryParameter

from gateway.auth import Caller, caller_of
from shared.contracts.vocabulary import CURSOR_DESCRIPTION, CURSOR_PATTERN
from shared.errors import InvalidInput
from shared.rpc import RpcClient
from shared.tenancy import SLUG_PATTERN, Actor

S = TypeVar("S", bound=msgspec.Struct)


def provide_caller(request: Request[Any, Any, Any]) -> Caller:
    return caller_of(request)


def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return caller_of(request).actor


def provide_rpc(state: State) -> RpcClient:
    client: RpcClient = state.rpc
    return client


IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        description='The ETag of the version the change is based on, e.g. "3"; a stale one is a 409',
        required=False,
    ),
]
# What parse_if_match takes, said in the OpenAPI document (gateway/docs.py) so that a generated client sends
# nothing else; parse_if_match answers anything else with a 422 that says what it wants.
IF_MATCH_PATTERN = r'^ *(\*|(W/)?"?[1-9][0-9]{0,17}"?)? *$'

# Query and path values the services check, checked and documented here already (a client generated from the
# OpenAPI document then sends what the API accepts).
SLUG_RULE = "lower-case letters, digits and dashes (2 to 63)"
LibraryQuery = Annotated[
    str | None, QueryParameter(pattern=SLUG_PATTERN.pattern, description=f"a library's slug: {SLUG_RULE}")
]
MunicipalityQuery = Annotated[
    str | None, QueryParameter(pattern=SLUG_PATTERN.pattern, description=f"a municipality's slug: {SLUG_RULE}")
]
# A municipality or library chosen on a console page (a form's field, not the API's documented parameter).
SlugQuery = FromQuery[Annotated[str | None, Parameter(pattern=SLUG_PATTERN.pattern)]]
LibraryPath = Annotated[str, PathParameter(pattern=SLUG_PATTERN.pattern, description=f"a library's slug: {SLUG_RULE}")]
QualificationQuery = Annotated[
    str | None, QueryParameter(pattern=SLUG_PATTERN.pattern, description="a qualification's code, e.g. `digital-guide`")
]
# How many items a page of a list holds (`Limit` of the contracts, as a query parameter of every list).
LimitQuery = Annotated[int, QueryParameter(ge=1, le=200, description="how many items a page holds at most")]
CursorQuery = Annotated[str | None, QueryParameter(pattern=CURSOR_PATTERN, description=CURSOR_DESCRIPTION)]


def provide_expected_version(if_match: IfMatch = None) -> int | None:
    return parse_if_match(if_match)


def app_expected_version(if_match: IfMatch = None) -> int | None:
    """The app-wide provider. A function of its own: Litestar refuses a layer whose provider equals one above
    it, so a controller that also declares `provide_expected_version` keeps working."""
    return parse_if_match(if_match)


# On the routes that issue or revoke a partner's credentials: an operator's reason (support), recorded.
SupportReason = FromQuery[
    Annotated[
        str | None,
        Parameter(
            min_length=1,
            max_length=1000,
            description="required of an operator (support for the partner): why; recorded with the credential",
        ),
    ]
]


MAX_VERSION_DIGITS = 18  # versions are 64-bit integers in every service's tables
MAX_POSITION = 2**63 - 1  # feed positions are PostgreSQL bigints (JetStream's sequences, 64 bits, fit too)


def parse_if_match(value: str | None) -> int | None:
    """`"3"` → 3; `W/"3"` → 3; `*` or absent → None (no check); anything else is a 422."""
    if value is None or value.strip() in ("", "*"):
        return None
    tags = [tag.strip() for tag in value.split(",") if tag.strip()]
    if len(tags) != 1:
        raise InvalidInput('If-Match must name one version, e.g. "3"')
    tag = tags[0].removeprefix("W/").strip('"')
    # ASCII digits only: str.isdigit() also says yes to "²" and "٣", which int() then refuses or reads.
    if not (tag.isascii() and tag.isdigit()) or len(tag) > MAX_VERSION_DIGITS or int(tag) < 1:
        raise InvalidInput(f"If-Match {value!r} is not a version this API gave out as an ETag")
    return int(tag)


def with_expected_version(body: S, expected_version: int | None) -> S:
    """The update request with the If-Match version as its `expected_version`."""
    if expected_version is None:
        return body
    if "expected_version" not in body.__struct_fields__:
        raise TypeError(f"{type(body).__name__} has no expected_version field")
    stated = getattr(body, "expected_version", None)
    if stated is not None and stated != expected_version:
        raise InvalidInput(f"If-Match says version {expected_version} but the body says {stated}")
    return msgspec.structs.replace(body, expected_version=expected_version)


class _Versioned(msgspec.Struct):
    version: Any = None


_VERSION_OF_JSON = msgspec.json.Decoder(_Versioned)


def version_of(content: Any) -> int | None:
    if isinstance(content, bytes):  # a service's reply passed on as JSON (gateway/routes.py): only its version read
        try:
            version = _VERSION_OF_JSON.decode(content).version if content.startswith(b"{") else None
        except msgspec.DecodeError:
            return None
    elif isinstance(content, msgspec.Struct):
        version = getattr(content, "version", None)
    elif isinstance(content, dict):
        version = content.get("version")
    else:
        return None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


async def add_etag(response: Response[Any]) -> Response[Any]:
    """After every handler: a body with a `version` is a versioned resource; say which version as the ETag."""
    if not isinstance(response, Response):  # files, streams: nothing versioned
        return response
    version = version_of(response.content)
    if version is not None and (response.status_code or 200) < 300 and "etag" not in response.headers:
        response.headers["ETag"] = f'"{version}"'
    return response
