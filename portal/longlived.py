"""What a worker keeps for its whole life, left out of the cyclic garbage collector.

A worker of a large portal holds hundreds of thousands of objects that live as long as
it does: its modules and functions, the policy's enforcer (a role graph of every
person's roles: 100,000 objects at 10,000 people) and the dashboard's figures (half a
million at 100,000 requests). Each full pass of the collector walked them all, about
100 to 180 ms on one page request in twenty (BENCHMARKS.md, "List pages at scale").
Frozen (``gc.freeze``), they are left out of its passes; reference counting still frees
whatever of them is let go.
"""

import gc
import threading

_lock = threading.Lock()


def freeze() -> None:
    """Freeze what is alive now. What was frozen before and has since become garbage in a
    cycle (a policy replaced by a new version) is unfrozen and collected first: nothing
    frozen is kept for good."""
    with _lock:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
