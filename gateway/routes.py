"""Routes that only pass a request through to a service, made from the operation's declaration.

    passthrough("GET", "/{referral_id:uuid}", GET_REFERRAL)                       # path → the request's fields
    passthrough("GET", "/", LIST_REFERRALS)                                        # query → the request's fields
    passthrough("POST", "/", SUBMIT_REFERRAL, body=True, status_code=201)         # the body is the request
    passthrough("PUT", "/policy", SET_REFERRAL_POLICY, body=True, if_match=True)  # If-Match → expected_version

The route documents itself as a hand-written one would: its path and query parameters typed with the request
field's constraints, the body's and the reply's schemas, the summary from the declaration, and the problem
responses (gateway/docs.py). `RpcClient.call` checks the caller's role against the declaration before it sends.
A route that does more than pass through (builds a nested request, merges a path id into a body, renders
HTML) stays hand-written, and calls the declaration with `rpc.call(OPERATION, actor, request)`.
"""

from __future__ import annotations

import inspect
import re
import types
from typing import Annotated, Any, Union, get_args, get_origin, get_type_hints

import msgspec
from litestar import HttpMethod, Request, route
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, Parameter

from gateway.auth import caller_of
from gateway.dependencies import provide_expected_version, with_expected_version
from shared.operations import EVERYONE, Operation
from shared.rpc import RpcClient

# Litestar's parameter markers, applied to types known only at run time (mypy sees them as plain Any).
_FROM_PATH: Any = FromPath
_FROM_QUERY: Any = FromQuery
_JSON_BODY: Any = JSONBody
_DEPENDENCY: Any = NamedDependency

IF_MATCH = "route_if_match_version"
PATH_PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
# msgspec constraints that Litestar's `Parameter` knows by the same name (validated and documented).
CONSTRAINTS = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "description")


def passthrough(
    method: str,
    path: str,
    operation: Operation[Any, Any],
    *,
    body: bool = False,
    if_match: bool = False,
    status_code: int | None = None,
    summary: str | None = None,
    description: str | None = None,
    handler_name: str | None = None,
) -> HTTPRouteHandler:
    """`handler_name` is the handler's, which names the OpenAPI operation id (the operation's name unless given)."""
    fields = {field.name: field for field in msgspec.structs.fields(operation.request)}
    hints = get_type_hints(operation.request, include_extras=True)
    in_path = PATH_PARAMETER.findall(path)
    if unknown := [name for name in in_path if name not in fields]:
        raise TypeError(f"{operation!r}: {operation.request.__name__} has no field for the path's {unknown}")
    if body and in_path:
        raise TypeError(f"{operation!r}: a body and path parameters together need a route written by hand")
    if if_match and not body:
        raise TypeError(f"{operation!r}: If-Match applies to the body's expected_version")
    parameters: list[tuple[str, Any, Any]] = [
        (name, _FROM_PATH[_plain(hints[name])], inspect.Parameter.empty) for name in in_path
    ]
    if body:
        parameters.append(("data", _JSON_BODY[operation.request], inspect.Parameter.empty))
    else:
        for name, field in fields.items():
            if name not in in_path:
                default = inspect.Parameter.empty if field.required else field.default
                parameters.append((name, _FROM_QUERY[_query_type(hints[name])], default))
    # The caller and the client come from the request itself, not from Litestar's dependency injection: its
    # resolution (a task group for dependencies side by side) was a tenth of the gateway's time for a read.
    parameters.append(("request", Request[Any, Any, Any], inspect.Parameter.empty))
    if if_match:
        # Not `expected_version`: Litestar would take a body field's validation error for a failing dependency
        # of the same name (a 500). A dependency of the route's own, so the app-wide one's name does not matter.
        parameters.append((IF_MATCH, _DEPENDENCY[int | None], inspect.Parameter.empty))
    field_names = [name for name in fields]

    async def handler(**arguments: Any) -> Any:
        http: Request[Any, Any, Any] = arguments["request"]
        actor = caller_of(http).actor
        if body:
            request = arguments["data"]
            if if_match:
                request = with_expected_version(request, arguments[IF_MATCH])
        else:
            request = operation.request(**{name: arguments[name] for name in field_names if name in arguments})
        rpc: RpcClient = http.app.state.rpc
        return await rpc.call(operation, actor, request)

    handler.__name__ = handler.__qualname__ = handler_name or operation.name
    handler.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default) for name, _, default in parameters],
        return_annotation=operation.reply,
    )
    handler.__annotations__ = {name: annotation for name, annotation, _ in parameters} | {"return": operation.reply}
    return route(
        path,
        http_method=HttpMethod(method),
        dependencies={IF_MATCH: Provide(provide_expected_version, sync_to_thread=False)} if if_match else None,
        status_code=status_code,
        summary=summary or operation.summary,
        description=description or _who_may(operation),
    )(handler)


def _who_may(operation: Operation[Any, Any]) -> str | None:
    if operation.roles == EVERYONE:
        return None
    return "For " + ", ".join(sorted(role.value for role in operation.roles)) + "."


def _plain(annotation: Any) -> Any:
    """The type without None and msgspec constraints (for a path parameter: the path's own type decides)."""
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        annotation = members[0] if len(members) == 1 else annotation
    return get_args(annotation)[0] if get_origin(annotation) is Annotated else annotation


def _query_type(annotation: Any, *, constrained: bool = True) -> Any:
    """`Annotated[int, msgspec.Meta(ge=1)] | None` → `Annotated[int | None, Parameter(ge=1)]`: Litestar validates
    and documents `Parameter`'s constraints; msgspec's `Meta` it would not show in the OpenAPI document."""
    optional = False
    if get_origin(annotation) in (Union, types.UnionType):
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        optional = len(members) < len(get_args(annotation))
        if len(members) == 1:
            annotation = members[0]
    constraints: dict[str, Any] = {}
    if get_origin(annotation) is Annotated:
        annotation, *metadata = get_args(annotation)
        for meta in metadata:
            if isinstance(meta, msgspec.Meta):
                constraints |= {key: getattr(meta, key) for key in CONSTRAINTS if getattr(meta, key) is not None}
    if optional:
        annotation = annotation | None
    if constrained and constraints:
        return Annotated[annotation, Parameter(**constraints)]
    return annotation
