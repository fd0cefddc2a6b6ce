"""Training-run records next to the checkpoint: JSON and CSV logs, curves PNG.

For ``--out runs/student.pt`` the files are ``runs/student.log.json``,
``runs/student.log.csv`` and ``runs/student.curves.png``; the last-epoch
checkpoint (the one ``--resume`` continues from) is ``runs/student.last.pt``.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os

from ...core.io.run_files import create_temp


def run_paths(out: str) -> dict:
    """Paths of everything a run writes, derived from the best-checkpoint path."""
    stem = out[:-3] if out.endswith(".pt") else out
    return {"best": out, "last": stem + ".last.pt", "json": stem + ".log.json",
            "csv": stem + ".log.csv", "plot": stem + ".curves.png"}


def staged_paths(out: str) -> dict:
    """Where a run writes its epochs until it publishes (``runs/student.partial.pt``, ``.partial.last.pt``...):
    an earlier run's files of the same name stay untouched until the run completes; a cancelled run
    leaves these behind for ``--resume``."""
    stem = out[:-3] if out.endswith(".pt") else out
    return run_paths(stem + ".partial.pt")


def discard(staged: dict) -> None:
    """Remove an earlier cancelled run's staged files (a new run starts from scratch)."""
    for path in staged.values():
        if os.path.lexists(path):
            os.remove(path)


def _atomic_write_text(path: str, text: str) -> None:
    """``text`` into ``path`` through a new temporary file (usual umask permissions, never a link)."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = create_temp(folder, ".part")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _clean(value):
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_logs(paths: dict, config: dict, history: list) -> None:
    """Write the run's configuration and per-epoch history as JSON and CSV."""
    rows = [{k: _clean(v) for k, v in row.items()} for row in history]
    _atomic_write_text(paths["json"], json.dumps({"config": config, "history": rows}, indent=1,
                                                 default=str))
    keys = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    fh = io.StringIO(newline="")
    writer = csv.DictWriter(fh, fieldnames=keys)
    writer.writeheader()
    writer.writerows(rows)
    _atomic_write_text(paths["csv"], fh.getvalue())


def plot_curves(path: str, history: list, title: str = "") -> None:
    """PNG of training loss and validation water IoU per epoch (matplotlib Agg)."""
    import warnings

    with warnings.catch_warnings():  # Debian's and the venv's matplotlib side by side warn about Axes3D
        warnings.simplefilter("ignore")
        import matplotlib

        matplotlib.use("Agg", force=False)
        from matplotlib.figure import Figure

    epochs = [row["epoch"] for row in history]
    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(epochs, [row["loss"] for row in history], "o-", color="tab:blue", label="train loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss", color="tab:blue")
    iou = [row.get("val_water_iou") for row in history]
    if any(v is not None and math.isfinite(v) for v in iou):
        ax2 = ax.twinx()
        ax2.plot(epochs, [float("nan") if v is None else v for v in iou], "s-", color="tab:orange")
        ax2.set_ylabel("validation water IoU", color="tab:orange")
        ax2.set_ylim(0, 1)
    ax.set_title(title)
    fig.tight_layout()
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = create_temp(folder, ".png")
    try:
        with os.fdopen(fd, "wb") as fh:
            fig.savefig(fh, format="png")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
