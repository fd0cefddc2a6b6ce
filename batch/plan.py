"""Which scenes a batch maps and where each one's products go, all checked before any work.

INPUT is a raster, a glob (``data/*.tif``, ``**`` recurses) or a text file
(``.txt``/``.lst``) with one path per line (blank lines and ``#`` comments
skipped; relative paths are relative to the list). Scene ``X.tif`` writes
``DIR/X_water.tif`` and, when asked, ``X_probability.tif``, ``X_water.gpkg``,
``X_stats.csv`` (or ``.json``) and ``X_quicklook.png`` in the same folder.
"""
from __future__ import annotations

import glob
import os
from dataclasses import dataclass, field

from ..core.errors import InputError

LIST_EXTENSIONS = (".txt", ".lst")
SUFFIXES = {"output": "_water.tif", "probability": "_probability.tif", "polygons": "_water.gpkg",
            "quicklook": "_quicklook.png"}


@dataclass
class SceneJob:
    scene: str
    output: str
    products: dict = field(default_factory=dict)  # role (probability, polygons, stats, quicklook) -> path

    @property
    def stem(self):
        return scene_stem(self.scene)

    def paths(self):
        return [self.output, *self.products.values()]

    def complete(self) -> bool:
        """Every product exists: runs publish all of them or none, so this means a finished run."""
        return all(os.path.isfile(p) for p in self.paths())


def scene_stem(path: str) -> str:
    return os.path.splitext(os.path.basename(path))[0]


def _read_list(path):
    folder = os.path.dirname(os.path.abspath(path))
    with open(path, encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    return [os.path.join(folder, line) for line in lines if line and not line.startswith("#")]


def expand_inputs(inputs) -> list:
    """Scene paths from files, globs and list files, in the order given (duplicates dropped)."""
    scenes = []
    for item in inputs:
        if os.path.isfile(item) and item.lower().endswith(LIST_EXTENSIONS):
            found = _read_list(item)
            if not found:
                raise InputError(f"the scene list {item} names no scene; give one path per line")
        elif os.path.exists(item) or not glob.has_magic(item):
            found = [item]  # a missing file is one scene that fails (recorded), not a stop
        else:
            found = sorted(glob.glob(item, recursive=True))
            if not found:
                raise InputError(f"no file matches {item}; check the pattern (quote it so that floodkd, not the "
                                 "shell, expands it) or give the files themselves")
        scenes += [os.path.abspath(s) for s in found]
    return list(dict.fromkeys(scenes))


def plan_jobs(scenes, out_dir, probability=False, polygons=False, stats=None, quicklook=False) -> list:
    """One SceneJob per scene; refuses two scenes with one stem and outputs that are another scene."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputError(f"--out-dir {out_dir} is a file; give a folder (it is created if missing)")
    wanted = {"probability": probability, "polygons": polygons, "quicklook": quicklook}
    jobs, by_stem = [], {}
    for scene in scenes:
        stem = scene_stem(scene)
        if stem in by_stem:
            raise InputError(f"{by_stem[stem]} and {scene} would both write {stem}_water.tif in {out_dir}; "
                             "rename one of them or run them in separate batches")
        by_stem[stem] = scene
        products = {role: os.path.join(out_dir, stem + SUFFIXES[role]) for role, on in wanted.items() if on}
        if stats:
            products["stats"] = os.path.join(out_dir, f"{stem}_stats.{stats}")
        jobs.append(SceneJob(scene, os.path.join(out_dir, stem + SUFFIXES["output"]), products))
    inputs = {os.path.realpath(s): s for s in scenes}
    for job in jobs:
        for path in job.paths():
            if os.path.realpath(path) in inputs:
                raise InputError(f"{path} (a product of {job.scene}) is the scene {inputs[os.path.realpath(path)]} "
                                 "of this batch; writing it would destroy that input. Choose another --out-dir.")
    return jobs
