"""Fixtures for the remote tests; the servers and pictures themselves are in tests/support/remote.py."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from tests.support.remote import Clock, RawServer, Scripted, make_app, serving


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def server(tmp_path, clock):
    """Our server on 127.0.0.1, with a clock the test can move."""
    with serving(make_app(tmp_path, clock)) as origin:
        yield origin


@pytest.fixture
def start():
    """start(app) -> origin, for tests that need their own app; all stopped at teardown."""
    with ExitStack() as stack:
        yield lambda app: stack.enter_context(serving(app))


@pytest.fixture
def scripted(start):
    """A fake provider whose answers the test scripts."""
    fake = Scripted()
    fake.origin = start(fake)
    return fake


@pytest.fixture
def raw_server():
    """raw_server("drop" | "hang"): a TCP server that never answers properly."""
    servers = []

    def make(mode):
        servers.append(RawServer(mode))
        return servers[-1]

    yield make
    for made in servers:
        made.close()
