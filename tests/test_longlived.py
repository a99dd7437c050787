"""What a worker keeps for its life is left out of the cyclic collector (portal/longlived.py):
a large policy once built, a large portal's dashboard figures once counted; and nothing
frozen is kept for good once it has become garbage."""

import gc
import weakref

import pytest

from portal import longlived
from portal.db import session_scope
from portal.policy import store
from portal.policy.store import bump_version, store_for


@pytest.fixture(autouse=True)
def _unfrozen():
    yield
    gc.unfreeze()  # the rest of the run collects as before


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_garbage_frozen_before_is_collected_at_the_next_freeze():
    cycle = Cycle()
    gone = weakref.ref(cycle)
    longlived.freeze()
    assert gc.get_freeze_count() > 0
    del cycle
    gc.collect()
    assert gone() is not None, "frozen: the collector leaves it alone"
    longlived.freeze()
    assert gone() is None, "unfrozen, collected, and only then the rest frozen again"


def test_a_large_policy_is_frozen_once_built_a_small_one_is_not(app, monkeypatch):
    def frozen_by_a_rebuild() -> int:
        gc.unfreeze()
        with app.app_context(), session_scope() as session:
            bump_version(session)
        with app.app_context(), session_scope() as session:
            built = store_for(session).builds
            store_for(session).current(session)
            assert store_for(session).builds == built + 1
        return gc.get_freeze_count()

    assert frozen_by_a_rebuild() == 0  # the tests' policy: far below FREEZE_ABOVE lines
    monkeypatch.setattr(store, "FREEZE_ABOVE", 1)
    assert frozen_by_a_rebuild() > 0
