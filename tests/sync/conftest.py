"""Fixtures for the sync tests: the real hub process (one per test, or one per module for tests
that need only a team of their own), and records shaped as on the wire."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

import dxkit.workspace  # noqa: F401  (installs every domain's synced tables)
from dxkit.core.synced import REGISTRY
from tests.support import field_values, postgres
from tests.support.hub_process import (  # noqa: F401  (re-exported for other test modules)
    HubServer,
    dxkit_command,
    free_port,
    start_hub,
)
from tests.support.tools import require_tool

BACKENDS = ("sqlite", "postgresql")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "hub_backends(*names): run the test once per hub database (sqlite, "
                   "postgresql); a module may set HUB_BACKENDS instead")
    config.addinivalue_line(
        "markers", "fresh_hub: the test stops, restarts or revokes on its hub, or reads numbers "
                   "of the whole hub: it gets a hub process of its own (see `hub_for_test`)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests that use the hub's database run on the backends their marker or module
    (HUB_BACKENDS, minus the test names in SQLITE_ONLY) names; the rest, and every test of
    other packages, use SQLite only."""
    if "hub_backend" not in metafunc.fixturenames:
        return
    marker = metafunc.definition.get_closest_marker("hub_backends")
    names = marker.args if marker else getattr(metafunc.module, "HUB_BACKENDS", None)
    if metafunc.function.__name__ in getattr(metafunc.module, "SQLITE_ONLY", ()):
        names = None  # the module says this test gains nothing from a second database
    if names:
        metafunc.parametrize("hub_backend", names)


@pytest.fixture
def hub_backend() -> str:
    return "sqlite"


@pytest.fixture(autouse=True)
def _every_sync_test_knows_its_backend(hub_backend: str) -> None:
    """Puts hub_backend in every sync test's fixture closure, so a module's HUB_BACKENDS also
    reaches tests that only ask for hub_server."""


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[postgres.PostgresCluster]:
    """One throwaway PostgreSQL server for the whole session (started on first use)."""
    require_tool(postgres.available(), "PostgreSQL")
    cluster = postgres.PostgresCluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def hub_db(hub_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """The hub's database for one test: a new SQLite file, or a new PostgreSQL database."""
    if hub_backend == "sqlite":
        yield str(tmp_path / "hub.sqlite")
        return
    assert hub_backend == "postgresql", hub_backend
    cluster: postgres.PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = cluster.create_database()
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def hub_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HubServer]:
    """A real hub process on 127.0.0.1 with its own database (the test's backend), stopped
    by its PID. Test packages that import only this fixture get a SQLite hub."""
    try:
        db = request.getfixturevalue("hub_db")
    except pytest.FixtureLookupError:
        db = str(tmp_path / "hub.sqlite")
    server = start_hub(db, tmp_path / "hub.log")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def _module_hubs(tmp_path_factory: pytest.TempPathFactory
                 ) -> Iterator[dict[str, tuple[HubServer, Callable[[], None]]]]:
    """The hubs `module_hub` started in this module, by backend, with how to drop their
    databases; stopped by PID when the module is done."""
    hubs: dict[str, tuple[HubServer, Callable[[], None]]] = {}
    yield hubs
    for server, drop in hubs.values():
        server.stop()
        with suppress(Exception):
            drop()


@pytest.fixture
def module_hub(hub_backend: str, _module_hubs: dict[str, tuple[HubServer, Callable[[], None]]],
               request: pytest.FixtureRequest,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubServer]:
    """A real hub process shared by the tests of one module on one backend (started on first
    use; starting one is the slow part of most sync tests). Each test makes its own team and
    devices, so the tests still see only their own rows. Not for a test that stops, restarts
    or revokes on its hub, or reads hub-wide numbers (sequence numbers, every device): those
    take `hub_server`."""
    entry = _module_hubs.get(hub_backend)
    if entry is None or not entry[0].running:
        folder = tmp_path_factory.mktemp(f"module_hub_{hub_backend}")
        drop: Callable[[], None] = lambda: None  # noqa: E731
        if hub_backend == "sqlite":
            db = str(folder / "hub.sqlite")
        else:
            cluster: postgres.PostgresCluster = request.getfixturevalue("postgres_cluster")
            name = cluster.create_database("shared")
            db = cluster.url(name)
            drop = lambda: cluster.drop_database(name)  # noqa: E731
        entry = (start_hub(db, folder / "hub.log"), drop)
        _module_hubs[hub_backend] = entry
    yield entry[0]
    assert entry[0].running, "a test stopped the module's shared hub: give it hub_server"


@pytest.fixture
def hub_for_test(request: pytest.FixtureRequest) -> HubServer:
    """The module's shared hub (`module_hub`), or for a test marked fresh_hub a hub process of
    its own (`hub_server`)."""
    if request.node.get_closest_marker("fresh_hub"):
        return request.getfixturevalue("hub_server")
    return request.getfixturevalue("module_hub")


def _hlc(ms: int, device: str, counter: int = 0) -> str:
    return f"{ms:012x}-{counter:04x}-{device}"


@pytest.fixture
def make_record() -> Callable[..., dict[str, Any]]:
    """make_record(table, row_id, device="a1b2c3d4e5f60718", ms=1, **fields): a wire record
    with every registered field (by default a value that fits its declared type: null where
    the field may be null) and, for mutable tables, every clock at ms."""

    def build(table: str, row_id: str, device: str = "a1b2c3d4e5f60718", ms: int = 1,
              clocks: dict[str, int] | None = None, **values: Any) -> dict[str, Any]:
        spec = REGISTRY[table]
        fields = {name: values[name] if name in values
                  else None if kind.nullable else field_values.example(kind)
                  for name, kind in spec.wire_types.items()}
        record: dict[str, Any] = {"table": table, "id": row_id, "kind": spec.kind,
                                  "fields": fields, "device_id": device}
        if spec.kind == "mutable":
            record["clocks"] = {name: _hlc((clocks or {}).get(name, ms), device)
                                for name in fields}
        else:
            record["created_at"] = _hlc(ms, device)
        return record

    return build
