"""`Idempotency-Key` on creating requests: a retried POST returns the first answer and creates one thing.

The gateway keeps nothing durable of its own, so the keys live in a NATS JetStream Key-Value bucket
(`gateway_idempotency`, entries expire after 24 h), shared by every gateway replica:
1. the first request with a key creates the entry as `processing` (an atomic create: one wins);
2. it runs, and its answer (below 500) replaces the marker; a 5xx or a crash removes it, so a retry runs again
   (where the broker does not take either at once, hung or cut off, the gateway does it once it does):
   the bucket is the fast path, not the truth. The key also travels with every call to a service
   (`shared.rpc.idempotent_request`), which records it in the same transaction as the change it causes and
   answers a retry with the first reply (shared/idempotency.py): a POST the service committed but whose answer
   was lost (a 503/504, a gateway killed) is applied once however often it is retried;
3. a retry with the same key and the same request gets the stored answer (`Idempotent-Replayed: true`);
   the same key with another body (or path) is a 422 problem; while the first is still running, the retry
   waits up to `wait_seconds` and is then a 409 problem. A marker older than `stale_seconds` (its gateway
   died) is taken over.
Keys are per caller: two callers never see each other's answers.

The bucket keeps nothing in clear that it should not: an answer may hold a participant's name and birth date,
a freshly issued API key, a webhook secret or a participant code, so it is sealed (Fernet) with a key of its
own per entry, derived (HKDF) from the platform's secret and the caller's Idempotency-Key, which the bucket
never holds; the request's fingerprint is a keyed hash for the same reason. The entry's name is a hash of
caller and key. Whoever reads the bucket sees statuses of markers, times and opaque bytes.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
import nats.errors
import nats.js.errors
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from litestar.enums import ScopeType
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from nats.js.kv import KeyValue

from gateway.auth import CALLER, Caller
from shared.errors import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidInput, ServiceUnavailable
from shared.messaging import broker_backed_up
from shared.rpc import idempotent_request

log = logging.getLogger(__name__)

BUCKET = "gateway_idempotency"
TTL_SECONDS = 24 * 3600.0
MAX_KEY_LENGTH = 255
MAX_STORED_BODY = 512 * 1024  # larger answers are not kept (a NATS message is at most 1 MiB by default)
KEPT_HEADERS = {"content-type", "etag", "location", "cache-control"}
# Markers this gateway could not settle at once (remove after a failure, replace by the answer), kept to settle once
# the broker takes calls again: at most this many, tried every so often.
MAX_UNSETTLED_MARKERS = 10_000
UNSETTLED_RETRY_SECONDS = 0.5
UNANSWERED_WATCH_SECONDS = 10.0  # a marker whose making got no answer is looked for this long (`settle_marker`)


class Answer(msgspec.Struct, kw_only=True):
    status: int = 0
    headers: list[tuple[str, str]] = []
    body: bytes = b""


class Record(msgspec.Struct, kw_only=True):
    fingerprint: str  # keyed: a plain hash of a body would let a guess about a person be checked against it
    started: float
    done: bool = False
    answer: str = ""  # the Answer, sealed


@dataclass(frozen=True)
class EntryKeys:
    """The keys of one entry, from the platform's secret and what only the caller knows (its Idempotency-Key)."""

    name: str
    fingerprint_key: bytes
    seal: Fernet

    @classmethod
    def derive(cls, secret: bytes, caller: str, idempotency_key: str) -> EntryKeys:
        material = f"{caller}\x00{idempotency_key}".encode()
        info = b"partnernet idempotency v1\x00" + material
        keys = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=info).derive(secret)
        return cls(
            name=hashlib.sha256(material).hexdigest(),
            fingerprint_key=keys[:32],
            seal=Fernet(base64.urlsafe_b64encode(keys[32:])),
        )

    def fingerprint(self, request: str) -> str:
        return hmac.new(self.fingerprint_key, request.encode(), hashlib.sha256).hexdigest()


