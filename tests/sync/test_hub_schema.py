"""Schemathesis against the running hub: every operation of the OpenAPI document the hub
serves, fuzzed with valid and invalid inputs, must never answer 5xx and never break the
document (status codes, content types, headers, response bodies). Issue 3 §6.

The operations are driven by hand (hypothesis over each operation's strategy) rather than
with `schemathesis.pytest.from_fixture`, whose lazy loader relies on a private pytest
attribute that pytest 9 no longer has.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from dxkit.core.synced import REGISTRY
from dxkit.sync.hub.app import openapi_document
from tests.sync.conftest import HubServer, start_hub

EXAMPLES_PER_OPERATION = 40  # the devices' sync protocol (/v1/)
# The provincial API's few query parameters, and the officials' pages (which answer a
# request without a session with the login page before they read anything), need fewer.
EXAMPLES_BY_PREFIX = {"/v1/": EXAMPLES_PER_OPERATION, "/api/": 25}
EXAMPLES_OTHERWISE = 8
API_PREFIX = "/api/"  # the provincial systems' operations take a consumer's token
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@pytest.fixture(scope="module")
def enrolled_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[HubServer, str]]:
    """A hub with one team and one enrolled device; yields the hub and the device's token."""
    folder: Path = tmp_path_factory.mktemp("schema_hub")
    hub = start_hub(folder / "hub.sqlite", folder / "hub.log")
    try:
        team = hub.admin("team", "add", "--province", "82", "--commune", "28249",
                         "--hamlet", "Ấp Mỹ Hưng")
        code = hub.admin("enroll-code", "--team", str(team["team_id"]))["code"]
        answer = httpx.post(f"{hub.url}/v1/enroll",
                            json={"code": code, "device_name": "schemathesis"}, timeout=10)
        answer.raise_for_status()
        yield hub, answer.json()["token"]
    finally:
        hub.stop()


@pytest.fixture(scope="module")
def consumer_token(enrolled_hub: tuple[HubServer, str]) -> str:
    """A consuming system's token for the provincial API (hub/consumers.py)."""
    return str(enrolled_hub[0].admin("consumers", "add", "schemathesis", "--json")["token"])


def hub_schema(hub: HubServer, token: str) -> schemathesis.BaseSchema:
    """The document as the running hub serves it, aimed at that hub with the device token."""
    schema = schemathesis.openapi.from_url(f"{hub.url}/v1/openapi.json", timeout=10)
    schema.config.update(base_url=hub.url, headers={"Authorization": f"Bearer {token}"})
    return schema


def fuzz(operation: schemathesis.APIOperation, mode: schemathesis.GenerationMode,
         sent: list[int]) -> None:
    """Run every default check on generated cases of one operation (EXAMPLES_BY_PREFIX)."""
    examples = next((count for prefix, count in EXAMPLES_BY_PREFIX.items()
                     if operation.path.startswith(prefix)), EXAMPLES_OTHERWISE)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(max_examples=examples, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: schemathesis.Case) -> None:
        sent.append(1)
        case.call_and_validate(timeout=10)

    run()


def modes_for(operation: schemathesis.APIOperation) -> tuple[schemathesis.GenerationMode, ...]:
    """Invalid inputs only exist for an operation that takes some (health takes none; the
    bearer token alone, as GET /v1/team-key takes, leaves nothing to make invalid)."""
    headers = [h for h in operation.headers if h.name.lower() != "authorization"]
    takes_input = any(len(part) for part in (operation.query, operation.body, headers,
                                            operation.path_parameters, operation.cookies))
    return MODES if takes_input else MODES[:1]


def test_hub_honours_its_openapi_document(enrolled_hub: tuple[HubServer, str]) -> None:
    schema = hub_schema(*enrolled_hub)
    operations = [result.ok() for result in schema.get_all_operations()
                  if not result.ok().path.startswith(API_PREFIX)]
    assert {op.label for op in operations} >= {"POST /v1/enroll", "POST /v1/push",
                                               "GET /v1/pull", "GET /v1/health"}
    check_operations(operations)


def test_the_provincial_api_honours_the_document(enrolled_hub: tuple[HubServer, str],
                                                 consumer_token: str) -> None:
    """The /api/v1/ operations, with a consuming system's token (hub/api.py)."""
    schema = hub_schema(enrolled_hub[0], consumer_token)
    operations = [result.ok() for result in schema.get_all_operations()
                  if result.ok().path.startswith(API_PREFIX)]
    assert {op.label for op in operations} == {
        "GET /api/v1/indicators", "GET /api/v1/activity", "GET /api/v1/trend",
        "GET /api/v1/teams", "GET /api/v1/sync-status"}
    check_operations(operations)


def check_operations(operations: list[schemathesis.APIOperation]) -> None:
    failures: list[str] = []
    sent: list[int] = []
    for operation in operations:
        for mode in modes_for(operation):
            try:
                fuzz(operation, mode, sent)
            # Schemathesis raises a FailureGroup (a BaseExceptionGroup); gather every
            # operation's failures and report them together.
            except (Exception, BaseExceptionGroup) as exc:
                failures.append(f"--- {operation.label} ({mode.value}) ---\n{exc}")
    print(f"schemathesis {schemathesis.__version__}: {len(sent)} requests over "
          f"{len(operations)} operations: {[op.label for op in operations]}")
    assert not failures, "\n\n".join(failures)


def test_pull_table_enum_lists_every_synced_table() -> None:
    pull = json.loads(openapi_document())["paths"]["/v1/pull"]["get"]
    table = next(param for param in pull["parameters"] if param["name"] == "table")
    assert table["schema"]["enum"] == list(REGISTRY)


@pytest.mark.parametrize("after", ["9223372036854775808", "²", "-1", "1.5"])
def test_pull_refuses_a_cursor_sqlite_cannot_hold(enrolled_hub: tuple[HubServer, str],
                                                   after: str) -> None:
    """Found by schemathesis: a cursor past SQLite's INTEGER, or a digit int() refuses,
    answered 500."""
    hub, token = enrolled_hub
    answer = httpx.get(f"{hub.url}/v1/pull", params={"table": "households", "after": after},
                       headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 400
    assert answer.json()["error"] == "bad_request"
