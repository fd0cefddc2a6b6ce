"""A small progress/cancel protocol that core polls once per batch.

The QGIS provider adapts ``QgsProcessingFeedback`` to it and the CLI a tqdm
bar (cli/progress_bar.py), so core never imports either.
"""
from __future__ import annotations

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


class ForwardingProgress(Progress):
    """Passes cancel checks and messages on to a parent progress."""

    def __init__(self, parent: Progress):
        self.parent = parent

    def report(self, fraction, message=""):
        self.parent.report(fraction, message)

    def is_cancelled(self):
        return self.parent.is_cancelled()

    def info(self, message):
        self.parent.info(message)

    def warning(self, message):
        self.parent.warning(message)


class ScaledProgress(ForwardingProgress):
    """Maps a sub-task's [0, 1] onto [start, end] of a parent's progress."""

    def __init__(self, parent: Progress, start: float, end: float):
        super().__init__(parent)
        self.start, self.end = start, end

    def report(self, fraction, message=""):
        self.parent.report(self.start + (self.end - self.start) * fraction, message)


def duration_text(seconds: float) -> str:
    """'45 s', '3 min 05 s', '2 h 10 min': rounded to what a person reads."""
    seconds = int(round(max(0.0, seconds)))
    if seconds < 60:
        return f"{seconds} s"
    minutes, sec = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class TimeLeft(ForwardingProgress):
    """Appends 'about N left' to each message, from the pace since this object was made.

    The estimate assumes the remaining work goes as fast as the work done; it
    is shown once 2 % is done and 2 s have passed (earlier ones swing wildly).
    """

    def __init__(self, parent: Progress, clock=time.monotonic):
        super().__init__(parent)
        self.clock = clock
        self.started = clock()

    def report(self, fraction, message=""):
        elapsed = self.clock() - self.started
        if 0.02 <= fraction < 1.0 and elapsed >= 2.0:
            left = f"about {duration_text(elapsed * (1.0 - fraction) / fraction)} left"
            message = f"{message}, {left}" if message else left
        self.parent.report(fraction, message)