@dataclass
class IdempotencyBucket:
    """The Key-Value bucket, opened when the gateway's broker connects."""

    kv: KeyValue | None = None
    connection: Any = None  # the gateway's NATS connection, whose buffer says whether the broker takes calls

    async def open(self, js: Any, *, ttl: float = TTL_SECONDS, replicas: int = 1) -> None:
        """Open the bucket, made with `replicas` copies (PARTNERNET_STREAM_REPLICAS, as every stream)."""
        try:
            self.kv = await js.create_key_value(bucket=BUCKET, ttl=ttl, history=1, replicas=replicas)
        except nats.js.errors.BadRequestError:
            # It exists with another configuration: keep its entries, bring its replicas to the setting.
            stream = await js.stream_info(f"KV_{BUCKET}")
            if stream.config.num_replicas != replicas:
                await js.update_stream(config=dataclasses.replace(stream.config, num_replicas=replicas))
            self.kv = await js.key_value(BUCKET)

    def require(self) -> KeyValue:
        if self.kv is None:
            raise ServiceUnavailable("the idempotency store is not open", service="nats")
        if not self.taking():
            raise ServiceUnavailable("the message broker is not taking requests", service="nats")
        return self.kv

    def taking(self) -> bool:
        """Whether the broker reads what the connection sends: a Key-Value call to one that stopped (paused,
        partitioned) would wait for it with no deadline (shared/messaging.py `broker_backed_up`)."""
        return self.connection is None or not broker_backed_up(self.connection)


