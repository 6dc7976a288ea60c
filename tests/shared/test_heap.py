"""A process's start-up heap is frozen out of later collections (shared/heap.py).

Run in an interpreter of its own, as the gateway and services are: in the test process other threads (a
platform's relays, the embedded servers' readers) free frozen objects and make garbage at any moment, so the
freeze count and a collection's result there say nothing about freeze_after_start (a full run failed on it).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROBE = textwrap.dedent(
    """
    import gc, weakref
    from shared.heap import freeze_after_start

    class Cycle:
        def __init__(self):
            self.me = self

    kept = [object() for _ in range(1000)]
    garbage = Cycle()
    gone = weakref.ref(garbage)
    del garbage
    freeze_after_start()
    frozen = gc.get_freeze_count()
    print(frozen >= len(kept), gone() is None, gc.collect(), gc.get_freeze_count() == frozen)
    """
)


def test_what_start_up_built_is_frozen_and_garbage_is_collected_first() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    kept_frozen, cycle_collected, collected_after, count_unchanged = done.stdout.split()
    assert kept_frozen == "True", "what start-up built is frozen"
    assert cycle_collected == "True", "cyclic garbage was collected, not frozen"
    assert (collected_after, count_unchanged) == ("0", "True"), "a full collection leaves the frozen objects alone"
