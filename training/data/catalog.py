"""Open a dataset by the name of its layout: one place for the command line, QGIS and the worker."""
from __future__ import annotations

TRAINING_DATASETS = ("sen1floods11", "ombria", "pairs")
EVALUATION_DATASETS = ("sen1floods11", "etci2021", "terramind", "ombria", "pairs")
# The validation split each training layout offers by default ("none": no validation).
DEFAULT_VAL_SPLIT = {"sen1floods11": "valid", "ombria": "val", "pairs": "none"}


def open_training_dataset(kind, root, split="all", with_s2=False, labels="hand", unlabelled=False, chip_size=None,
                          ombria_images=None):
    """Build one of the training datasets by name (see training/data/).

    Args:
        kind: ``sen1floods11``, ``ombria`` or ``pairs``.
        root: the dataset folder.
        split: split name (Sen1Floods11: train, valid, test, bolivia, all;
            OMBRIA: train, val, all; pairs: ignored, the whole folder).
        with_s2: also load Sentinel-2.
        labels: Sen1Floods11 label source (hand or a weak-label folder).
        unlabelled: for distillation: Sen1Floods11 without labels, OMBRIA's
            pre-flood ("before") images.
        chip_size: cut pair-folder rasters into chips of this size.
        ombria_images: OMBRIA ``before`` or ``after`` images; default: before
            when ``unlabelled``, else after. Flood-time ``after`` images used
            as unlabelled data give the teacher flood scenes to label.
    """
    from ...core.errors import InputError

    if kind == "sen1floods11":
        from .sen1floods11 import Sen1Floods11

        return Sen1Floods11(root, split, with_s2=with_s2, label_source="none" if unlabelled else labels)
    if kind == "ombria":
        from .ombria import Ombria

        which = ombria_images or ("before" if unlabelled else "after")
        return Ombria(root, split, which=which, with_s2=with_s2)
    if kind == "pairs":
        from .pairs import PairFolder

        return PairFolder(root, with_s2=with_s2, chip_size=chip_size)
    raise InputError(f"unknown dataset '{kind}'; use one of {', '.join(TRAINING_DATASETS)}")


def open_evaluation_dataset(kind: str, root: str, split: str, with_s2: bool, label_source: str = "hand"):
    """A labelled dataset to score on, by layout name (one of EVALUATION_DATASETS)."""
    from ...core.errors import InputError

    if kind == "sen1floods11":
        from .sen1floods11 import Sen1Floods11

        return Sen1Floods11(root, split, with_s2=with_s2, label_source=label_source)
    if kind == "etci2021":
        from .etci import Etci2021

        return Etci2021(root, None if split == "all" else [split])
    if kind == "terramind":
        from .terramind import TerraMindTiles

        return TerraMindTiles(root, label_source="lulc")
    if kind == "ombria":
        from .ombria import Ombria

        return Ombria(root, split, with_s2=with_s2)
    if split != "all":
        raise InputError(f"a pairs folder has no splits; use --split all (got '{split}')")
    from .pairs import PairFolder

    return PairFolder(root, with_s2=with_s2)
