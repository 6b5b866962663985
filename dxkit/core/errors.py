"""Errors a user can act on. Messages are already translated sentences."""

from __future__ import annotations

from collections.abc import Mapping


class DxError(Exception):
    """Base for errors shown to the user as a sentence (never a traceback)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class WorkspaceError(DxError):
    """The workspace cannot be opened or used: not dxkit's, damaged, or too new."""


class NotFound(DxError):
    """A record the user named does not exist."""


class Cancelled(DxError):
    """Long work was cancelled by the user; nothing was applied."""

    def __init__(self, message: str = "Cancelled"):
        super().__init__(message)


class ValidationError(DxError):
    """Input that cannot be stored. `fields` maps a field name to its message for forms."""

    def __init__(self, fields: Mapping[str, str]):
        self.fields = dict(fields)
        super().__init__(" ".join(self.fields.values()))
