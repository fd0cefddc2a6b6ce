"""Are two versions of the engine's maps identical? Run fixed cases, then compare two output folders.

    # with the engine under test, and with another one first on PYTHONPATH (e.g. `git archive REV`
    # unpacked as /tmp/before/floodkd):
    .venv/bin/python benchmarks/compare_maps.py run /tmp/maps_after --scenes /tmp/scenes
    PYTHONPATH=/tmp/before .venv/bin/python benchmarks/compare_maps.py run /tmp/maps_before --scenes /tmp/scenes
    .venv/bin/python benchmarks/compare_maps.py compare /tmp/maps_before /tmp/maps_after

Cases: the fixed threshold and Otsu on a 6144 px scene; the default model
(ONNX) on a 2048 px scene; the bundled .pt with torch (tile 384, overlap 48,
batch 3); ONNX on a 1500 px crop stored as linear power in 7-row LZW strips
with NaN holes and inf; the threshold on a --bbox crop of it. Each writes the
class raster and the float32 probability; ``compare`` checks them pixel for
pixel (NaN equal to NaN) and prints which tags differ.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))


def scenes(folder: Path) -> dict:
    import rasterio

    from segment_benchmark import build_scene

    folder.mkdir(parents=True, exist_ok=True)
    for size in (2048, 6144):
        if not (folder / f"scene_{size}.tif").exists():
            build_scene(folder / f"scene_{size}.tif", size)
    linear = folder / "linear_1500.tif"
    if not linear.exists():
        with rasterio.open(folder / "scene_2048.tif") as src:
            data, profile = src.read(window=((100, 1600), (37, 1537))), src.profile
        data[:, 200:260, 300:900] = np.nan
        data[:, 700:1500, :150] = np.nan
        data[1, 1000:1010] = np.inf
        profile.update(width=1500, height=1500, tiled=False, blockysize=7, compress="lzw", predictor=1)
        profile.pop("blockxsize", None)
        with rasterio.open(linear, "w", **profile) as out:
            out.write((10 ** (data / 10)).astype(np.float32))
            out.descriptions = ("VV", "VH")
    bbox = (503_000, 4_286_000, 512_000, 4_297_000)
    return {"threshold_6144": (folder / "scene_6144.tif", dict(method="threshold")),
            "otsu_6144": (folder / "scene_6144.tif", dict(method="otsu")),
            "onnx_2048": (folder / "scene_2048.tif", dict(method="auto")),
            "torch_2048": (folder / "scene_2048.tif", dict(model="pt", tile=384, overlap=48, batch_size=3)),
            "onnx_linear": (linear, dict(method="auto", units="linear")),
            "threshold_linear_bbox": (linear, dict(method="threshold", bbox=bbox))}


def run(out: Path, folder: Path) -> None:
    from floodkd.core.predict.common import DEFAULT_MODEL
    from floodkd.core.segment import SegmentOptions, segment_scene

    out.mkdir(parents=True, exist_ok=True)
    for name, (scene, kwargs) in scenes(folder).items():
        kwargs = {**kwargs, "model": DEFAULT_MODEL} if kwargs.get("model") == "pt" else kwargs
        r = segment_scene(str(scene), str(out / f"{name}.tif"), SegmentOptions(device="cpu", **kwargs),
                          str(out / f"{name}.prob.tif"))
        print(f"{name}: {r.valid_pixels} valid, {r.water_pixels} water, {r.seconds:.1f} s", flush=True)


def compare(a: Path, b: Path) -> int:
    import rasterio

    differ = 0
    for left in sorted(a.glob("*.tif")):
        right = b / left.name
        with rasterio.open(left) as x, rasterio.open(right) as y:
            u, v = x.read(), y.read()
            same = np.array_equal(u, v, equal_nan=u.dtype.kind == "f")
            tags = sorted(k for k in set(x.tags()) | set(y.tags()) if x.tags().get(k) != y.tags().get(k))
        differ += not same
        print(f"{left.name}: {'identical' if same else f'{int((u != v).sum())} pixels differ'}"
              f"{'; tags differ: ' + ', '.join(tags) if tags else ''}")
    return 1 if differ else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("action", choices=("run", "compare"))
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--scenes", type=Path, default=Path("/tmp/floodkd-compare-scenes"))
    args = parser.parse_args(argv)
    if args.action == "run":
        run(args.folders[0], args.scenes)
        return 0
    return compare(*args.folders[:2])


if __name__ == "__main__":
    sys.exit(main())
