"""On a three-node NATS cluster everything the platform keeps in JetStream has PARTNERNET_STREAM_REPLICAS copies:
the event streams, the dead letters, the partners' feeds and the gateway's idempotency bucket."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nats
import nats.js.errors
from nats.js.api import StreamConfig
from opentelemetry import trace

from gateway.idempotency import BUCKET
from shared.messaging import STREAMS
from shared.relay import OrderedPublisher, Publication
from tests.faults.stack import fault_settings, gateway, start_services, stop_services
from tests.servers import NatsCluster, jetstream_ready
from tests.waiting import eventually


async def replicas_of(nats_url: str) -> dict[str, int]:
    nc = await nats.connect(nats_url)
    try:
        return {str(info.config.name): info.config.num_replicas or 1 for info in await nc.jetstream().streams_info()}
    finally:
        await nc.close()


async def test_every_stream_and_the_idempotency_bucket_follow_the_replica_setting(
    tmp_path: Path, database_url: str
) -> None:
    with NatsCluster(tmp_path / "cluster") as cluster:
        await eventually(lambda: jetstream_ready(cluster.url), timeout=30, what="the cluster's JetStream quorum")
        # A bucket left by an earlier version with one copy: the gateway brings it to the setting.
        nc = await nats.connect(cluster.url)
        try:
            kv = await nc.jetstream().create_key_value(bucket=BUCKET, history=1, replicas=1)

            async def kept_put() -> bool:
                # A stream just made on one node may not answer a publish through another at once (its subjects'
                # interest reaches the rest of the cluster a moment later: "no responders").
                try:
                    await kv.put("kept", b"an entry made before")
                except nats.js.errors.NoStreamResponseError:
                    return False
                return True

            await eventually(kept_put, timeout=30, what="the new bucket taking its first entry")
        finally:
            await nc.close()
        settings = fault_settings(cluster.url, database_url, tmp_path / "data", stream_replicas=3)
        services = await start_services(settings, ["partners"])
        try:
            async with gateway(dataclasses.replace(settings)):
                replicas = await replicas_of(cluster.url)
        finally:
            await stop_services(services.values())
        nc = await nats.connect(cluster.url)
        try:
            kept = await (await nc.jetstream().key_value(BUCKET)).get("kept")
        finally:
            await nc.close()
    assert replicas == {**{spec.name: 3 for spec in STREAMS}, f"KV_{BUCKET}": 3}
    assert kept.value == b"an entry made before"


async def test_on_a_replicated_stream_a_publish_failed_mid_batch_lets_nothing_overtake_and_the_stream_goes_on(
    tmp_path: Path,
) -> None:
    """The relays' ordered publishing (shared/relay.py OrderedPublisher) on deploy/'s three copies of a stream: a
    publish that fails in the middle of a batch stops the rest of it, and the stream keeps its leader and takes the
    rest sent again, in order. (Each message naming its predecessor's id, as on a stream of one copy, stopped a
    replicated stream for good here: nats-server checks that name as each replica applies the message, and the
    mismatch left every node without a leader until they restarted; the rest sent again timed out.)"""
    with NatsCluster(tmp_path / "cluster") as cluster:
        await eventually(lambda: jetstream_ready(cluster.url), timeout=30, what="the cluster's JetStream quorum")
        nc = await nats.connect(cluster.url)
        try:
            js = nc.jetstream(timeout=5)

            async def made() -> bool:
                try:  # three copies need three peers: the third may join a moment after the quorum
                    await js.add_stream(StreamConfig(name="ORDERED", subjects=["ordered.>"], num_replicas=3))
                except nats.js.errors.BadRequestError:
                    return False
                return True

            await eventually(made, timeout=30, what="a stream of three copies")
            publisher = OrderedPublisher(lambda: nc, "ORDERED", trace.get_tracer(__name__), timeout=5.0)

            def publication(number: int, subject: str = "ordered.event") -> Publication:
                return Publication(subject, b"{}", f"event-{number}", {}, {}, "publish", {})

            async def stored() -> list[str]:
                info = await js.stream_info("ORDERED")
                messages = [await js.get_msg("ORDERED", seq) for seq in range(1, info.state.last_seq + 1)]
                return [message.headers["Nats-Msg-Id"] for message in messages if message.headers]

            async def published_once() -> bool:
                # The new stream's subjects reach the node we publish through a moment after it is made.
                return await publisher.publish([publication(0)]) == [None]

            await eventually(published_once, timeout=30, what="the new stream taking its first publish")
            # The fifth's subject is in no stream: JetStream refuses it, as it would a message it cannot store.
            batch = [publication(n) for n in range(1, 5)] + [publication(5, "nowhere.event")]
            batch += [publication(n) for n in range(6, 11)]
            outcomes = await publisher.publish(batch)
            assert outcomes[:4] == [None] * 4
            assert all(outcome is not None for outcome in outcomes[4:]), "nothing after the failed one is stored"
            assert await stored() == [f"event-{n}" for n in range(5)]

            # Sent again with the fifth put right, the rest goes on in order, and a copy the stream has (a batch
            # sent again after its acks were lost) is acknowledged, not stored twice.
            again = [publication(n) for n in range(3, 11)]
            assert await publisher.publish(again) == [None] * len(again)
            assert await publisher.publish([publication(10), publication(11)]) == [None, None]
            assert await stored() == [f"event-{n}" for n in range(12)]
            info = await js.stream_info("ORDERED")
            assert info.cluster is not None and info.cluster.leader, "the stream has its leader"
        finally:
            await nc.close()
