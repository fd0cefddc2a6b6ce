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


def check_finite(value, name: str, low=None, high=None, unit: str = "") -> float:
    """``value`` when it is a finite number within [low, high], else an InputError (NaN included)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        within = (f" within [{low:g}, {high:g}]" if low is not None and high is not None
                  else f" >= {low:g}" if low is not None else "")
        raise InputError(f"{name} must be a finite number{within}{unit}, got {value}")
    return float(value)


def check_device(device) -> str:
    """auto, cpu, cuda or cuda:N (any method: checked before any work), else an InputError."""
    text = str(device or "auto").lower()
    if text in ("auto", "cpu", "cuda") or (text.startswith("cuda:") and text[5:].isdigit()):
        return text
    raise InputError(f"unknown DEVICE '{device}'; use auto, cpu, cuda or cuda:N")


def check_segment_options(options, progress: Progress | None = None, input_path: str | None = None) -> None:
    """Refuse THRESHOLD, TILE, OVERLAP, BATCH_SIZE, THREADS, DEVICE, MIN_AREA, MAX_SLOPE, the
    permanent-water threshold and context layers that cannot work, before any work.

    Warns when TILE is below SLOW_TILE, and caps THREADS at THREADS_PER_CPU x
    the usable CPUs (with a warning): the map does not depend on it.
    """
    from .predict.common import cpu_threads

    progress = progress or Progress()
    check_probability(options.threshold)
    check_device(options.device)
    check_finite(options.min_area, "MIN_AREA (--min-area)", 0, unit=" m2 (0 keeps every polygon)")
    check_finite(options.max_slope, "MAX_SLOPE (--max-slope)", 0, 90, " degrees")
    check_finite(options.permanent_water_threshold, "the permanent-water threshold (--permanent-water-threshold)")
    if options.vh_threshold_db is not None:
        check_finite(options.vh_threshold_db, "VH_THRESHOLD_DB (--vh-threshold-db)", unit=" dB")
    if input_path:
        from .io.destinations import same_file

        for label, layer in (("DEM (--dem)", options.dem), ("PERMANENT_WATER (--permanent-water)",
                                                           options.permanent_water)):
            if layer and same_file(layer, input_path):
                raise InputError(f"{label} {layer} is the SAR scene itself (INPUT); give a separate layer on the "
                                 "same area (an elevation model in metres for DEM; a water-occurrence or 0/1 "
                                 "water mask such as JRC Global Surface Water for PERMANENT_WATER).")
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
