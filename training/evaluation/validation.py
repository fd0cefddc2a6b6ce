"""Score methods on cases (datasets) per chip and pooled, and check the VH rule.

A *method* is ``"threshold"``, ``"otsu"`` or a list of model paths (seeds of one
recipe); every method sees every chip of a case, and a model's score is the
mean over its seeds (with the standard deviation). The metric is the pooled
water IoU, except on cases without water ("all dry"), where it is the share
of pixels left dry (accuracy). "Per chip" means per source chip: windows
count for the chip they were cut from, ETCI tiles for their scene.

The VH rule: on a case (pooled, and on each chip) where water is clear in VH,
i.e. the fixed VH threshold alone reaches water IoU >= :data:`CLEAR_IOU`, a
model may not score more than :data:`TOLERANCE` below that threshold.
"""
from __future__ import annotations

import re
import statistics

import numpy as np

from .metrics import Confusion
from .scoring import CheckpointModel, otsu_water, threshold_water

CLEAR_IOU = 0.6
TOLERANCE = 0.02
DRY_CASES = ("all dry",)


def _metric(conf: Confusion, case: str) -> float:
    return conf.accuracy() if case in DRY_CASES else conf.water_iou()


def _source(chip_id: str) -> str:
    """The chip a window came from (``id@top,left``); ETCI tiles are grouped by scene."""
    base = chip_id.split("@")[0]
    tile = re.match(r"^(.*)_x-\d+_y-\d+$", base)
    return tile.group(1) if tile else base


class Methods:
    """Named methods; models are loaded once and reused across cases."""

    def __init__(self, methods: dict):
        self.methods, self._models = methods, {}

    def water(self, name, path_or_kind, raw, dataset):
        if path_or_kind == "threshold":
            from ...core.predict.threshold_predictor import VH_THRESHOLD_DB

            return threshold_water(raw.s1, dataset.s1_bands, VH_THRESHOLD_DB) & raw.valid
        if path_or_kind == "otsu":
            return otsu_water(raw.s1, raw.valid, dataset.s1_bands)[0]
        key = (path_or_kind, tuple(b.name for b in dataset.s1_bands))
        if key not in self._models:
            self._models[key] = CheckpointModel(path_or_kind, dataset, "cpu")
        return (self._models[key](raw) >= 0.5) & raw.valid


def _key(case, run):
    import os

    stamp = os.path.getmtime(run) if os.path.isfile(run) else 0
    return f"{case}|{run}|{stamp}"


def _counts(dataset, methods, todo) -> dict:
    """{(name, run): {source chip: [tp, fp, fn, tn]}} for every (name, run) in ``todo``; each chip read once."""
    out = {job: {} for job in todo}
    for i in range(len(dataset)):
        raw = dataset.load_raw(i)
        for name, run in todo:
            water = methods.water(name, run, raw, dataset)
            conf = Confusion().update(water.astype(np.int64), raw.label)
            per = out[(name, run)].setdefault(_source(raw.id), [0, 0, 0, 0])
            for k, v in enumerate((conf.tp, conf.fp, conf.fn, conf.tn)):
                per[k] += v
    return out


def _confusion(counts) -> Confusion:
    conf = Confusion()
    conf.tp, conf.fp, conf.fn, conf.tn = (int(v) for v in counts)
    return conf


def score_case(dataset, methods: Methods, case: str | None = None, cache: dict | None = None) -> dict:
    """{method: {"score": mean, "sd": sd, "n": seeds, "chips": {source chip: mean}}} on ``dataset``.

    ``cache`` (a dict, e.g. loaded from JSON) keeps each run's confusion counts per case,
    keyed by the model file's modification time, so reruns score only what changed.
    """
    case = case or dataset.name
    cache = {} if cache is None else cache
    todo = [(name, run) for name, runs in methods.methods.items()
            for run in ([runs] if isinstance(runs, str) else runs) if _key(case, run) not in cache]
    for (name, run), counts in _counts(dataset, methods, todo).items():
        cache[_key(case, run)] = counts
    out = {}
    for name, runs in methods.methods.items():
        runs = [runs] if isinstance(runs, str) else list(runs)
        if not runs:
            continue
        pooled, chips = [], {}
        for run in runs:
            per = {c: _confusion(v) for c, v in cache[_key(case, run)].items()}
            total = Confusion()
            for conf in per.values():
                total.merge(conf)
            pooled.append(_metric(total, case))
            for chip, conf in per.items():
                chips.setdefault(chip, []).append(_metric(conf, case))
        out[name] = {"score": statistics.mean(pooled), "sd": statistics.stdev(pooled) if len(pooled) > 1 else 0.0,
                     "n": len(runs), "chips": {c: statistics.mean(v) for c, v in chips.items()}}
    return out


def rule_violations(case: str, scores: dict, models, clear: float = CLEAR_IOU, tolerance: float = TOLERANCE) -> list:
    """Where water is clear in VH (threshold >= ``clear``), models more than ``tolerance`` below it."""
    thr = scores.get("threshold")
    if thr is None:
        return []
    found = []
    places = [("pooled", thr["score"])] + sorted(thr["chips"].items())
    for model in models:
        if model not in scores:
            continue
        for where, t in places:
            m = scores[model]["score"] if where == "pooled" else scores[model]["chips"].get(where)
            if m is None or t != t or t < clear:
                continue
            if m < t - tolerance:
                found.append({"case": case, "where": where, "model": model, "model_score": m, "threshold": t})
    return found


def markdown_table(rows: list, methods: list) -> str:
    """``rows``: (case, scores, held_out_note); one line per case, one column per method."""
    head = "| case | " + " | ".join(methods) + " |\n|---|" + "---|" * len(methods)
    lines = [head]
    for case, scores, note in rows:
        cells = []
        for m in methods:
            s = scores.get(m)
            if s is None:
                cells.append("-")
            elif s["n"] > 1:
                cells.append(f"{s['score']:.3f} ± {s['sd']:.3f}")
            else:
                cells.append(f"{s['score']:.3f}")
        lines.append(f"| {case}{note} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
