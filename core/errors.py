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


def require_module(name: str, missing: str):
    """Import ``name``; MissingDependency (with ``missing`` as advice) only when it is really absent.

    A package that is installed but fails while importing (a missing or broken
    dependency of its own, out of memory, a bad build) is reported as that,
    not as "not installed".
    """
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            raise MissingDependency(missing) from exc
        raise FloodKDError(f"{name} is installed but could not be imported: it needs {exc.name}, which is "
                           "missing. Run scripts/setup.sh (or `pip install -r requirements.txt`) again.") from exc
    except Exception as exc:  # ImportError of a broken build, MemoryError, OSError of a shared library
        raise FloodKDError(f"{name} is installed but could not be imported ({type(exc).__name__}: {exc}). "
                           "If memory is short, close other programs or use fewer THREADS; otherwise "
                           "reinstall it with scripts/setup.sh.") from exc


def require_torch():
    """Import torch lazily, with an error that says how to install it."""
    return require_module(
        "torch",
        "PyTorch is not installed in this Python. Model-based methods need it: "
        "run scripts/setup.sh (or `pip install -r requirements.txt`), or use "
        "method 'otsu', which needs only numpy.")
