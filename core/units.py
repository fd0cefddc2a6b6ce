"""Backscatter units as users have them: dB, linear power or amplitude.

Models and Otsu work in dB (sigma0, as Sen1Floods11 stores it). Inputs in
linear power are converted with 10*log10(power) and amplitude (sqrt of power)
with 20*log10(amplitude); non-positive values have no dB value and become
nodata. Units are declared (``db``, ``linear``, ``amplitude``) or detected
from the values (``auto``, see :func:`detect_units`). Exact zeros in every
band are GRD's fill value and count as nodata whatever the units. Values that
cannot be backscatter in the settled units are refused
(:func:`check_plausible`), with what they look like instead.
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
# Sigma0 in dB lies within about -50..+30 dB; a band's median far outside it is
# not backscatter in the given units (real chips: VV medians -14..-8 dB, VH
# -22..-14 dB in Sen1Floods11 S1Hand and TerraMind's S1RTC). A cross-pol (VH)
# median at or above 0 dB (sigma0 >= 1) is not a scene's backscatter either.
DB_MEDIAN_RANGE = (-50.0, 30.0)
UNIT_NAMES = {"db": "dB", "linear": "linear power", "amplitude": "amplitude"}


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
            "(e.g. SNAP Calibrate, or an RTC product) and give dB, power or amplitude.")
    as_power = 10.0 * np.log10(median)
    as_amplitude = 20.0 * np.log10(median)
    units = "linear" if abs(as_power - TYPICAL_VV_DB) <= abs(as_amplitude - TYPICAL_VV_DB) else "amplitude"
    return units, median


def to_db_inplace(data: np.ndarray, units: str) -> np.ndarray:
    """Convert ``data`` (bands, H, W) float32 to dB in place; returns the valid mask.

    A pixel is invalid (mask False) when any band is non-positive or non-finite.
    """
    if units == "db":
        return np.isfinite(data).all(axis=0) & (data != 0).any(axis=0)  # 0 in every band: fill
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log10(data, out=data)
    data *= np.float32(DB_FACTOR[units])
    return np.isfinite(data).all(axis=0)


def describe_units(units: str, detected: bool, median: float | None = None) -> str:
    how = f"detected from the values (median VV {median:.4g})" if detected else "declared"
    conversion = {"db": "used as is", "linear": "converted with 10*log10",
                  "amplitude": "converted with 20*log10"}[units]
    return f"input units: {units} ({how}), {conversion}"


def medians_in_db(med_vv: float, med_vh: float, units: str):
    """The band medians in dB, or None when they have no dB value (non-positive power)."""
    if units == "db":
        return med_vv, med_vh
    if med_vv <= 0 or med_vh <= 0:
        return None
    return DB_FACTOR[units] * np.log10(med_vv), DB_FACTOR[units] * np.log10(med_vh)


def plausible_db(medians) -> bool:
    low, high = DB_MEDIAN_RANGE
    return medians is not None and all(low <= m <= high for m in medians) and medians[1] < 0


def suggest_units(med_vv: float, med_vh: float, integer: bool) -> str:
    """What values with these band medians look like, and which UNITS (if any) would fit."""
    if plausible_db((med_vv, med_vh)):
        return "They look like dB: use UNITS db (or auto)."
    if med_vv > 0 and med_vh > 0:
        if med_vv > MAX_CALIBRATED:
            return ("They look like uncalibrated digital numbers: calibrate to sigma0 (e.g. SNAP Calibrate, "
                    "or an RTC product) and give dB, power or amplitude.")
        fits = [u for u in ("linear", "amplitude") if plausible_db(medians_in_db(med_vv, med_vh, u))]
        if fits:
            best = detect_units(np.array([med_vv]))[0]
            best = best if best in fits else fits[0]
            return f"They look like {UNIT_NAMES[best]}: use UNITS {best} (or auto)."
    for scale in (10, 100):
        if plausible_db((med_vv / scale, med_vh / scale)):
            stored = "integers holding " if integer else ""
            return (f"They look like {stored}dB x {scale} (median VV {med_vv / scale:.2f} dB), which no UNITS "
                    f"reads: convert to float dB first, e.g. gdal_calc.py -A IN.tif --allBands=A "
                    f"--calc=\"A/{scale}.0\" --type=Float32 --outfile=IN_dB.tif")
    return ("No UNITS fits: give Sentinel-1 sigma0 in dB (about -50..+30), linear power or amplitude, "
            "with VV then VH.")


def check_plausible(vv: np.ndarray, vh: np.ndarray, units: str, path: str = "input", dtype: str = "",
                    detected: bool = False) -> None:
    """Refuse VV/VH values (valid pixels) that cannot be backscatter in ``units``.

    Linear power and amplitude must have positive medians; the band medians in
    dB must lie in DB_MEDIAN_RANGE with VH below 0 dB. The message says what
    the data look like (medians, range, data type) and which UNITS would fit.
    """
    if vv.size == 0 or vh.size == 0:
        return
    med_vv, med_vh = float(np.median(vv)), float(np.median(vh))
    if plausible_db(medians_in_db(med_vv, med_vh, units)):
        return
    low = min(float(vv.min()), float(vh.min()))
    high = max(float(vv.max()), float(vh.max()))
    how = "detected from the values" if detected else "declared"
    integer = np.dtype(dtype).kind in "iu" if dtype else False
    raise InputError(
        f"{path}: the values do not look like {UNIT_NAMES[units]} backscatter (UNITS {units}, {how}): "
        f"median VV {med_vv:.4g}, median VH {med_vh:.4g}, values {low:.4g}..{high:.4g}"
        f"{' (' + dtype + ')' if dtype else ''}. {suggest_units(med_vv, med_vh, integer)}")
