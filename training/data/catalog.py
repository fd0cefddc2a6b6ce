"""Open a dataset by the name of its layout: one place for the command line, QGIS and the worker."""
from __future__ import annotations

TRAINING_DATASETS = ("sen1floods11", "ombria", "pairs", "etci")
EVALUATION_DATASETS = ("sen1floods11", "etci2021", "terramind", "ombria", "pairs")
# The training and validation splits each layout offers by default ("none": no validation).
# Sen1Floods11's official train/valid lists fall back to "all"/"none" when none of their
# chips is present with its files (a partial copy, as ../shared/data holds): see resolve_splits.
DEFAULT_TRAIN_SPLIT = {"sen1floods11": "train", "ombria": "train", "pairs": "all", "etci": "all"}
DEFAULT_VAL_SPLIT = {"sen1floods11": "valid", "ombria": "val", "pairs": "none", "etci": "none"}
# Layouts in dB whose recipe trains with the SAR physics augmentation by default.
SAR_AUGMENT_BY_DEFAULT = ("etci",)


def resolve_splits(kind, root, split=None, val_split=None, labels="hand", with_s2=False):
    """(train split, validation split, notes) with the layout's defaults filled in.

    An empty ``split``/``val_split`` means the layout's default. For
    Sen1Floods11, a default official list with no chip present (all its files,
    and the label asked for) becomes ``all`` for training and ``none`` for
    validation, with a note saying so; splits the user names are kept as given.
    """
    notes = []
    train = split or DEFAULT_TRAIN_SPLIT[kind]
    val = val_split or DEFAULT_VAL_SPLIT[kind]
    if kind == "sen1floods11":
        from ...core.errors import InputError
        from .sen1floods11 import Sen1Floods11

        def present(name):
            try:
                return len(Sen1Floods11(root, name, with_s2=with_s2, label_source=labels)) > 0
            except InputError:
                return False

        if not split and not present(train):
            notes.append(f"no chip of the official '{train}' split has its files under {root}: training on "
                         "every chip present (split all)")
            train = "all"
        if not val_split and val != "none" and (train == "all" or not present(val)):
            notes.append(f"validation split '{val}' is not usable here (no chip present, or training uses "
                         "them all): no validation, the last epoch is kept")
            val = "none"
    return train, val, notes


def open_training_dataset(kind, root, split="all", with_s2=False, labels="hand", unlabelled=False, chip_size=None,
                          ombria_images=None):
    """Build one of the training datasets by name (see training/data/).

    Args:
        kind: ``sen1floods11``, ``ombria``, ``pairs`` or ``etci`` (ETCI 2021 in dB).
        root: the dataset folder.
        split: split name (Sen1Floods11: train, valid, test, bolivia, all;
            OMBRIA: train, val, all; pairs: ignored, the whole folder;
            ETCI: all or scene folder names separated by commas).
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
    if kind == "etci":
        from .etci import Etci2021

        scenes = None if split in ("all", "", None) else [s.strip() for s in split.split(",") if s.strip()]
        return Etci2021(root, scenes, labelled=not unlabelled)
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
