"""A process's start-up heap is frozen out of later collections (shared/heap.py)."""

from __future__ import annotations

import gc
import weakref

from shared.heap import freeze_after_start


def test_what_start_up_built_is_frozen_and_garbage_is_collected_first() -> None:
    class Cycle:
        def __init__(self) -> None:
            self.me = self

    kept = [object() for _ in range(1000)]
    garbage = Cycle()
    gone = weakref.ref(garbage)
    del garbage
    try:
        freeze_after_start()
        frozen = gc.get_freeze_count()
        assert frozen >= len(kept)
        assert gone() is None, "cyclic garbage was collected, not frozen"
        assert gc.collect() == 0 and gc.get_freeze_count() == frozen, "a full collection leaves them alone"
    finally:
        gc.unfreeze()  # this test process goes on making and dropping platforms
