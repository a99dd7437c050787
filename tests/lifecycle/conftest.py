"""The ``api`` fixture, and requests brought to active with conditions to owe."""

import pytest

from apis import Api
from obligated import Obligated


@pytest.fixture
def api(app, flow) -> Api:
    return Api(app)


@pytest.fixture
def owed(app, flow, make_user) -> Obligated:
    return Obligated(app, flow, make_user)
