"""Entry script for the frozen app: both executables run it.

`dxkit` (windowed on Windows) and `dxkit-cli` (console) differ only in whether Windows gives
them a console; like the `dxkit` command, no arguments opens the app and anything else is the CLI.
"""

import sys

from dxkit.ui.entry import main

if __name__ == "__main__":
    sys.exit(main())
