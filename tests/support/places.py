"""Places for tests that share a hub process (tests/sync/conftest.py `module_hub`): a commune
team reads every hamlet of its commune and two teams of one hamlet share its rows, so each
test that makes teams there takes a commune no other test of this process has used."""

from __future__ import annotations

from collections.abc import Iterator

from dxkit.core.places import communes, provinces

DONG_THAP = 82


def _places() -> Iterator[tuple[str, str]]:
    first = [unit for unit in provinces() if unit.code == DONG_THAP]
    others = [unit for unit in provinces() if unit.code != DONG_THAP]
    for province in (*first, *others):
        for commune in communes(province.code):
            yield str(province.code), str(commune.code)


_UNUSED = _places()


def unique_commune() -> tuple[str, str]:
    """(province code, commune code) of a commune no earlier call in this process gave."""
    return next(_UNUSED)


__all__ = ["unique_commune"]


def ensure_hamlet(ws, name: str) -> str:  # ws: a dxkit Workspace
    """The id of the workspace's hamlet `name`, added if it has none (a laptop enrolled in
    that hamlet's team got it with its enrollment)."""
    from dxkit.core.errors import NotFound

    try:
        return str(ws.catalog.hamlet(name).id)
    except NotFound:
        return str(ws.catalog.add_hamlet(name).value.id)
