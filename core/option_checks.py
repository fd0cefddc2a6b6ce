"""Checks of the engine's numeric options before any work starts (one place for CLI and QGIS)."""
from __future__ import annotations

import math

from .errors import InputError
from .progress import Progress

# Below this TILE the network sees too little context and a scene needs
# thousands of tiles per strip: it still works, slowly.
SLOW_TILE = 64
# More CPU threads than this many per usable CPU only adds overhead (and a
# huge count makes torch fail to start its threads).
THREADS_PER_CPU = 4


def check_probability(value, name: str = "THRESHOLD") -> float:
    """``value`` when it is a probability in [0, 1], else an InputError (NaN included)."""
    if not (isinstance(value, (int, float)) and math.isfinite(value) and 0.0 <= value <= 1.0):
        raise InputError(f"{name} must be a probability in [0, 1], got {value}")
    return float(value)


def check_segment_options(options, progress: Progress | None = None) -> None:
    """Refuse THRESHOLD, TILE, OVERLAP, BATCH_SIZE and THREADS values that cannot work.

    Warns when TILE is below SLOW_TILE, and caps THREADS at THREADS_PER_CPU x
    the usable CPUs (with a warning): the map does not depend on it.
    """
    from .predict.common import cpu_threads

    progress = progress or Progress()
    check_probability(options.threshold)
    if options.tile < 1:
        raise InputError(f"TILE must be a positive number of pixels, got {options.tile}; the default is 512.")
    if not 0 <= options.overlap < options.tile:
        raise InputError(f"OVERLAP ({options.overlap} px) must be at least 0 and smaller than TILE "
                         f"({options.tile} px); the defaults are 64 and 512.")
    if options.tile < SLOW_TILE:
        progress.warning(f"TILE {options.tile} px is very small: the scene is cut into many tiles, which is "
                         f"slow (and gives the network little context); {SLOW_TILE} px or more is usual, "
                         "512 the default.")
    if options.batch_size < 0:
        raise InputError(f"BATCH_SIZE must be 0 (auto) or a positive number of tiles, got {options.batch_size}")
    if options.threads < 0:
        raise InputError(f"THREADS must be 0 (all usable CPUs) or a positive number, got {options.threads}")
    usable = cpu_threads(0)
    if options.threads > THREADS_PER_CPU * usable:
        progress.warning(f"THREADS {options.threads} is far more than the {usable} CPU(s) this process may use; "
                         f"using {THREADS_PER_CPU * usable} (more threads only add overhead).")
        options.threads = THREADS_PER_CPU * usable
