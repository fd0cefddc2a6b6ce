"""Core's messages in QGIS's words: parameters instead of command-line options, algorithms instead of
commands, the plugin's install dialog instead of scripts/setup.sh (which the plugin zip does not hold).

Core speaks the command line's language (it serves both front ends); every error
a Processing algorithm raises goes through :func:`for_qgis` (feedback.run_core).
"""
import re

INSTALL_DIALOG = "Raster > floodkd > Install Python dependencies…"
# floodkd subcommand -> the Processing algorithm that does the same
ALGORITHMS = {
    "train-teacher": "'Train the S1+S2 teacher'", "train-supervised": "'Train a Sentinel-1 baseline on labels'",
    "distill": "'Distil a Sentinel-1 student from the teacher'", "export-onnx": "'Export a model to ONNX'",
    "evaluate": "'Evaluate a flood model on labelled chips'", "segment": "'Segment flood water (Sentinel-1)'",
}
# command-line option -> parameter id (options of the commands above that messages name)
PARAMETERS = {
    "method": "METHOD", "model": "MODEL", "teacher": "TEACHER", "resume": "RESUME", "out": "OUTPUT",
    "dataset": "DATASET", "root": "ROOT", "split": "SPLIT", "val-split": "VAL_SPLIT", "device": "DEVICE",
    "units": "UNITS", "bbox": "EXTENT", "tile": "TILE", "overlap": "OVERLAP", "batch-size": "BATCH_SIZE",
    "threads": "THREADS", "epochs": "EPOCHS", "crop": "CROP", "arch": "ARCH", "encoder": "ENCODER",
    "lr": "LR", "seed": "SEED", "probability": "OUTPUT_PROBABILITY", "pre-flood": "PRE_FLOOD",
    "permanent-water": "PERMANENT_WATER", "dem": "DEM", "polygons": "OUTPUT_POLYGONS", "stats": "OUTPUT_STATS",
    "unlabelled-root": "UNLABELLED_ROOT", "unlabelled-dataset": "UNLABELLED_DATASET",
    "threshold": "THRESHOLD", "tta": "TTA", "cog": "COG",
}
SETUP = [  # (pattern, replacement), the longest first
    (r";? ?outside QGIS install them into a virtual environment \(`pip install [^`]*`,? or scripts/setup\.sh "
     r"in the repository\)", ""),
    (r"\(pinned in requirements\.txt; run scripts/setup\.sh\)", f"(install it from {INSTALL_DIALOG})"),
    (r"(?:re)?install it with scripts/setup\.sh", f"reinstall it from {INSTALL_DIALOG}"),
    (r"(?:[Rr]un )?scripts/setup\.sh,? (?:\()?or `pip install -r requirements\.txt`(?:\))?(?: again)?",
     f"install it from {INSTALL_DIALOG}"),
    (r"`pip install -r requirements\.txt`", f"install it from {INSTALL_DIALOG}"),
    (r"scripts/setup\.sh", INSTALL_DIALOG),
]


def missing_package(message: str) -> str:
    """A MissingDependency in QGIS: what is missing and the install dialog (no command line, no Otsu tip)."""
    found = re.match(r"\s*(.+?),? (?:which )?(?:is|are) not installed", message)
    what = found.group(1) if found else "A Python package floodkd needs"
    what = "PyTorch" if what == "torch" else what[0].upper() + what[1:]
    return f"{what} is not installed in QGIS's Python: install it from {INSTALL_DIALOG}, then run again."


def for_qgis(message: str) -> str:
    """``message`` with the command line's words replaced by QGIS's."""
    for pattern, replacement in SETUP:
        message = re.sub(pattern, replacement, message)
    message = re.sub(r"`floodkd ([a-z-]+)[^`]*`", lambda m: ALGORITHMS.get(m.group(1), m.group(0)), message)
    message = re.sub(r"`(train-teacher|train-supervised|distill|export-onnx)`",
                     lambda m: ALGORITHMS[m.group(1)], message)
    message = re.sub(r"--([a-z][a-z-]*) (\S+) \(([A-Z_]+) \2 in QGIS\)", r"\3 \2", message)  # both spelled out
    message = re.sub(r"(?<![\w-])--([a-z][a-z-]*)",
                     lambda m: PARAMETERS.get(m.group(1), m.group(0)), message)
    return message
