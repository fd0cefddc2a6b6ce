"""A small progress/cancel protocol that core polls once per batch.

The QGIS provider adapts ``QgsProcessingFeedback`` to it and the CLI adapts a
terminal progress bar, so core never imports either.
"""
from __future__ import annotations

import sys
import time

from .errors import Cancelled


class Progress:
    """Default no-op progress; subclasses override what they can show."""

    def report(self, fraction: float, message: str = "") -> None:
        """Report overall progress in [0, 1]."""

    def is_cancelled(self) -> bool:
        return False

    def info(self, message: str) -> None:
        """An informational line (log)."""

    def warning(self, message: str) -> None:
        """Something the user should know but that does not stop the run."""

    def check_cancelled(self) -> None:
        """Raise :class:`Cancelled` when the user asked to stop."""
        if self.is_cancelled():
            raise Cancelled("cancelled by the user; no output was written")


class ScaledProgress(Progress):
    """Maps a sub-task's [0, 1] onto [start, end] of a parent's progress."""

    def __init__(self, parent: Progress, start: float, end: float):
        self.parent, self.start, self.end = parent, start, end

    def report(self, fraction, message=""):
        self.parent.report(self.start + (self.end - self.start) * fraction, message)

    def is_cancelled(self):
        return self.parent.is_cancelled()

    def info(self, message):
        self.parent.info(message)

    def warning(self, message):
        self.parent.warning(message)


class TerminalProgress(Progress):
    """A one-line progress bar on stderr for the CLI."""

    def __init__(self, stream=None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self._last = 0.0
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def report(self, fraction, message=""):
        now = time.monotonic()
        if fraction < 1.0 and now - self._last < 0.2:
            return
        self._last = now
        filled = int(self.width * max(0.0, min(1.0, fraction)))
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"[{bar}] {100 * fraction:5.1f}% {message}"
        if self._tty:
            self.stream.write("\r" + line[:120].ljust(120))
            if fraction >= 1.0:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def info(self, message):
        self.stream.write(message + "\n")

    def warning(self, message):
        self.stream.write("warning: " + message + "\n")
