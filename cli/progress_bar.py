"""The command line's progress bar: core's Progress protocol, drawn by tqdm on stderr."""
from __future__ import annotations

import sys

from ..core.progress import Progress

RESOLUTION = 1000  # the bar counts thousandths of the run


class TqdmProgress(Progress):
    """A tqdm bar for core's fraction-and-message reports; info and warnings print above it."""

    def __init__(self, stream=None, unit: str = "", total: int | None = None):
        from tqdm import tqdm

        self.stream = stream or sys.stderr
        self.total = total  # with a count (scenes), the bar shows "3/10 scenes"; else a percentage
        self.bar = tqdm(total=total or RESOLUTION, file=self.stream, unit=unit or "it", dynamic_ncols=True,
                        leave=True, mininterval=0.2, smoothing=0.1,
                        bar_format=None if total else "{l_bar}{bar}| {elapsed}<{remaining}")
        self._tqdm = tqdm

    def report(self, fraction, message=""):
        target = round(max(0.0, min(1.0, fraction)) * (self.total or RESOLUTION))
        if message:
            self.bar.set_description_str(message[:60], refresh=False)
        self.bar.update(target - self.bar.n)
        if fraction >= 1.0:
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):  # an error message then prints below the bar, not under a redrawn one
        self.close()
        return False

    def close(self):
        if not self.bar.disable:
            self.bar.close()

    def info(self, message):
        self._tqdm.write(message, file=self.stream)

    def warning(self, message):
        self._tqdm.write("warning: " + message, file=self.stream)
