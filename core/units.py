"""Backscatter units as users have them: dB, linear power or amplitude.

Models and Otsu work in dB (sigma0, as Sen1Floods11 stores it). Inputs in
linear power are converted with 10*log10(power) and amplitude (sqrt of power)
with 20*log10(amplitude); non-positive values have no dB value and become
nodata. Units are declared (``db``, ``linear``, ``amplitude``) or detected
from the values (``auto``, see :func:`detect_units`).
"""
from __future__ import annotations

import numpy as np

from .errors import InputError

UNITS = ("auto", "db", "linear", "amplitude")
DB_FACTOR = {"linear": 10.0, "amplitude": 20.0}
# Median VV sigma0 of a land/water scene is around -12 dB; a positive median is
# read as power or amplitude, whichever puts it nearer to this.
TYPICAL_VV_DB = -12.0
# Calibrated power and amplitude stay well below this; larger medians are
# uncalibrated digital numbers, which have no fixed relation to sigma0.
MAX_CALIBRATED = 3.0


def check_units(units: str) -> str:
    units = (units or "auto").lower()
    aliases = {"power": "linear", "decibel": "db", "amp": "amplitude"}
    units = aliases.get(units, units)
    if units not in UNITS:
        raise InputError(f"unknown UNITS '{units}'; use one of {', '.join(UNITS)}")
    return units


def detect_units(vv: np.ndarray, path: str = "input") -> tuple:
    """Guess the units of valid VV values; returns ``(units, median)``.

    dB: the median is negative (sigma0 below 1). Otherwise the median is read
    as linear power or as amplitude, whichever gives a dB value nearer to
    TYPICAL_VV_DB (the boundary is a median of 0.158: power -8 dB, amplitude
    -16 dB). Medians above MAX_CALIBRATED are refused: they look like
    uncalibrated digital numbers.
    """
    vv = vv[np.isfinite(vv)]
    if vv.size == 0:
        raise InputError(f"{path} holds no valid VV pixel to tell its units from.")
    median = float(np.median(vv))
    if median <= 0:
        return "db", median
    if median > MAX_CALIBRATED:
        raise InputError(
            f"{path}: median VV {median:.4g} is neither dB (mostly -35..5), linear power (mostly 0..1) "
            "nor amplitude; it looks like uncalibrated digital numbers. Calibrate to sigma0 "
            "(e.g. SNAP Calibrate, or an RTC product) and give dB, power or amplitude, or declare UNITS.")
    as_power = 10.0 * np.log10(median)
    as_amplitude = 20.0 * np.log10(median)
    units = "linear" if abs(as_power - TYPICAL_VV_DB) <= abs(as_amplitude - TYPICAL_VV_DB) else "amplitude"
    return units, median


def to_db_inplace(data: np.ndarray, units: str) -> np.ndarray:
    """Convert ``data`` (bands, H, W) float32 to dB in place; returns the valid mask.

    A pixel is invalid (mask False) when any band is non-positive or non-finite.
    """
    if units == "db":
        return np.isfinite(data).all(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log10(data, out=data)
    data *= np.float32(DB_FACTOR[units])
    return np.isfinite(data).all(axis=0)


def describe_units(units: str, detected: bool, median: float | None = None) -> str:
    how = f"detected from the values (median VV {median:.4g})" if detected else "declared"
    conversion = {"db": "used as is", "linear": "converted with 10*log10",
                  "amplitude": "converted with 20*log10"}[units]
    return f"input units: {units} ({how}), {conversion}"
