"""The log: a rotating file in the workspace folder, with no personal data in it.

The Windows app has no console, so what went wrong must land in a file a volunteer can send
(Settings → Export diagnostics). Code logs ids, counts, table names and exception types, never
record values. Anything that might still carry a value (an exception's message, a traceback,
a Qt warning) passes through `redact` before it is written: phone numbers, 9- to 12-digit
citizen ID numbers (and any longer digit run), e-mail addresses and the user's home folder
(whose name is often the person's) become "[…]".
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import Any

LOGGER_NAME = "dxkit"
FOLDER_NAME = "logs"
FILE_NAME = "dxkit.log"
MAX_BYTES = 1_000_000
KEEP_FILES = 5
REDACTED = "[…]"
FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"

# Separators inside a number ("0912 345 678", "087.068.012.345") but not ":" or "-" between
# digit groups, so times and ISO dates in messages stay readable. A digit run glued to ASCII
# letters is part of an id (hex UUIDs, device ids) and is kept.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\+?\d(?:[ .]?\d){8,}(?![0-9A-Za-z])")
# Phones written with dashes too ("0912-345-678"), never stopping short of a further group.
_PHONE = re.compile(r"(?<![0-9A-Za-z])(?:\+?84|0)(?:[ .-]?\d){8,10}(?![0-9A-Za-z]|[ .-]\d)")
# Starts only where a name can start: without the look-behind a long run of letters would be
# tried from every position (quadratic time on a long message).
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

log = logging.getLogger(__name__)


def redact(text: str) -> str:
    """`text` without anything that looks like a phone number, an ID number or an e-mail."""
    home = str(Path.home())
    if len(home) > 3:  # "/" or "C:\" would blank every path
        text = text.replace(home, "~")
    for pattern in (_EMAIL, _DIGIT_RUN, _PHONE):
        text = pattern.sub(REDACTED, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts a record's message, traceback and stack before any handler formats it."""

    def __init__(self) -> None:
        super().__init__()
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a wrong format string must not hide the rest of the record
            message = f"{record.msg!r} (unformattable: {len(record.args or ())} arguments)"
        record.msg, record.args = redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _LogFile(RotatingFileHandler):
    """Creates its folder on the first record, so a command that logs nothing leaves none."""

    def _open(self) -> Any:
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


def folder_of(workspace: Path) -> Path:
    return workspace / FOLDER_NAME


def log_files(workspace: Path) -> list[Path]:
    """The current log and its rotated predecessors, newest first."""
    folder = folder_of(workspace)
    if not folder.is_dir():
        return []
    return sorted(folder.glob(FILE_NAME + "*"), key=lambda p: (len(p.name), p.name))


def setup(workspace: Path, level: int = logging.INFO) -> Path:
    """Send dxkit's log to the workspace's log file (replacing an earlier target)."""
    logger = logging.getLogger(LOGGER_NAME)
    for handler in [h for h in logger.handlers if isinstance(h, _LogFile)]:
        logger.removeHandler(handler)
        handler.close()
    path = folder_of(workspace) / FILE_NAME
    handler = _LogFile(path, maxBytes=MAX_BYTES, backupCount=KEEP_FILES, encoding="utf-8",
                       delay=True)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    return path


# -- crashes -------------------------------------------------------------------------------------
ExceptHook = Callable[[type[BaseException], BaseException, TracebackType | None], Any]
_crash_log = logging.getLogger(LOGGER_NAME + ".crash")


def install_crash_hooks() -> None:
    """Uncaught exceptions, in the main thread or any other, go to the log (and then on to
    the hooks that were there before: a console still shows them)."""
    if getattr(sys.excepthook, "_dxkit", False):
        return
    previous: ExceptHook = sys.excepthook
    previous_thread = threading.excepthook

    def excepthook(kind: type[BaseException], error: BaseException,
                   trace: TracebackType | None) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            _crash_log.critical("uncaught %s", kind.__name__, exc_info=(kind, error, trace))
        previous(kind, error, trace)

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            _crash_log.critical("uncaught %s in thread %s", args.exc_type.__name__,
                                args.thread.name if args.thread else "?",
                                exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread(args)

    excepthook._dxkit = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
