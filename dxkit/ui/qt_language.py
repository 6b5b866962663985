"""Qt's own texts in the user's language: standard buttons, text-field menus, message-box
details, the print preview, calendar month and day names.

Qt ships no Vietnamese catalog, so its strings are translated from dxkit's own catalogs
(resources/translations/vi/qt.po, one msgctxt per Qt class), which keeps one format and one
place for every word the user reads. The translator asks for the current language on every
call, so a language chosen in Settings applies to every window opened afterwards.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from dxkit.core import i18n

_QT_LOCALES = {
    "vi": QLocale(QLocale.Language.Vietnamese, QLocale.Country.Vietnam),
    "en": QLocale(QLocale.Language.English, QLocale.Country.UnitedStates),
}


class CatalogTranslator(QTranslator):
    def translate(self, context: str, source: str, disambiguation: str | None = None,
                  n: int = -1) -> str:
        # Returning the source itself means "not translated" (an empty string would blank
        # the button: PySide cannot return Qt's null string).
        return i18n.pgettext(context, source)

    def isEmpty(self) -> bool:
        return False


_translator: CatalogTranslator | None = None


def follow_language() -> None:
    """Install the translator once and set Qt's default locale (calendar names, number and
    date formats of Qt's editors) to the current language."""
    global _translator
    app = QCoreApplication.instance()
    if app is not None and _translator is None:
        _translator = CatalogTranslator(app)
        app.installTranslator(_translator)
    QLocale.setDefault(_QT_LOCALES.get(i18n.language(), _QT_LOCALES["vi"]))
