"""Routes that only pass a request through to a service, made from the operation's declaration.

    passthrough("GET", "/{referral_id:uuid}", GET_REFERRAL)                       # path → the request's fields
    passthrough("GET", "/", LIST_REFERRALS)                                        # query → the request's fields
    passthrough("POST", "/", SUBMIT_REFERRAL, body=True, status_code=201)         # the body is the request
    passthrough("PUT", "/policy", SET_REFERRAL_POLICY, body=True, if_match=True)  # If-Match → expected_version
    passthrough("PATCH", "/{partner_id:uuid}", UPDATE_PARTNER, body="changes", if_match=True)
                                                # the body is one field of the request, the path gives the others
    passthrough("PATCH", "/{vacancy_id:uuid}", UPDATE_VACANCY, body=VacancyChanges, if_match=True)
                                                # the body's fields are the request's, beside the path's
    passthrough("POST", "/{partner_id:uuid}/end", CHANGE_PARTNER_STATUS, fixed={"step": PartnerStep.END}, ...)
                                                # a field the route itself sets (a step)
    passthrough("POST", "/{referral_id:uuid}/accept", ACCEPT_REFERRAL, body="command", optional_body=True, ...)
                                                # a generic request (ReferralStep[AcceptReferral]); the body
                                                # may be left out: the command's own defaults

Fields that neither the path, the body nor `fixed` give are query parameters (`query` names the ones offered
when not all are; `query_names` sends a field under another name). The body of a POST that can be left out (its
field has a default, or every field of the body has one: a step without a reason or a version) is optional; a
PUT's or PATCH's body never is. `optional_body` makes a POST's body optional where its field is required but every
field of the body has a default (a referral's step without a note).

The route documents itself as a hand-written one would: its path and query parameters typed with the request
field's constraints (and the gateway's wording for the parameters every list shares: gateway/dependencies.py),
the body's and the reply's schemas, the summary from the declaration, and the problem responses
(gateway/docs.py). `RpcClient.call` checks the caller's role against the declaration before it sends.
A route that does more than pass through (renders HTML, calls several operations) stays hand-written, and calls
the declaration with `rpc.call(OPERATION, actor, request)`.
"""

from __future__ import annotations

import enum
import inspect
import re
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import msgspec
from litestar import HttpMethod, MediaType, Request, Response, route
from litestar.di import NamedDependency, Provide
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath, FromQuery, JSONBody, Parameter, ParameterKwarg

from gateway.auth import caller_of
from gateway.dependencies import (
    CursorQuery,
    LibraryQuery,
    LimitQuery,
    MunicipalityQuery,
    SupportReason,
    provide_expected_version,
    with_expected_version,
)
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


def _documented(annotation: Any) -> dict[str, Any]:
    kwargs = next(meta for meta in get_args(annotation)[1:] if isinstance(meta, ParameterKwarg))
    return {key: getattr(kwargs, key) for key in CONSTRAINTS if getattr(kwargs, key) is not None}


# Parameters every list or credential route shares, worded once for the document (gateway/dependencies.py).
DOCUMENTED = {
    "library": _documented(LibraryQuery),
    "municipality": _documented(MunicipalityQuery),
    "cursor": _documented(CursorQuery),
    "limit": _documented(LimitQuery),
    "support_reason": _documented(SupportReason),
}


