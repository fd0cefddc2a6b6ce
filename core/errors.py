"""Exceptions with messages a user can act on (no bare tracebacks reach QGIS)."""


class FloodKDError(Exception):
    """Base class: the message names what is wrong and what would work."""


class InputError(FloodKDError, ValueError):
    """An input raster or dataset is unusable as given."""


class CheckpointError(FloodKDError, ValueError):
    """A checkpoint is unreadable or does not fit the input."""


class Cancelled(FloodKDError):
    """The user cancelled the run; no partial output was left behind."""


class MissingDependency(FloodKDError, ImportError):
    """An optional package (torch, smp, onnxruntime) is not installed."""


def require_torch():
    """Import torch lazily, with an error that says how to install it."""
    try:
        import torch  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the machine
        raise MissingDependency(
            "PyTorch is not installed in this Python. Model-based methods need it: "
            "run scripts/setup.sh (or `pip install -r requirements.txt`), or use "
            "method 'otsu', which needs only numpy."
        ) from exc
    return torch