class IdempotencyMiddleware(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(
        self,
        bucket: IdempotencyBucket,
        *,
        secret: str,
        max_body_bytes: int,
        wait_seconds: float = 10.0,
        stale_seconds: float = 60.0,
    ) -> None:
        self.bucket = bucket
        self.secret = secret.encode()
        self.max_body_bytes = max_body_bytes
        self.wait_seconds = wait_seconds
        self.stale_seconds = stale_seconds
        # Markers whose removal (the request failed) or answer the broker did not take (hung, cut off): settled by
        # `_settle_unsettled` once it takes calls again, so a client's retry is not refused (409) until the marker is
        # stale: after a node hung for 15 s, the retries met 409s for up to a minute.
        self._unsettled: dict[str, Unsettled] = {}
        self._settler: asyncio.Task[None] | None = None

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        key = _header(scope, b"idempotency-key")
        caller: Caller | None = scope.get("state", {}).get(CALLER)
        if scope.get("method") != "POST" or key is None or caller is None:
            await next_app(scope, receive, send)
            return
        if not 1 <= len(key) <= MAX_KEY_LENGTH:
            raise InvalidInput(f"an Idempotency-Key has 1 to {MAX_KEY_LENGTH} characters")
        body = await read_body(receive, self.max_body_bytes)
        keys = EntryKeys.derive(self.secret, caller.rate_limit_key, key)
        request = request_fingerprint(scope, body)
        fingerprint = keys.fingerprint(request)
        kv = self.bucket.require()
        try:
            revision = await self._claim(kv, keys, fingerprint, send)
        except (nats.errors.Error, OSError) as exc:
            raise ServiceUnavailable("the idempotency store does not answer", service="nats") from exc
        if revision is None:
            return  # answered from the store
        # The key travels with every call the route makes: the service records it with the change it causes, in
        # the change's transaction (shared/idempotency.py), so a retry after a lost answer is not applied twice.
        with idempotent_request(key, request):
            await self._run(kv, keys, revision, fingerprint, scope, replay_receive(body, receive), send, next_app)

    async def _claim(self, kv: KeyValue, keys: EntryKeys, fingerprint: str, send: Send) -> int | None:
        """The revision of our `processing` marker, or None once a stored answer was replayed."""
        deadline = time.monotonic() + self.wait_seconds
        while True:
            marker = msgspec.json.encode(Record(fingerprint=fingerprint, started=time.time()))
            try:
                return await kv.create(keys.name, marker)
            except nats.js.errors.KeyWrongLastSequenceError:
                pass
            except nats.errors.TimeoutError:
                # No answer is not "not made": the stream's leader may have hung with it and apply it on resuming,
                # leaving a marker nobody removes (the retries of a fault test met 409s for a minute). Removed once
                # the broker answers, if it is this very marker.
                self._settle_later(kv, Unsettled(keys.name, revision=None, made=marker))
                raise
            try:
                entry = await kv.get(keys.name)
            except nats.js.errors.KeyNotFoundError:
                continue  # removed meanwhile (the first attempt failed): try to claim again
            record = msgspec.json.decode(entry.value or b"{}", type=Record)
            if record.fingerprint != fingerprint:
                raise IdempotencyKeyReused("this Idempotency-Key was already used with a different request")
            if record.done:
                await replay(open_answer(keys, record), send)
                return None
            if time.time() - record.started > self.stale_seconds:
                try:  # its gateway died while processing: take it over
                    return await kv.update(keys.name, marker, last=entry.revision)
                except nats.js.errors.KeyWrongLastSequenceError:
                    continue
            if time.monotonic() > deadline:
                raise IdempotencyKeyInUse("the first request with this Idempotency-Key has not finished; retry later")
            await asyncio.sleep(0.1)

    async def _run(
        self,
        kv: KeyValue,
        keys: EntryKeys,
        revision: int,
        fingerprint: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        next_app: ASGIApp,
    ) -> None:
        captured = Answer()
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured.status = message["status"]
                captured.headers = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() in KEPT_HEADERS
                ]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
            await send(message)

        try:
            await next_app(scope, receive, capture)
        except BaseException:
            await self._forget(kv, keys.name, revision)
            raise
        captured.body = b"".join(chunks)
        if (
            captured.status >= 500
            or captured.status == 0
            or len(captured.body) > MAX_STORED_BODY
            or _refused_by_the_service(captured)
        ):
            await self._forget(kv, keys.name, revision)
            return
        sealed = keys.seal.encrypt(msgspec.json.encode(captured)).decode()
        record = msgspec.json.encode(Record(fingerprint=fingerprint, started=time.time(), done=True, answer=sealed))
        await self._settle(kv, Unsettled(keys.name, revision, record))

    async def _forget(self, kv: KeyValue, entry_key: str, revision: int) -> None:
        await self._settle(kv, Unsettled(entry_key, revision))

    async def _settle(self, kv: KeyValue, marker: Unsettled) -> None:
        """Remove the marker or store the answer now; where the broker does not take it, once it does."""
        what = "an idempotency marker was not removed" if marker.answer is None else "an answer was not stored"
        if not self.bucket.taking():
            log.warning("%s: the message broker is not taking calls; done once it does", what)
            self._settle_later(kv, marker)
            return
        try:
            await settle_marker(kv, marker)
        except Exception:
            log.warning("%s; tried again shortly", what, exc_info=True)
            self._settle_later(kv, marker)

    def _settle_later(self, kv: KeyValue, marker: Unsettled) -> None:
        if len(self._unsettled) >= MAX_UNSETTLED_MARKERS:  # the oldest is left to go stale
            self._unsettled.pop(next(iter(self._unsettled)))
        self._unsettled[marker.entry_key] = marker
        if self._settler is None or self._settler.done():
            self._settler = asyncio.create_task(self._settle_unsettled(kv), name="idempotency-unsettled-markers")

    async def _settle_unsettled(self, kv: KeyValue) -> None:
        """Settle the kept markers once the broker takes calls again; one kept as long as `stale_seconds` is left to
        whoever takes it over. Ends when none is left."""
        while self._unsettled:
            await asyncio.sleep(UNSETTLED_RETRY_SECONDS)
            for marker in list(self._unsettled.values()):
                if time.monotonic() - marker.kept_at > self.stale_seconds:
                    self._unsettled.pop(marker.entry_key, None)
                    continue
                if not self.bucket.taking():
                    break
                try:
                    settled = await settle_marker(kv, marker)
                except Exception:  # the broker not back yet: the next turn tries again
                    break
                if settled:
                    self._unsettled.pop(marker.entry_key, None)


