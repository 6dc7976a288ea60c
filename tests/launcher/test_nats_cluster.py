"""The embedded three-node NATS cluster (`partnernet up --cluster`) is deploy/'s: the same nats.conf settings, and a
platform client that loses its node goes on with another, credentials and all."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import nats
from nats.aio.client import Client as Nats

from launcher.embedded import EmbeddedNatsCluster
from launcher.embedded.nats_cluster import ClusterNode
from shared.messaging import broker_answers, connect_nats
from shared.nats_callout import cluster_servers
from tests.waiting import PATIENCE_SECONDS, eventually

REPO = Path(__file__).resolve().parents[2]
# The settings that must be the same; addresses, names and paths differ by design.
SHARED_SETTINGS = ("max_file_store", "sync_interval", "lame_duck_duration", "lame_duck_grace_period", "auth_users")


def settings_of(conf: str) -> dict[str, str]:
    found = {}
    for line in conf.splitlines():
        if match := re.match(r"\s*(\w+)\s*:\s*(.+?)\s*(#.*)?$", line):
            found[match.group(1)] = match.group(2).replace('"', "")
    return found


def test_each_node_has_the_settings_of_deploys_nats_conf(tmp_path: Path) -> None:
    deployed = settings_of((REPO / "deploy/compose/nats/nats.conf").read_text())
    node = ClusterNode(name="nats-1", cluster_port=6222, route_ports=(6223, 6224), monitor_port=8222)
    embedded = settings_of(node.config("127.0.0.1", 4222, tmp_path))
    assert {k: embedded.get(k) for k in SHARED_SETTINGS[:-1]} == {k: deployed[k] for k in SHARED_SETTINGS[:-1]}
    assert embedded["sync_interval"] == "always"
    assert "nats-route://127.0.0.1:6223" in node.config("127.0.0.1", 4222, tmp_path)
    cluster = EmbeddedNatsCluster(tmp_path / "cluster")
    cluster.nodes[0].store_dir.mkdir(parents=True)
    config = cluster.nodes[0]._write_config().read_text()  # the whole file a node starts with
    assert settings_of(config)["auth_users"] == deployed["auth_users"]
    assert "auth_callout" in config and "name: partnernet" in config


def test_the_credentials_go_to_every_node_of_nats_url() -> None:
    servers, user, password = cluster_servers("nats://partnernet:s3cret@127.0.0.1:1,nats://127.0.0.1:2")
    assert servers == ["nats://127.0.0.1:1", "nats://127.0.0.1:2"]
    assert (user, password) == ("partnernet", "s3cret")
    assert cluster_servers("nats://127.0.0.1:1") == (["nats://127.0.0.1:1"], None, None)


async def test_a_client_whose_node_dies_goes_on_with_a_node_it_learned_from_the_cluster(tmp_path: Path) -> None:
    """Given only the first node (a seed, as Compose's NATS_URL), the client learns the others from the cluster;
    when its node dies it reconnects to one of them with the platform user (else the callout would refuse it)."""
    with EmbeddedNatsCluster(tmp_path / "cluster") as cluster:
        seed = cluster.nodes[0].url
        servers, user, password = cluster_servers(seed)
        nc = await nats.connect(servers, user=user, password=password, reconnect_time_wait=0.5)
        try:
            js = nc.jetstream(timeout=10)
            await js.add_stream(name="SEED_TEST", subjects=["seed.>"], num_replicas=3)
            await js.publish("seed.before", b"1")
            assert len(nc.discovered_servers) == 2, "the client learned the other two nodes"
            cluster.nodes[0].stop()

            async def published_after() -> bool:
                try:
                    await js.publish("seed.after", b"2")
                    return True
                except Exception:
                    return False

            deadline = asyncio.get_running_loop().time() + 60
            while not await published_after():
                assert asyncio.get_running_loop().time() < deadline, "the client did not go on with another node"
                await asyncio.sleep(0.5)
            assert nc.connected_url is not None and nc.connected_url.port != cluster.nodes[0].port
            assert (await js.stream_info("SEED_TEST")).state.messages == 2
        finally:
            await nc.close()


async def test_a_connection_whose_node_hangs_moves_to_another_by_its_pings(tmp_path: Path) -> None:
    """A node that hangs (SIGSTOP) keeps its clients' connections open; a platform connection notices by the pings it
    leaves unanswered and goes on with another node: within three intervals of its ping (here 1 s; the platform's
    PING_INTERVAL_SECONDS, where nats-py's default of 120 s kept a gateway on a hung node for 4-6 minutes)."""
    with EmbeddedNatsCluster(tmp_path / "cluster") as cluster:
        connection = Nats()
        await connect_nats(connection, cluster.url, name="test-hung-node", ping_interval=1)
        try:
            assert connection.connected_url is not None
            hung = next(node for node in cluster.nodes if node.port == connection.connected_url.port)
            assert hung.pid is not None
            os.kill(hung.pid, signal.SIGSTOP)
            try:
                started = time.monotonic()

                async def moved() -> bool:
                    url = connection.connected_url
                    return connection.is_connected and url is not None and url.port != hung.port

                await eventually(moved, timeout=PATIENCE_SECONDS, what="the connection on another node")
                took = time.monotonic() - started
                assert await broker_answers(connection, 2.0), "the node it moved to answers"
            finally:
                os.kill(hung.pid, signal.SIGCONT)
        finally:
            await connection.close()
    # Stale at the third unanswered ping: ~3 s, then a reconnect (its connect to the hung node times out first at
    # worst); a busy machine's loop adds to it.
    assert took < 3 * 1 + 2 + 5, f"moved after {took:.1f} s"
