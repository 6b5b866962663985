"""The label engine's own error: a sentence the user can act on."""

from __future__ import annotations

from dxkit.core.errors import DxError


class LabelError(DxError):
    """Labels cannot be made or checked as asked (payload too long, not a PDF, bad position)."""
