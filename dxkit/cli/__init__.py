"""Command line: `dxkit --data-dir DIR <command>`. Every listing takes --json.

Commands are thin: they parse arguments, call Workspace operations and print. Errors a user can
act on (DxError, usage errors) become one translated sentence on stderr, never a traceback.
Help texts are marked with N_ and translated when shown, so `--lang` applies to them too.

One module per command group, named after it: households, people, visits (and followups),
team (and hamlets, members), catalog (indicators, support-items, catalog), demo, backup,
diagnostics. The root
group is in root.py; shared plumbing and output helpers are in common.py.
"""

from __future__ import annotations

# Importing a command module registers its commands on the root group.
from dxkit.cli import (  # noqa: F401
    backup,
    catalog,
    certificates,
    demo,
    diagnostics,
    farm,
    households,
    hub,
    hub_consumers,
    hub_users,
    key,
    lessons,
    people,
    reports,
    sync,
    team,
    visits,
)
from dxkit.cli.common import terminal_progress
from dxkit.cli.root import cli, main

__all__ = ["cli", "main", "terminal_progress"]
