"""How text looks: one text size the whole app follows, and hint colours people can read.

Every size in the app is relative to the application font (`scaled_font`), so the text-size
setting scales every page and dialog alike; fixed point sizes in style sheets would not
follow it. Hint and placeholder colours keep at least 4.5:1 contrast on white (WCAG AA).
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from dxkit.workspace import Workspace

TEXT_SIZES = (100, 115, 130, 150)  # percent of the system's own text size
SETTING = "text_size"
HINT_COLOUR = "#555555"  # 7.5:1 on white
HINT_STYLE = f"color: {HINT_COLOUR};"
PLACEHOLDER_COLOUR = "#666666"  # 5.7:1 on white; Qt's default grey is about 3.5:1

_system_point_size: float | None = None


def text_size(ws: Workspace) -> int:
    try:
        chosen = int(ws.settings.get(SETTING, "100") or 100)
    except ValueError:
        return 100
    return chosen if chosen in TEXT_SIZES else 100


def apply(ws: Workspace) -> None:
    """Set the application font to the chosen size and readable placeholder text."""
    global _system_point_size
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    font = app.font()
    if _system_point_size is None:
        _system_point_size = font.pointSizeF() if font.pointSizeF() > 0 else 9.0
    font.setPointSizeF(_system_point_size * text_size(ws) / 100)
    app.setFont(font)
    # Qt posts the font change to existing widgets; deliver it now, so pages built right
    # after this inherit the new size from their parents.
    QApplication.sendPostedEvents()
    palette = app.palette()
    palette.setColor(QPalette.ColorRole.PlaceholderText, QColor(PLACEHOLDER_COLOUR))
    app.setPalette(palette)


def scaled_font(widget: QWidget, scale: float = 1.0, bold: bool = False) -> QFont:
    """The application font times `scale`, set on `widget` (titles, headings, summaries)."""
    font = QFont(QApplication.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(bold)
    widget.setFont(font)
    return font


def contrast(foreground: str, background: str = "#ffffff") -> float:
    """The WCAG contrast ratio of two colours."""
    def luminance(name: str) -> float:
        colour = QColor(name)
        channels = []
        for value in (colour.redF(), colour.greenF(), colour.blueF()):
            channels.append(value / 12.92 if value <= 0.03928
                            else ((value + 0.055) / 1.055) ** 2.4)
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)
