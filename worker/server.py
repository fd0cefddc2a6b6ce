"""The worker process: ``python -m floodkd.worker`` runs one job out of QGIS's process.

Desktop QGIS must not import PyTorch (core/predict/runtimes.py), so .pt models,
training and export run here. Protocol (worker/client.py is the
other end): the parent writes one JSON line ``{"job": name, "args": {...}}``
to stdin, and later ``cancel`` to stop (closing stdin, e.g. when QGIS dies,
cancels too). The worker writes one JSON object per line to stdout:
``{"event": "progress", "fraction": f, "message": m}``, ``{"event": "info"|"warning",
"message": m}``, then ``{"event": "result", "value": ...}`` or ``{"event": "error",
"type": "InputError", "message": m}``. Cancel goes through core's progress
protocol, so outputs stay atomic (nothing half-written). Never imports qgis.
"""
from __future__ import annotations

import json
import signal
import sys
import threading
import time
import traceback

from ..core.errors import Cancelled, FloodKDError
from ..core.progress import Progress

CANCEL = "cancel"


def _plain(value):
    """numpy scalars as numbers, anything else JSON cannot take as text."""
    return value.item() if hasattr(value, "item") else str(value)


class PipeProgress(Progress):
    """Progress as JSON lines on ``stream``; cancelled when the parent says so or goes away."""

    def __init__(self, stream, min_interval: float = 0.2):
        self.stream = stream
        self.cancelled = threading.Event()
        self.min_interval = min_interval
        self._last = (0.0, None)
        self._lock = threading.Lock()

    def emit(self, event: str, **fields):
        line = json.dumps({"event": event, **fields}, default=_plain)
        with self._lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def report(self, fraction, message=""):
        now = time.monotonic()
        last_time, last_message = self._last
        if fraction < 1.0 and message == last_message and now - last_time < self.min_interval:
            return
        self._last = (now, message)
        self.emit("progress", fraction=float(fraction), message=message)

    def is_cancelled(self):
        return self.cancelled.is_set()

    def info(self, message):
        self.emit("info", message=message)

    def warning(self, message):
        self.emit("warning", message=message)

    def listen(self, stdin):
        """Set ``cancelled`` on a ``cancel`` line or when stdin closes (run in a thread)."""
        for line in stdin:
            if line.strip() == CANCEL:
                break
        self.cancelled.set()


def _terminated(signum, frame):
    raise Cancelled("terminated by the parent process; no output was written")


def main() -> int:
    out = sys.stdout
    sys.stdout = sys.stderr  # stray prints (libraries) must not corrupt the protocol
    progress = PipeProgress(out)
    signal.signal(signal.SIGTERM, _terminated)  # the finally blocks remove staged outputs
    try:
        request = json.loads(sys.stdin.readline() or "{}")
        from .jobs import JOBS

        job = JOBS.get(request.get("job"))
        if job is None:
            raise FloodKDError(f"unknown worker job {request.get('job')!r}; known: {', '.join(sorted(JOBS))}")
        threading.Thread(target=progress.listen, args=(sys.stdin,), daemon=True).start()
        value = job(request.get("args", {}), progress)
        progress.emit("result", value=value)
        return 0
    except FloodKDError as exc:
        progress.emit("error", type=type(exc).__name__, message=str(exc))
    except ModuleNotFoundError as exc:  # an optional package (torch, onnx) is missing: a message, no traceback
        progress.emit("error", type="MissingDependency", message=f"{exc.name} is not installed in this Python")
    except MemoryError:
        progress.emit("error", type="MemoryError", message="out of memory in the worker process")
    except OSError as exc:
        progress.emit("error", type="OSError", message=str(exc))
    except Exception as exc:  # a bug: the parent shows the traceback in the log
        progress.emit("error", type=type(exc).__name__, message=f"{type(exc).__name__}: {exc}",
                      traceback=traceback.format_exc())
    return 1


if __name__ == "__main__":
    sys.exit(main())
