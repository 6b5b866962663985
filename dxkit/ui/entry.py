"""The `dxkit` command: with no subcommand it opens the desktop app, otherwise it is the CLI.

It lives in the UI layer because it may start the app; Qt is imported only when it does.
"""

from __future__ import annotations

import sys

from dxkit.cli import cli
from dxkit.core import logs


def main(argv: list[str] | None = None) -> int:
    logs.install_crash_hooks()  # a crash of the app or of a command lands in the log
    return cli.main(args=argv, prog_name="dxkit", standalone_mode=True,
                    obj={"open_app": _open_app}) or 0


def _open_app(data_dir: str | None) -> int:
    from dxkit.ui.app import run_app

    return run_app(data_dir)


if __name__ == "__main__":
    sys.exit(main())
