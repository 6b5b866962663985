"""The composition root: the kernel's Workspace with every domain dxkit ships.

This is the one place that names the domains. The UI, the CLI, sync, tests and benchmarks open
workspaces through `dxkit.workspace.Workspace`; domain code sees only the kernel and the
domains it declares (see docs/architecture.md).
"""

from __future__ import annotations

from typing import ClassVar

from dxkit.core.domain import Domain
from dxkit.core.workspace import default_path, demo_path, install
from dxkit.farm.domain import DOMAIN as FARM
from dxkit.farm.workspace import FarmWorkspace
from dxkit.households.domain import DOMAIN as HOUSEHOLDS
from dxkit.lessons.domain import DOMAIN as LESSONS
from dxkit.lessons.workspace import LessonsWorkspace

# In dependency order: a domain's commit hooks and open hooks run after those it builds on.
DOMAINS: tuple[Domain, ...] = (HOUSEHOLDS, FARM, LESSONS)

# Sync (the engine, bundles and the hub) needs the tables without opening a workspace.
install(DOMAINS)


class Workspace(FarmWorkspace, LessonsWorkspace):
    domains: ClassVar[tuple[Domain, ...]] = DOMAINS


__all__ = ["DOMAINS", "Workspace", "default_path", "demo_path"]
