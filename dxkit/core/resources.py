"""Files shipped inside the package (translations, fonts, data), found with importlib.resources.

A wheel, an installer bundle and a source checkout all carry them beside the code, so nothing
climbs parent folders. A missing file is a broken install: say so, never fall back silently.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from dxkit.core.errors import DxError

RESOURCES_PACKAGE = "dxkit.resources"
_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


class MissingResource(DxError):
    """A file the package should ship is absent: the installation is incomplete."""


def shipped(*parts: str, package: str = RESOURCES_PACKAGE) -> Traversable:
    """The shipped file or folder at `parts` under `package`; MissingResource if absent."""
    found = resources.files(package).joinpath(*parts)
    if not (found.is_file() or found.is_dir()):
        raise MissingResource(
            f"dxkit is incompletely installed: {package.replace('.', '/')}/{'/'.join(parts)} "
            "is missing. "
            "Reinstall dxkit.")
    return found


def shipped_path(*parts: str, package: str = RESOURCES_PACKAGE) -> Path:
    """A real file-system path for libraries that want one (reportlab's TTFont); extracted
    once for the life of the process when the package lives in a zip."""
    return _extracted.enter_context(resources.as_file(shipped(*parts, package=package)))
