"""Band specifications and the paper's normalisation.

Garg et al. clip VV to [-20, 0] dB, VH to [-30, 0] dB and Sentinel-2 bands to
[0, 3000] (reflectance x 10000), then scale each to [0, 1]. A checkpoint stores
its band specs, so inference normalises exactly as training did.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class BandSpec:
    """One input band: what it is, its units and its clip range."""

    name: str
    sensor: str
    units: str
    low: float
    high: float

    def normalise(self, values: np.ndarray) -> np.ndarray:
        """Clip to [low, high] and scale to [0, 1] (float32; NaN stays NaN)."""
        out = np.clip(values.astype(np.float32, copy=False), self.low, self.high)
        return (out - self.low) / np.float32(self.high - self.low)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "BandSpec":
        return cls(**{k: data[k] for k in ("name", "sensor", "units", "low", "high")})


VV = BandSpec("VV", "S1", "dB", -20.0, 0.0)
VH = BandSpec("VH", "S1", "dB", -30.0, 0.0)
S1_BANDS = (VV, VH)
S2_BANDS = tuple(BandSpec(b, "S2", "reflectance_x10000", 0.0, 3000.0) for b in ("B2", "B3", "B4", "B8"))
S1S2_BANDS = S1_BANDS + S2_BANDS

# Sentinel-2 L1C/L2A 13-band order as stored by Sen1Floods11 and TerraMind.
S2_13_BAND_ORDER = ("B1", "B2", "B3", "B4", "B5", "B6", "B7", "B8", "B8A", "B9", "B10", "B11", "B12")


def normalise_stack(data: np.ndarray, specs) -> np.ndarray:
    """Normalise a (bands, H, W) array band by band with ``specs``."""
    if data.shape[0] != len(specs):
        names = ", ".join(s.name for s in specs)
        raise ValueError(f"got {data.shape[0]} bands, the band spec expects {len(specs)} ({names})")
    return np.stack([spec.normalise(band) for spec, band in zip(specs, data)])


def describe(specs) -> str:
    """Human-readable list, e.g. 'VV [dB, -20..0], VH [dB, -30..0]'."""
    return ", ".join(f"{s.name} [{s.units}, {s.low:g}..{s.high:g}]" for s in specs)


# Polarisations that are not Sentinel-1's VV/VH (HH/HV: other sensors or S1's polar modes).
OTHER_POLARISATIONS = ("HH", "HV")


def _tokens(description) -> set:
    """``"Sigma0_VV_db"`` -> {'SIGMA0', 'VV', 'DB'} (separators: _ - space . : /)."""
    text = (description or "").upper()
    for sep in "-. :/()[],":
        text = text.replace(sep, "_")
    return {t for t in text.split("_") if t}


def select_bands(descriptions, wanted, name: str = "input") -> tuple:
    """1-based band indexes for ``wanted`` band names and a warning (or ""), from band descriptions.

    Descriptions are used only when each wanted name is named by exactly one
    band that names no other wanted name ('ratio_VH_VV' names both and is
    never taken for either). Otherwise the documented order (the first
    bands: VV then VH) is used, with a warning when descriptions exist, but
    only when it contradicts no description; HH/HV descriptions, a
    contradiction, or more bands than wanted without unambiguous names are
    refused (ValueError naming the bands).
    """
    wanted = tuple(wanted)
    tokens = [_tokens(d) for d in descriptions]
    shown = ", ".join(f"band {i} '{d}'" if d else f"band {i} (no description)"
                      for i, d in enumerate(descriptions, start=1))
    other = [i for i, t in enumerate(tokens, start=1) if t & set(OTHER_POLARISATIONS) and not t & set(wanted)]
    if other:
        raise ValueError(f"{name} has bands described as HH/HV polarisations ({shown}); floodkd needs "
                         f"{' and '.join(wanted)} (Sentinel-1 IW VV+VH), and HH/HV backscatter is not "
                         "interchangeable with it. Give a VV/VH product.")
    names = {w: [i for i, t in enumerate(tokens, start=1) if w in t and not (t & (set(wanted) - {w}))]
             for w in wanted}
    if all(len(found) == 1 for found in names.values()) and len({f[0] for f in names.values()}) == len(wanted):
        return tuple(names[w][0] for w in wanted), ""
    order = tuple(range(1, len(wanted) + 1))
    contradicts = [w for w in wanted if names[w] and order[wanted.index(w)] not in names[w]]
    contradicts += [w for w in wanted if any(w in t for t in tokens) and not names[w]]  # only in mixed names
    if len(descriptions) == len(wanted) and not contradicts:
        described = any(d for d in descriptions)
        used = ", ".join(f"band {i} {w}" for i, w in zip(order, wanted))
        warning = (f"{name}: the band descriptions ({shown}) do not name {' and '.join(wanted)} one band each; "
                   f"using the documented order: {used}.") if described else ""
        return order, warning
    why = ("its band descriptions contradict the documented order" if contradicts
           else f"it has {len(descriptions)} band(s) whose descriptions do not name "
                f"{' and '.join(wanted)} one band each; floodkd needs {len(wanted)} ({', '.join(wanted)})")
    raise ValueError(f"{name}: {why} ({shown}). Give a raster with exactly {len(wanted)} bands, "
                     f"{' then '.join(wanted)}, or describe the bands {', '.join(repr(w) for w in wanted)} "
                     "(e.g. gdal_edit.py or a VRT).")
