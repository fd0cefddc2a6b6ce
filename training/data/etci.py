"""ETCI 2021 flood-detection tiles, brought from 8-bit to dB per scene.

Layout (as in the competition release, one folder per scene)::

    <root>/<scene>/vv/<scene>_x-<X>_y-<Y>_vv.png            8-bit VV
    <root>/<scene>/vh/<scene>_x-<X>_y-<Y>_vh.png            8-bit VH
    <root>/<scene>/flood_label/<scene>_x-<X>_y-<Y>.png      0 / 255 flood
    <root>/<scene>/water_body_label/<scene>_x-<X>_y-<Y>.png 0 / 255 reference water

The byte scale is undocumented and differs per scene, so bytes become dB by a
monotone piecewise-linear map per scene and band, fitted by
:func:`fit_calibration`: the scene's byte quantiles of four classes of pixel
(water-body median; dry 25th, 50th and 75th percentiles) are mapped onto the
same quantiles of calibrated Sentinel-1 GRD (:data:`REFERENCE_DB`), with linear
extrapolation beyond the end knots. The fitted constants are stored in
:data:`SCENE_CALIBRATION` (a test refits them from the files), so training never
depends on the fit's run time, and inference never sees bytes.

Water policy (:data:`WATER_POLICY`): water = flood OR water body, except for
scenes whose flood masks are known to be noisy (Nebraska: many flood masks are
rectangles over bright land, flood-only pixels are *brighter* than dry land),
where water = water body and flood-only pixels are ignored (-1). VV = VH = 0
lies outside the swath (nodata).
"""
from __future__ import annotations

import os
import re

import numpy as np

from ...core.bands import BandSpec
from ...core.errors import InputError
from .datasets import ChipDataset, RawChip, read_raster, require_folder

# Network input specs of the dual-polarisation dB models: wider than the paper's
# [-20, 0] / [-30, 0] so that calibration offsets of a few dB and the dark tail
# of open water (VH near the noise floor, -30 dB and below) are not clipped flat.
VV_DB = BandSpec("VV", "S1", "dB", -30.0, 5.0)
VH_DB = BandSpec("VH", "S1", "dB", -40.0, 0.0)
S1_DB_BANDS = (VV_DB, VH_DB)

# Anchors in dB. Dry quantiles: all valid pixels of the two unlabelled Sen1Floods11
# GRD chips in ../shared/data (Ghana_7496, Bolivia_290290; mostly dry land), averaged:
# VV p25/p50/p75 -10.5/-8.9/-7.45, VH -16.7/-14.8/-13.25. Water medians: typical calm
# open water in Sentinel-1 IW GRD, VV -18 and VH -25 dB (the labelled Sen1Floods11
# chips show -17.6/-25.2 (Spain) and -18.4/-25.8 (India), so a validation on those
# chips is not blind to these two numbers; see resources/models/floodkd_s1_student.md).
REFERENCE_DB = {
    "VV": {"water_p50": -18.0, "dry_p25": -10.5, "dry_p50": -8.9, "dry_p75": -7.45},
    "VH": {"water_p50": -25.0, "dry_p25": -16.7, "dry_p50": -14.8, "dry_p75": -13.25},
}
ANCHORS = ("water_p50", "dry_p25", "dry_p50", "dry_p75")

# Byte knots per scene and band (same order as ANCHORS), from fit_calibration() on
# the release's tiles: `.venv/bin/python scripts/fit_etci_calibration.py ../shared/data/etci2021`.
SCENE_CALIBRATION = {
    "nebraska_20170213t002121": {"VV": (44.0, 114.0, 128.0, 144.0), "VH": (77.0, 123.0, 154.0, 179.0)},
    "northal_20190302t234651": {"VV": (18.0, 131.0, 147.0, 159.0), "VH": (39.0, 181.0, 205.0, 221.0)},
}
NOISY_FLOOD_SCENES = ("nebraska",)  # scene-name prefixes whose flood masks are ignored
WATER_POLICY = "water = flood | water body; flood-only pixels ignored in scenes starting with " + \
    ", ".join(NOISY_FLOOD_SCENES)
TILE_RE = re.compile(r"^(?P<scene>.+)_x-(?P<x>\d+)_y-(?P<y>\d+)_vv\.png$")


def bytes_to_db(values: np.ndarray, knots, reference) -> np.ndarray:
    """Piecewise-linear byte -> dB through ``knots`` (bytes) and ``reference`` (dB)."""
    x = np.asarray(knots, np.float64)
    y = np.asarray(reference, np.float64)
    if np.any(np.diff(x) <= 0):
        raise InputError(f"calibration knots {list(x)} are not increasing; refit the scene calibration.")
    v = values.astype(np.float64)
    out = np.interp(v, x, y)
    lo, hi = v < x[0], v > x[-1]
    out[lo] = y[0] + (v[lo] - x[0]) * (y[1] - y[0]) / (x[1] - x[0])
    out[hi] = y[-1] + (v[hi] - x[-1]) * (y[-1] - y[-2]) / (x[-1] - x[-2])
    return out.astype(np.float32)


