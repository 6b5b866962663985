"""Tests that need a program from the system (PostgreSQL, Chromium) skip on a developer's
machine without it but fail under CI=true: `.ci/run` installs them, so a missing tool there
is a broken set-up, not a reason to pass."""

from __future__ import annotations

import os

import pytest


def require_tool(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{what} is missing on CI (.ci/run should have installed it)")
    pytest.skip(f"{what} is not installed here")
