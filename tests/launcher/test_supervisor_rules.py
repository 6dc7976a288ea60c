"""The supervisor's rules, on a clock the test moves: restart with doubling delays, report why, give up only
after repeated failures in a short time, and never touch the components that run."""

from __future__ import annotations

from launcher.supervisor import Supervisor, describe_exit


class Components:
    def __init__(self, *names: str) -> None:
        self.running = dict.fromkeys(names, True)
        self.starts: list[str] = []
        self.fail_to_start: set[str] = set()

    def components(self) -> list[str]:
        return list(self.running)

    def exit_reason(self, name: str) -> str | None:
        return None if self.running[name] else "killed by SIGKILL"

    def restart(self, name: str) -> None:
        self.starts.append(name)
        if name in self.fail_to_start:
            raise RuntimeError("port in use")
        self.running[name] = True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_component_that_exits_is_started_again_after_a_delay_that_doubles() -> None:
    platform, clock = Components("nats", "referrals", "gateway"), Clock()
    reports: list[str] = []
    supervisor = Supervisor(platform, report=reports.append, clock=clock, first_delay=1.0, max_restarts=5)
    platform.running["referrals"] = False
    supervisor.check()
    assert reports == ["referrals killed by SIGKILL; starting it again in 1s"] and platform.starts == []
    clock.now = 1.0
    supervisor.check()
    assert platform.starts == ["referrals"] and reports[-1] == "referrals started again"
    platform.running["referrals"] = False  # again, soon after: twice the delay
    clock.now = 2.0
    supervisor.check()
    assert reports[-1] == "referrals killed by SIGKILL; starting it again in 2s"
    clock.now = 3.9
    supervisor.check()
    assert platform.starts == ["referrals"]
    clock.now = 4.0
    supervisor.check()
    assert platform.starts == ["referrals", "referrals"]
    assert platform.running == {"nats": True, "referrals": True, "gateway": True}


def test_it_gives_up_after_repeated_failures_in_a_short_time_and_the_rest_keep_running() -> None:
    platform, clock = Components("volunteers", "gateway"), Clock()
    reports: list[str] = []
    supervisor = Supervisor(platform, report=reports.append, clock=clock, max_restarts=3, window_seconds=60)
    for _ in range(3):
        platform.running["volunteers"] = False
        supervisor.check()
        clock.now += 10
        supervisor.check()
    platform.running["volunteers"] = False
    supervisor.check()
    assert supervisor.given_up == ["volunteers"]
    assert "giving up on it" in reports[-1] and "4 times within 60s" in reports[-1]
    clock.now += 100
    supervisor.check()
    assert platform.starts == ["volunteers"] * 3 and platform.running["gateway"]


def test_restarts_long_ago_do_not_count_towards_giving_up() -> None:
    platform, clock = Components("courses"), Clock()
    reports: list[str] = []
    supervisor = Supervisor(platform, report=reports.append, clock=clock, max_restarts=2, window_seconds=60)
    for _ in range(5):  # once every five minutes: never "repeatedly in a short time"
        platform.running["courses"] = False
        supervisor.check()
        clock.now += 1
        supervisor.check()
        clock.now += 300
    assert supervisor.given_up == [] and platform.starts == ["courses"] * 5
    assert all("in 1s" in line for line in reports if "starting it again" in line)


def test_a_start_that_fails_is_tried_again_later() -> None:
    platform, clock = Components("postgres"), Clock()
    reports: list[str] = []
    supervisor = Supervisor(platform, report=reports.append, clock=clock, first_delay=1.0)
    platform.running["postgres"] = False
    platform.fail_to_start.add("postgres")
    supervisor.check()
    clock.now = 1.0
    supervisor.check()
    assert reports[-1] == "postgres did not start again: RuntimeError('port in use')"
    platform.fail_to_start.clear()
    supervisor.check()
    assert reports[-1] == "postgres killed by SIGKILL; starting it again in 2s"
    clock.now = 3.0
    supervisor.check()
    assert platform.running["postgres"] and reports[-1] == "postgres started again"


def test_an_exit_is_described_by_its_code_or_signal() -> None:
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(-15) == "killed by SIGTERM"
    assert describe_exit(3) == "exited with code 3"
