"""Pause Python's cyclic garbage collector around a render or a signature.

WeasyPrint and asn1crypto (under pyHanko) allocate hundreds of thousands of small
objects in a few dozen milliseconds; the collector's passes over them then cost
5–10% of the work while reference counting frees nearly all of it anyway. Pausing
for that short stretch is measured in tests/benchmarks/bench_agreements.py. The
previous state is restored, so a process that turned collection off keeps it off.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