def scene_policy_label(flood: np.ndarray, water_body: np.ndarray, scene: str) -> np.ndarray:
    """0 dry / 1 water / -1 ignore under :data:`WATER_POLICY`."""
    flood, body = flood > 0, water_body > 0
    label = (flood | body).astype(np.int64)
    if scene.startswith(NOISY_FLOOD_SCENES):
        label = body.astype(np.int64)
        label[flood & ~body] = -1
    return label


class Etci2021(ChipDataset):
    """ETCI 2021 tiles (256x256) as VV/VH dB samples.

    Args:
        root: folder holding one folder per scene (``<scene>/vv``, ``vh``,
            ``flood_label``, ``water_body_label``).
        scenes: scene folder names, or None for every scene with a calibration
            in :data:`SCENE_CALIBRATION`.
        labelled: False gives an unlabelled view (labels all -1).

    Raises:
        InputError: missing folders, a scene without a calibration (fit one with
            :func:`fit_calibration`), or no tiles.
    """

    name = "etci2021"
    s1_bands = S1_DB_BANDS

    def __init__(self, root: str, scenes=None, labelled: bool = True):
        super().__init__()
        require_folder(root, "the ETCI 2021 folder holding one folder per scene")
        self.root, self.labelled = root, labelled
        found = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d, "vv")))
        self.scenes = list(scenes) if scenes else [s for s in found if s in SCENE_CALIBRATION]
        self.tiles = []
        for scene in self.scenes:
            if scene not in SCENE_CALIBRATION:
                raise InputError(f"ETCI scene '{scene}' has no byte-to-dB calibration; known: "
                                 f"{', '.join(SCENE_CALIBRATION)}. Fit one with fit_calibration().")
            folder = require_folder(os.path.join(root, scene, "vv"), f"the VV tiles of scene {scene}")
            for name in sorted(os.listdir(folder)):
                m = TILE_RE.match(name)
                if m and m["scene"] == scene:
                    self.tiles.append((scene, name[: -len("_vv.png")]))
        self.ids = [stem for _, stem in self.tiles]
        if not self.ids:
            raise InputError(f"no ETCI tiles under {root} for scenes {self.scenes or found}.")

    def paths(self, index: int) -> dict:
        scene, stem = self.tiles[index]
        base = os.path.join(self.root, scene)
        return {"vv": os.path.join(base, "vv", stem + "_vv.png"), "vh": os.path.join(base, "vh", stem + "_vh.png"),
                "flood": os.path.join(base, "flood_label", stem + ".png"),
                "water_body": os.path.join(base, "water_body_label", stem + ".png")}

    def load_raw(self, index: int) -> RawChip:
        scene, stem = self.tiles[index]
        p = self.paths(index)
        vv, vh = read_raster(p["vv"], 1), read_raster(p["vh"], 1)
        if vv.shape != vh.shape:
            raise InputError(f"{p['vv']} and {p['vh']} differ in size; the tiles of one place must match.")
        valid = ~((vv == 0) & (vh == 0))
        cal = SCENE_CALIBRATION[scene]
        s1 = np.stack([bytes_to_db(vv, cal["VV"], [REFERENCE_DB["VV"][a] for a in ANCHORS]),
                       bytes_to_db(vh, cal["VH"], [REFERENCE_DB["VH"][a] for a in ANCHORS])])
        if self.labelled:
            label = scene_policy_label(read_raster(p["flood"], 1), read_raster(p["water_body"], 1), scene)
        else:
            label = np.full(vv.shape, -1, np.int64)
        label[~valid] = -1
        s1[:, ~valid] = 0.0
        return RawChip(stem, s1, None, label, valid)


def fit_calibration(root: str, scene: str) -> dict:
    """Byte knots of ``scene`` (per band, in :data:`ANCHORS` order) from its labelled tiles.

    Water = water-body pixels (clean in every scene); dry = neither flood nor
    water body; pixels outside the swath are skipped.
    """
    data = Etci2021.__new__(Etci2021)
    ChipDataset.__init__(data)
    data.root, data.labelled, data.scenes = root, True, [scene]
    folder = require_folder(os.path.join(root, scene, "vv"), f"the VV tiles of scene {scene}")
    data.tiles = [(scene, n[: -len("_vv.png")]) for n in sorted(os.listdir(folder)) if TILE_RE.match(n)]
    knots = {"VV": [], "VH": []}
    pixels = {"VV": ([], []), "VH": ([], [])}
    for i in range(len(data.tiles)):
        p = data.paths(i)
        vv, vh = read_raster(p["vv"], 1), read_raster(p["vh"], 1)
        flood, body = read_raster(p["flood"], 1) > 0, read_raster(p["water_body"], 1) > 0
        valid = ~((vv == 0) & (vh == 0))
        for band, values in (("VV", vv), ("VH", vh)):
            pixels[band][0].append(values[valid & body])
            pixels[band][1].append(values[valid & ~body & ~flood])
    for band, (water, dry) in pixels.items():
        water, dry = np.concatenate(water), np.concatenate(dry)
        if water.size == 0 or dry.size == 0:
            raise InputError(f"scene {scene} has no water-body or no dry pixel; it cannot be calibrated.")
        knots[band] = tuple(float(v) for v in (np.median(water), *np.percentile(dry, [25, 50, 75])))
    return knots
