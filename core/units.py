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


# Typical Sentinel-1 sigma0 statistics of a land/water scene in dB (Sen1Floods11 S1Hand chips: VV medians
# -12.4..-7.9, VH -20.9..-14.4, VV - VH 5.8..8.5 dB). Read in the wrong units (power as amplitude or the
# reverse) every one of them is doubled or halved, so the right reading is the one whose log2 ratios to
# these centres average nearer 0 than the other's (which is 1 away).
TYPICAL_DB = {"median VV": -10.0, "median VH": -17.0, "VV - VH": 7.0}
# Decided only when the mean log2 ratio is this far from the midpoint between the readings (about 7 %);
# real chips were at least 0.2 away.
UNITS_MARGIN = 0.1
# The chosen reading must be within a factor 2**1.5 of every typical value and have a VV 5-95 % spread in
# this range (dB); otherwise the values do not look like a Sentinel-1 scene in either unit.
MAX_LOG2_RATIO = 1.5
VV_SPREAD_DB = (2.0, 45.0)


def _db_features(vv: np.ndarray, vh: np.ndarray, factor: float) -> dict:
    with np.errstate(divide="ignore", invalid="ignore"):
        vv_db, vh_db = factor * np.log10(vv), factor * np.log10(vh)
    vv_db, vh_db = vv_db[np.isfinite(vv_db)], vh_db[np.isfinite(vh_db)]
    if vv_db.size == 0 or vh_db.size == 0:
        return {}
    low, med, high = np.percentile(vv_db, [5, 50, 95])
    med_vh = float(np.median(vh_db))
    return {"median VV": float(med), "median VH": med_vh, "VV - VH": float(med) - med_vh,
            "VV spread (5-95 %)": float(high - low)}


def _log2_ratios(features: dict):
    """log2(feature / typical) of the linear-power reading, or None when a sign is wrong (VH not below VV)."""
    if not features or any(features[k] / c <= 0 for k, c in TYPICAL_DB.items()):
        return None
    return [float(np.log2(features[k] / c)) for k, c in TYPICAL_DB.items()]


def detect_units(vv: np.ndarray, vh: np.ndarray, path: str = "input") -> tuple:
    """Tell the units of valid VV/VH values from both bands and the physics; returns ``(units, median VV)``.

    dB: values below 0 (sigma0 below 1 has a negative dB value; power and
    amplitude are never negative). Otherwise the values are read as linear
    power (10*log10): the medians of VV and VH and their difference (VH lies
    below VV by a few dB) are compared with TYPICAL_DB on a log2 scale.
    Amplitude (20*log10) doubles every one of them, so a mean log2 ratio
    below -0.5 means amplitude, above it power. Within UNITS_MARGIN of -0.5,
    with VH not below VV, or when the chosen reading is still far from a
    Sentinel-1 scene (MAX_LOG2_RATIO, VV_SPREAD_DB), the units are ambiguous
    and refused (declare UNITS). Medians above MAX_CALIBRATED are refused as
    uncalibrated digital numbers.
    """
    ok = np.isfinite(vv) & np.isfinite(vh)
    vv, vh = vv[ok], vh[ok]
    if vv.size == 0:
        raise InputError(f"{path} holds no valid VV/VH pixel to tell its units from.")
    median = float(np.median(vv))
    if median <= 0 or float(vv.min()) < 0 or float(vh.min()) < 0:
        return "db", median
    if median > MAX_CALIBRATED:
        raise InputError(
            f"{path}: median VV {median:.4g} is neither dB (mostly -35..5), linear power (mostly 0..1) "
            "nor amplitude; it looks like uncalibrated digital numbers. Calibrate to sigma0 "
            "(e.g. SNAP Calibrate, or an RTC product) and give dB, power or amplitude.")
    power = _db_features(vv, vh, DB_FACTOR["linear"])
    ratios = _log2_ratios(power)
    if ratios is not None:
        mean = float(np.mean(ratios))
        units = "linear" if mean + 0.5 >= UNITS_MARGIN else "amplitude" if mean + 0.5 <= -UNITS_MARGIN else None
        shift = 0.0 if units == "linear" else 1.0
        spread = power["VV spread (5-95 %)"] * DB_FACTOR.get(units, 10.0) / 10.0
        if units and all(abs(r + shift) <= MAX_LOG2_RATIO for r in ratios) and \
                VV_SPREAD_DB[0] <= spread <= VV_SPREAD_DB[1]:
            return units, median
    shown = "; ".join(f"as {UNIT_NAMES[u]}: " + ", ".join(f"{k} {v * DB_FACTOR[u] / 10.0:.1f} dB"
                                                           for k, v in power.items())
                      for u in ("linear", "amplitude")) if power else "no dB value"
    raise InputError(
        f"{path}: cannot tell whether the values are linear power or amplitude ({shown}; a Sentinel-1 scene "
        "has VV around -10 dB, VH around -17 dB and VH about 5-10 dB below VV). Declare the units: "
        "UNITS linear (--units linear) or UNITS amplitude (--units amplitude).")


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


def suggest_units(med_vv: float, med_vh: float, integer: bool, current: str = "") -> str:
    """What values with these band medians look like, and which UNITS (if any) would fit (never ``current``,
    the units that were just refused, and "auto" only when auto was not what refused them)."""
    auto = "" if current == "auto" else " (or auto)"
    if plausible_db((med_vv, med_vh)) and current != "db":
        return f"They look like dB: use UNITS db{auto}."
    if med_vv > 0 and med_vh > 0:
        if med_vv > MAX_CALIBRATED:
            return ("They look like uncalibrated digital numbers: calibrate to sigma0 (e.g. SNAP Calibrate, "
                    "or an RTC product) and give dB, power or amplitude.")
        fits = [u for u in ("linear", "amplitude") if u != current
                and plausible_db(medians_in_db(med_vv, med_vh, u))]
        if fits:
            best = min(fits, key=lambda u: abs(medians_in_db(med_vv, med_vh, u)[0] - TYPICAL_VV_DB))
            return f"They look like {UNIT_NAMES[best]}: use UNITS {best}{auto}."
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
        f"{' (' + dtype + ')' if dtype else ''}. "
        f"{suggest_units(med_vv, med_vh, integer, 'auto' if detected else units)}")
