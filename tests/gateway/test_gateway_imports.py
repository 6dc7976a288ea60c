"""The gateway process loads no database library and no FastStream: it only calls services over NATS, and each of
them held memory for nothing (SQLAlchemy, asyncpg, FastStream: ~30 MB of the gateway's 148 MB at
rest, against the aim of under 150 MB)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# What `partnernet gateway` runs up to serving: the entry module and the app it builds (routes, OpenAPI document).
PROBE = """
import json, sys
from gateway.docs import complete_openapi
from gateway.server import create_app, serve
from shared.settings import Settings
app = create_app(Settings.from_env())
complete_openapi(app)
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""

SERVICE_SIDE = {"sqlalchemy", "asyncpg", "faststream"}


def test_the_gateway_loads_no_database_library_and_no_faststream(tmp_path: Path) -> None:
    env = {"PARTNERNET_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True, env=env
    )
    loaded = set(json.loads(done.stdout.splitlines()[-1]))
    assert "litestar" in loaded and "nats" in loaded  # the probe did build the gateway
    assert loaded & SERVICE_SIDE == set()
