"""The jobs a front end can hand to the worker process (or run in process): plain JSON in and out.

Each job takes ``(args, progress)`` with ``args`` a dict of JSON values and
returns a JSON-serialisable value, so the same call runs in process
(qgis_process, the CLI) or in worker/server.py (desktop QGIS, where torch
must not be imported: core/predict/runtimes.py).
"""
from __future__ import annotations

from dataclasses import asdict


def segment(args: dict, progress):
    """Segment a scene (or a pre/post pair when ``pre_flood`` is given); returns SegmentResult.as_dict()."""
    from ..core.segment import SegmentOptions

    options = SegmentOptions(**args["options"])
    styles = args.get("styles") or {}  # QML text by kind, published as .qml sidecars with the products
    products = dict(probability_path=args.get("probability"), progress=progress,
                    polygons_path=args.get("polygons"), stats_path=args.get("stats"),
                    quicklook_path=args.get("quicklook"),
                    style=(lambda kind, path: styles.get(kind)) if styles else None)
    if args.get("pre_flood"):
        from ..core.change import segment_change

        result = segment_change(args["pre_flood"], args["input"], args["output"], options, **products)
    else:
        from ..core.segment import segment_scene

        result = segment_scene(args["input"], args["output"], options, **products)
    return result.as_dict()


def segment_result(value: dict):
    """A SegmentResult back from :func:`segment`'s JSON (class codes as int keys again)."""
    from ..core.segment import SegmentResult
    from ..core.products.stats import ClassStats

    stats = value.get("stats") or {}
    fields = {k: v for k, v in value.items() if k != "stats"}
    return SegmentResult(**fields, stats=ClassStats(**{k: {int(c): n for c, n in stats[k].items()} for k in stats}))


def segment_args(input_path, output, options, probability=None, polygons=None, stats=None, quicklook=None,
                 pre_flood=None) -> dict:
    """The args of :func:`segment` (options: a SegmentOptions)."""
    return {"input": input_path, "output": output, "options": asdict(options), "probability": probability,
            "polygons": polygons, "stats": stats, "quicklook": quicklook, "pre_flood": pre_flood}


def train(args: dict, progress):
    """Train a teacher, an S1 baseline or a student; returns the trainer's summary.

    args: role (teacher | supervised | student), dataset, root, split,
    val_split ('none' skips validation), config (TrainConfig fields); for a
    student also unlabelled_dataset and unlabelled_root (both or neither).
    """
    from ..core.errors import InputError
    from ..training.data.catalog import open_training_dataset as open_dataset
    from ..training.fit.trainer import TrainConfig

    role, kind, root, split = args["role"], args["dataset"], args["root"], args["split"]
    config = TrainConfig(**{**args["config"], "data_roots": tuple(
        r for r in (root, args.get("unlabelled_root"), *args["config"].get("data_roots", ())) if r)})
    val = None
    if args.get("val_split", "none") != "none":
        val = open_dataset(kind, root, args["val_split"], with_s2=role == "teacher")
    if role == "supervised":
        from ..training.fit.teacher import train_supervised

        return train_supervised(open_dataset(kind, root, split), config, val, progress)
    labelled = open_dataset(kind, root, split, with_s2=True)
    if role == "teacher":
        from ..training.fit.teacher import train_teacher

        return train_teacher(labelled, config, val, progress)
    if role != "student":
        raise InputError(f"unknown training role {role!r}; use teacher, supervised or student")
    from ..training.fit.student import train_student

    u_kind, u_root = args.get("unlabelled_dataset"), args.get("unlabelled_root")
    unlabelled = None
    if not u_root and kind == "ombria":  # OMBRIA's pre-flood images, as the CLI does
        unlabelled = open_dataset(kind, root, split, with_s2=True, unlabelled=True)
    if u_root:
        if not u_kind:
            raise InputError("UNLABELLED_ROOT is set: choose its layout in UNLABELLED_DATASET too.")
        unlabelled = open_dataset(u_kind, u_root, split if u_kind == kind else "all", with_s2=True,
                                  unlabelled=True, chip_size=512 if u_kind == "pairs" else None)
    return train_student(labelled, unlabelled, config, val, progress)


def export_onnx(args: dict, progress):
    """Export a checkpoint to ONNX; returns the metadata stored in the file."""
    from ..core.models.onnx_export import export_onnx as export

    progress.report(0.0, f"exporting {args['checkpoint']} to ONNX")
    meta = export(args["checkpoint"], args["output"])
    progress.report(1.0, "exported")
    return meta


def sleep(args: dict, progress):
    """A job that only waits, polling cancel (tests of the worker protocol)."""
    import time

    steps = int(args.get("steps", 10))
    for i in range(steps):
        progress.check_cancelled()
        progress.report(i / steps, f"step {i + 1} of {steps}")
        time.sleep(float(args.get("seconds", 0.1)))
    if args.get("fail"):
        from ..core.errors import InputError

        raise InputError(args["fail"])
    return {"steps": steps}


JOBS = {"segment": segment, "train": train, "export_onnx": export_onnx, "sleep": sleep}
