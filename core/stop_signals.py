"""Termination signals end a run like a cancel, so its temporary and lock files are removed.

SIGTERM (kill, a batch scheduler, a closed qgis_process) and SIGHUP (the
terminal closed) would otherwise end the process at once, leaving staged
files and locks behind until a later run cleans them. Inside
:func:`signals_cancel` they raise ``Cancelled`` (or, with ``as_interrupt``,
KeyboardInterrupt) in the main thread; the Publication's clean-up then runs.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

from .errors import Cancelled

SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


@contextmanager
def signals_cancel(as_interrupt: bool = False):
    """Within the block, SIGTERM and SIGHUP stop the run by an exception (main thread only; elsewhere a no-op)."""
    def stop(signum, frame):
        if as_interrupt:
            raise KeyboardInterrupt
        raise Cancelled(f"stopped by {signal.Signals(signum).name}; nothing was published (temporary files "
                        "removed, earlier outputs kept)")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    try:
        for number in SIGNALS:
            previous[number] = signal.signal(number, stop)
    except ValueError:  # not the main interpreter
        pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
