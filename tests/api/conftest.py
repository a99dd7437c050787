"""The ``api`` fixture: the people of tests/flows.py calling the API (see tests/apis.py)."""

import pytest

from apis import Api


@pytest.fixture
def api(app, flow) -> Api:
    return Api(app)
