"""Run a job in the worker process (worker/server.py) and relay its progress, errors and cancel.

The worker is the same Python that runs us (inside QGIS: the interpreter of
its prefix, core/deps.py) with the same sys.path, so it sees the packages
QGIS sees, including the plugin-owned dependency folder. A crash of the
worker (torch, out of memory) is an error message here, never a crash of the
caller.
"""
from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
from collections import deque

from ..core import errors
from ..core.deps import is_deps_folder, python_executable
from ..core.progress import Progress
from ..core.predict.runtimes import TORCH_IN_PROCESS_ENV

_link_dir = None


def _package_parent() -> str:
    """A folder from which ``import <top package>`` finds this package (a symlink if need be)."""
    global _link_dir
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    top = __name__.split(".")[0]
    if os.path.basename(package) == top:
        return os.path.dirname(package)
    if _link_dir is None:  # e.g. a checkout named otherwise, imported through an editable install
        _link_dir = tempfile.mkdtemp(prefix="floodkd-worker-")
        os.symlink(package, os.path.join(_link_dir, top))
    return _link_dir


def worker_command(python: str | None = None):
    """(argv, environment) that start the worker.

    The plugin's floodkd-deps folder comes first there (QGIS's process appends
    it): torch's requirements (sympy, typing-extensions...) must win over older
    system copies, and its numpy, if any, is pinned to QGIS's version.
    """
    top = __name__.split(".")[0]
    existing = [p for p in sys.path if p and os.path.exists(p)]
    paths = [_package_parent()] + [p for p in existing if is_deps_folder(p)] + existing
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    env[TORCH_IN_PROCESS_ENV] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    return [python or python_executable(), "-m", f"{top}.worker"], env


def _error(event: dict) -> Exception:
    kind = getattr(errors, event.get("type", ""), None)
    message = event.get("message", "")
    if isinstance(kind, type) and issubclass(kind, errors.FloodKDError):
        return kind(message)
    if event.get("type") == "MemoryError":
        return MemoryError(message)
    if event.get("type") == "OSError":
        return OSError(message)
    return errors.FloodKDError(f"the worker process failed: {message}")


def _pump(stream, sink):
    for line in stream:
        sink(line)
    sink(None)


def run_job(job: str, args: dict, progress: Progress | None = None, python: str | None = None,
            poll: float = 0.2, grace: float = 15.0):
    """Run ``job`` (worker/jobs.py) in a worker process; returns its JSON result.

    Raises what the job raised (InputError, Cancelled, ...). On cancel the
    worker is asked to stop at its next batch (so it removes its staged files)
    and terminated if it has not within ``grace`` seconds.
    """
    progress = progress or Progress()
    argv, env = worker_command(python)
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env, text=True, bufsize=1)
    except OSError as exc:
        raise errors.MissingDependency(f"cannot start the worker Python {argv[0]} ({exc}); set FLOODKD_PYTHON "
                                       "to a Python 3 interpreter of the same version as QGIS's") from exc
    lines, stderr_tail = queue.Queue(), deque(maxlen=30)
    readers = [threading.Thread(target=_pump, args=(proc.stdout, lines.put), daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, lambda s: s and stderr_tail.append(s)), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        proc.stdin.write(json.dumps({"job": job, "args": args}) + "\n")
        proc.stdin.flush()
    except (BrokenPipeError, OSError):  # it died at once; its exit code and stderr tell why below
        pass
    cancel_sent = None
    outcome = None
    try:
        while True:
            try:
                line = lines.get(timeout=poll)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line.strip():
                event = _parse(line)
                if event.get("event") in ("result", "error"):
                    outcome = event
                else:
                    _relay(event, progress)
            if cancel_sent is None and progress.is_cancelled():
                cancel_sent = _ask_to_cancel(proc)
            elif cancel_sent is not None and _elapsed(cancel_sent) > grace and proc.poll() is None:
                proc.terminate()
    finally:
        _reap(proc, readers)
    if cancel_sent is not None and (outcome is None or outcome["event"] == "error"):
        if outcome is not None and outcome.get("type") == "Cancelled":
            raise errors.Cancelled(outcome.get("message", ""))  # the job says exactly what it kept
        raise errors.Cancelled("cancelled by the user; no output was written")
    if outcome is None:
        tail = "".join(stderr_tail).strip()[-2000:]
        raise errors.FloodKDError(f"the worker process ended unexpectedly (exit code {proc.returncode}); "
                                  f"its last messages:\n{tail or '(none)'}")
    if outcome["event"] == "error":
        if outcome.get("traceback"):
            progress.info(outcome["traceback"])
        raise _error(outcome)
    return outcome.get("value")


def _parse(line: str) -> dict:
    try:
        event = json.loads(line)
        return event if isinstance(event, dict) else {"event": "info", "message": line.strip()}
    except ValueError:
        return {"event": "info", "message": line.strip()}


def _relay(event: dict, progress: Progress):
    kind = event.get("event")
    if kind == "progress":
        progress.report(float(event.get("fraction", 0.0)), event.get("message", ""))
    elif kind == "warning":
        progress.warning(event.get("message", ""))
    else:
        progress.info(event.get("message", ""))


def _ask_to_cancel(proc):
    import time

    try:
        proc.stdin.write("cancel\n")
        proc.stdin.flush()
    except (OSError, ValueError):  # already gone
        pass
    return time.monotonic()


def _elapsed(since):
    import time

    return time.monotonic() - since


def _reap(proc, readers=()):
    """Close stdin (the worker's cancel), wait for it, let ``readers`` drain, then close stdout and stderr."""
    try:
        proc.stdin.close()
    except (OSError, ValueError):
        pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    for stream in (proc.stdout, proc.stderr):
        try:
            stream.close()
        except (OSError, ValueError):
            pass
