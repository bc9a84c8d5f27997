"""Fixtures shared by the backend tests."""

import pytest

from ndflow.backend import parallel


@pytest.fixture
def threads():
    """`parallel.set_threads`, with the thread count restored afterwards."""
    before = parallel.requested_threads()
    yield parallel.set_threads
    parallel.set_threads(before)