def passthrough(
    method: str,
    path: str,
    operation: Operation[Any, Any],
    *,
    body: bool | str | type[msgspec.Struct] = False,
    optional_body: bool = False,
    fixed: Mapping[str, Any] | None = None,
    query: Sequence[str] | None = None,
    query_names: Mapping[str, str] | None = None,
    if_match: bool = False,
    status_code: int | None = None,
    summary: str | None = None,
    description: str | None = None,
    handler_name: str | None = None,
) -> HTTPRouteHandler:
    """`handler_name` is the handler's, which names the OpenAPI operation id (the operation's name unless given)."""
    fields = {field.name: field for field in msgspec.structs.fields(operation.request)}
    hints = get_type_hints(get_origin(operation.request) or operation.request, include_extras=True)
    # A generic request (ReferralStep[AcceptReferral]): its fields' types with the parameters filled in.
    hints |= {name: field.type for name, field in fields.items() if isinstance(hints[name], TypeVar)}
    fixed = dict(fixed or {})
    query_names = dict(query_names or {})
    in_path = PATH_PARAMETER.findall(path)
    if unknown := [name for name in [*in_path, *fixed, *query_names] if name not in fields]:
        raise TypeError(f"{operation!r}: {operation.request.__name__} has no field {unknown}")
    if body is True and in_path:
        raise TypeError(f"{operation!r}: the request is the body; name the body's field to take the path's too")
    body_type, body_fields, make_body = _body(operation, body, fields, hints)
    if optional_body:
        if body_type is None or any(field.required for field in msgspec.structs.fields(body_type)):
            raise TypeError(f"{operation!r}: only a body whose every field has a default can be left out")
        make_body = body_type
    if method.upper() in ("PUT", "PATCH"):
        make_body = None  # a change always says what changes
    if if_match and (body_type is None or "expected_version" not in body_type.__struct_fields__):
        raise TypeError(f"{operation!r}: If-Match applies to the body's expected_version")
    taken = {*in_path, *fixed, *body_fields}
    offered = [name for name in fields if name not in taken] if query is None else list(query)
    if wrong := [name for name in offered if name not in fields or name in taken]:
        raise TypeError(f"{operation!r}: {wrong} cannot be query parameters")
    if missing := [name for name in fields if name not in taken and name not in offered and fields[name].required]:
        raise TypeError(f"{operation!r}: nothing gives the required {missing}")

    parameters: list[tuple[str, Any, Any]] = [
        (name, _FROM_PATH[_parameter_type(hints[name], name, in_path=True)], inspect.Parameter.empty)
        for name in in_path
    ]
    if body_type is not None:
        if make_body is None:
            parameters.append(("data", _JSON_BODY[body_type], inspect.Parameter.empty))
        else:
            parameters.append(("data", _JSON_BODY[body_type | None], None))
    for name in offered:
        default = inspect.Parameter.empty if fields[name].required else fields[name].default
        annotation = _parameter_type(hints[name], name, alias=query_names.get(name))
        parameters.append((name, _FROM_QUERY[annotation], default))
    # The caller and the client come from the request itself, not from Litestar's dependency injection: its
    # resolution (a task group for dependencies side by side) was a tenth of the gateway's time for a read.
    parameters.append(("request", Request[Any, Any, Any], inspect.Parameter.empty))
    if if_match:
        # Not `expected_version`: Litestar would take a body field's validation error for a failing dependency
        # of the same name (a 500). A dependency of the route's own, so the app-wide one's name does not matter.
        parameters.append((IF_MATCH, _DEPENDENCY[int | None], inspect.Parameter.empty))
    plain_names = [*in_path, *offered]
    passes_json = method.upper() == "GET" and status_code is None
    nested = body if isinstance(body, str) else None

    async def handler(**arguments: Any) -> Any:
        http: Request[Any, Any, Any] = arguments["request"]
        actor = caller_of(http).actor
        if body is True:
            request = arguments["data"]
            if if_match:
                request = with_expected_version(request, arguments[IF_MATCH])
        elif body_type is None:
            request = operation.request(**{name: arguments[name] for name in plain_names if name in arguments}, **fixed)
        else:
            data = arguments["data"]
            if data is None and make_body is not None:
                data = make_body()
            if if_match:
                data = with_expected_version(data, arguments[IF_MATCH])
            values = {name: arguments[name] for name in plain_names if name in arguments} | fixed
            if nested is not None:
                values[nested] = data
            else:
                values |= {name: getattr(data, name) for name in body_fields}
            request = operation.request(**values)
        rpc: RpcClient = http.app.state.rpc
        if passes_json:
            # A read's reply goes out as the service encoded it (from the declared type): not decoded into the
            # reply type and encoded again. Its `version` still becomes the ETag (gateway/dependencies.add_etag).
            return Response(await rpc.call_json(operation, actor, request), media_type=MediaType.JSON)
        return await rpc.call(operation, actor, request)

    handler.__name__ = handler.__qualname__ = handler_name or operation.name
    if passes_json and body_type is None and not offered and not fixed and in_path and not if_match:
        # A read whose request is only its path's ids: the gateway's one pass answers it (gateway/fast_reads.py).
        handler.fast_read = operation  # type: ignore[attr-defined]
    if method.upper() == "POST" and body is True and not in_path and not if_match and not fixed:
        # A create whose request is its whole body: the gateway's one pass answers it (gateway/fast_writes.py).
        handler.fast_write = operation  # type: ignore[attr-defined]
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


def step(
    one: str, operation: Operation[Any, Any], taken: enum.StrEnum, summary: str, *, body: str | type[Any]
) -> HTTPRouteHandler:
    """`POST {one}/{step}`: a step the path names (the request's `step`), the body says how (a reason, a note),
    If-Match the version it was based on."""
    return passthrough(
        "POST",
        f"{one}/{taken.value}",
        operation,
        body=body,
        fixed={"step": taken},
        if_match=True,
        status_code=200,
        summary=summary,
        handler_name=taken.value,
    )


def _body(
    operation: Operation[Any, Any],
    body: bool | str | type[msgspec.Struct],
    fields: dict[str, msgspec.structs.FieldInfo],
    hints: dict[str, Any],
) -> tuple[type[msgspec.Struct] | None, list[str], Callable[[], Any] | None]:
    """The body's type, the request fields it gives, and how to make it when it may be left out (else None)."""
    if body is False:
        return None, [], None
    if body is True:
        return operation.request, list(fields), None
    if isinstance(body, str):
        if body not in fields:
            raise TypeError(f"{operation!r}: {operation.request.__name__} has no field {body!r}")
        field = fields[body]
        body_type = _plain(hints[body])
        if field.required:
            return body_type, [body], None
        if field.default_factory is not msgspec.NODEFAULT:
            return body_type, [body], field.default_factory
        return body_type, [body], lambda: field.default
    body_fields = [field.name for field in msgspec.structs.fields(body)]
    if strays := [name for name in body_fields if name not in fields]:
        raise TypeError(f"{operation!r}: {operation.request.__name__} has no field for the body's {strays}")
    optional = all(not field.required for field in msgspec.structs.fields(body))
    return body, body_fields, body if optional else None


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


def _parameter_type(annotation: Any, name: str, *, in_path: bool = False, alias: str | None = None) -> Any:
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
    constraints |= DOCUMENTED.get(name, {})
    if alias is not None:
        constraints["query"] = alias
    if optional and not in_path:
        annotation = annotation | None
    if in_path and annotation is not str:
        constraints.pop("description", None)  # a uuid or a number says what it is by its type
    if constraints:
        return Annotated[annotation, Parameter(**constraints)]
    return annotation
