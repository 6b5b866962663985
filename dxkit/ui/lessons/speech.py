"""Reading a lesson aloud with the operating system's voice, through Qt's text-to-speech.

Qt's TextToSpeech module comes with PySide6's add-ons, which dxkit does not require; without
the module, or without a voice for the lesson's language on this computer, there is no reading
aloud and `find_voice` says why in one sentence for the trainer (no silent button, no fake).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QLocale, QObject, Signal

from dxkit.core.i18n import _

SLOWER = -0.15  # a little slower than the voice's normal pace, for older listeners


class ReadAloud(QObject):
    """A voice that reads text. `speaking_changed(True)` when it starts, (False) when done."""

    speaking_changed = Signal(bool)

    def say(self, text: str) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class VoiceLookup:
    """The voice found for a language, or None and the reason there is none."""

    voice: ReadAloud | None
    reason: str = ""


VoiceFinder = Callable[[str, QObject | None], VoiceLookup]


def no_voice_reason(language: str) -> str:
    if language == "vi":
        return _("Reading aloud needs a Vietnamese voice on this computer. On Windows: "
                 "Settings, Time & language, Speech, Add voices, Vietnamese.")
    return _("Reading aloud needs an English voice on this computer. On Windows: "
             "Settings, Time & language, Speech, Add voices, English.")


def find_voice(language: str, parent: QObject | None = None) -> VoiceLookup:
    """The first text-to-speech engine with a voice for `language` ("vi", "en")."""
    try:
        from PySide6.QtTextToSpeech import QTextToSpeech
    except ImportError:
        return VoiceLookup(None, _("Reading aloud needs Qt's text-to-speech module "
                                   "(PySide6-Addons), which this installation does not have."))
    wanted = QLocale(language).language()
    for engine in QTextToSpeech.availableEngines():
        if engine == "mock":  # Qt's engine for its own tests: it "speaks" silently
            continue
        speech = QTextToSpeech(engine, parent)
        if speech.state() != QTextToSpeech.State.Error:
            locales = [loc for loc in speech.availableLocales() if loc.language() == wanted]
            if locales:
                speech.setLocale(locales[0])
                voices = [v for v in speech.availableVoices() if v.language() == wanted]
                if voices:
                    speech.setVoice(voices[0])
                    return VoiceLookup(_QtVoice(speech, parent))
        speech.deleteLater()
    return VoiceLookup(None, no_voice_reason(language))


class _QtVoice(ReadAloud):
    def __init__(self, speech: QObject, parent: QObject | None) -> None:
        from PySide6.QtTextToSpeech import QTextToSpeech

        super().__init__(parent)
        assert isinstance(speech, QTextToSpeech)
        self.speech = speech
        speech.setParent(self)
        speech.setRate(SLOWER)
        speech.stateChanged.connect(
            lambda state: self.speaking_changed.emit(state == QTextToSpeech.State.Speaking))

    def say(self, text: str) -> None:
        self.speech.say(text)

    def stop(self) -> None:
        self.speech.stop()
