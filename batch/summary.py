"""``DIR/summary.csv``: one row per scene, written like every other product.

The same checks as every destination (core/io/destinations.py: never a folder,
a link or an input), the same lock against a second batch and the same
temporary name beside it (core/io/run_files.py), renamed into place whole.
"""
from __future__ import annotations

import csv
import os

from ..core.io.destinations import check_file_destination
from ..core.io.run_files import DestinationLock, create_temp

COLUMNS = ("scene", "output", "status", "message", "water_km2", "valid_km2", "seconds", "worker")
NAME = "summary.csv"


def summary_path(out_dir: str) -> str:
    return os.path.join(out_dir, NAME)


def check_summary(path: str, scenes) -> DestinationLock:
    """Check ``path`` before any work and lock it for the batch (release the returned lock at the end)."""
    check_file_destination("the batch summary", path, {f"scene {i + 1}": s for i, s in enumerate(scenes)})
    lock = DestinationLock(path)
    lock.acquire()
    return lock


def previous_rows(path: str) -> dict:
    """{output: row} of the scenes a previous batch in this folder mapped (status ok, or skipped then), for the skipped ones."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return {r["output"]: r for r in csv.DictReader(f) if r.get("status") in ("ok", "skipped")}
    except (OSError, csv.Error, KeyError):
        return {}


def write_summary(path: str, rows):
    """Write ``rows`` (dicts with COLUMNS) under a temporary name, then rename it onto ``path``."""
    fd, tmp = create_temp(os.path.dirname(os.path.abspath(path)), ".csv")  # new, never through a link
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
