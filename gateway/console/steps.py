"""The one shape of a console form that changes something: post one operation of a service with the request made
from the form; on a refusal (the service's problem, or a request that does not convert) show the page again with
the problem and what was typed; on success go to where the change shows (303).

Forms about one thing (a purchase, a volunteer, a partner) are a table of `Step`s under one route
(`…/{id}/{step}`), as the purchase's next steps were first; `submit` is the try/refuse/redirect around any call.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
from litestar import Response
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect

from gateway.console.explain import Explanation, explain
from gateway.console.session import Visitor
from shared.errors import InvalidInput, PartnernetError
from shared.operations import Operation
from shared.rpc import RpcClient
from shared.tenancy import Actor, Role

Again = Callable[[Explanation], Awaitable[Response[str]] | Response[str]]
# Where a change leads: an address (303 to it), one made from the reply, or the answer itself made from the reply
# (a page shown once, such as a code or a secret, answered in place of a redirect).
Done = str | Callable[[Any], str | Response[Any] | Awaitable[Response[Any]]]


@dataclass(frozen=True)
class Step:
    """One form about a thing: the service's operation and the request made from the thing's id and the form.
    `roles`, when given, are who may post it (else the route's)."""

    operation: Operation[Any, Any]
    request: Callable[[UUID, FormMultiDict], Any]
    roles: tuple[Role, ...] = ()


def step_of(table: Mapping[str, Step], name: str) -> Step:
    found = table.get(name)
    if found is None:
        raise InvalidInput(f"not a step here: {name[:40]}")
    return found


async def take(
    rpc: RpcClient, actor: Actor, table: Mapping[str, Step], name: str, subject: UUID, form: FormMultiDict
) -> Any:
    """Post the step `name` of `table` about `subject`; an unknown step is invalid input (shown on the page)."""
    found = step_of(table, name)
    return await rpc.call(found.operation, actor, found.request(subject, form))


async def submit(visitor: Visitor, call: Callable[[], Awaitable[Any]], *, done: Done, again: Again) -> Response[Any]:
    """Make the request and post it (`call`, so that a form that does not convert is refused here too); refused, the
    page again with the problem (its status); else 303 to `done`, or to where the reply says for something made, or
    the answer `done` makes of the reply."""
    try:
        reply = await call()
    except (PartnernetError, msgspec.ValidationError) as exc:
        shown = again(explain(visitor.lang, exc))
        return await shown if inspect.isawaitable(shown) else shown
    target = done if isinstance(done, str) else done(reply)
    if isinstance(target, str):
        return Redirect(target, status_code=303)
    return await target if inspect.isawaitable(target) else target