@dataclass(frozen=True)
class Unsettled:
    """A `processing` marker this gateway made and must settle: remove it (`answer` None: the request failed, a retry
    runs again) or replace it by the request's stored answer. `revision` None: its making was not answered; it is
    removed where the entry is still `made` (these bytes), and otherwise left alone."""

    entry_key: str
    revision: int | None
    answer: bytes | None = None
    made: bytes | None = None
    kept_at: float = dataclasses.field(default_factory=time.monotonic)


# JetStream's answer to a write at a revision the entry has moved on from (nats-py's KeyValue.update turns these into
# KeyWrongLastSequenceError; its delete does not).
WRONG_LAST_SEQUENCE = (10071, 10164)


async def settle_marker(kv: KeyValue, marker: Unsettled) -> bool:
    """Remove or answer a marker at the revision this gateway made; one that moved on (taken over as stale) is another
    request's and stays. Whether it is settled: one whose making got no answer and that is not there (yet) is looked
    for again for `UNANSWERED_WATCH_SECONDS` (a stream's new leader, or the old one resuming, may still apply it)."""
    revision = marker.revision
    if revision is None:  # made or not: only our own marker, as we made it, is removed
        try:
            entry = await kv.get(marker.entry_key)
        except nats.js.errors.KeyNotFoundError:
            return time.monotonic() - marker.kept_at > UNANSWERED_WATCH_SECONDS
        if entry.value != marker.made or entry.revision is None:
            return True
        revision = entry.revision
    try:
        if marker.answer is None:
            await kv.delete(marker.entry_key, last=revision)
        else:
            await kv.update(marker.entry_key, marker.answer, last=revision)
    except nats.js.errors.KeyWrongLastSequenceError:
        pass
    except nats.js.errors.APIError as error:
        if error.err_code not in WRONG_LAST_SEQUENCE:
            raise
    return True


REUSED_PROBLEM = f'"urn:partnernet:problem:{IdempotencyKeyReused.code}"'.encode()


def _refused_by_the_service(answer: Answer) -> bool:
    """The service holds the key for another request (this gateway had forgotten it after a 5xx): the key is
    that request's, so this refusal must not become the key's answer here."""
    return answer.status == IdempotencyKeyReused.status and REUSED_PROBLEM in answer.body


def open_answer(keys: EntryKeys, record: Record) -> Answer:
    try:
        return msgspec.json.decode(keys.seal.decrypt(record.answer.encode()), type=Answer)
    except (InvalidToken, msgspec.DecodeError) as exc:
        # Sealed under another secret (it was rotated): the first request did run, so it must not run again.
        raise IdempotencyKeyReused("the answer to the first request with this Idempotency-Key is gone") from exc


async def replay(answer: Answer, send: Send) -> None:
    headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
    headers += [(b"content-length", str(len(answer.body)).encode()), (b"idempotent-replayed", b"true")]
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})


def request_fingerprint(scope: Scope, body: bytes) -> str:
    """The same request: same path, query and body (JSON compared by content, not by spacing or key order)."""
    try:
        canonical = msgspec.json.encode(msgspec.json.decode(body), order="sorted") if body else b""
    except (msgspec.DecodeError, UnicodeDecodeError):  # not JSON (or not UTF-8): the route says so, with a 4xx
        canonical = body
    digest = hashlib.sha256()
    parts: list[Any] = [scope.get("method", ""), scope.get("path", ""), scope.get("query_string", b"")]
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else bytes(part))
        digest.update(b"\x00")
    digest.update(canonical)
    return digest.hexdigest()


async def read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise RequestEntityTooLarge(f"the body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay_receive(body: bytes, receive: Receive) -> Callable[[], Awaitable[Any]]:
    sent = False

    async def replayed() -> Any:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1").strip())
    return None
