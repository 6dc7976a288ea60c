"""On a three-node NATS cluster everything the platform keeps in JetStream has PARTNERNET_STREAM_REPLICAS copies:
the event streams, the dead letters, the partners' feeds and the gateway's idempotency bucket."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import nats
import nats.js.errors

from gateway.idempotency import BUCKET
from shared.messaging import STREAMS
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
