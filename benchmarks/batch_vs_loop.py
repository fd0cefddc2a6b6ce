"""Scenes per hour: ``floodkd segment-batch`` on its local Dask cluster vs a shell loop of ``floodkd segment``.

The scenes are the real Sen1Floods11 S1Hand chips of ../shared/data, each as a
VRT mosaic of MOSAIC x MOSAIC copies of itself (512 px chips -> MOSAIC*512 px
scenes), COPIES times under distinct names, in a temporary folder. The loop
runs ``floodkd segment`` once per scene, one after the other (each run uses
every usable core); the batch runs them all with ``--workers WORKERS`` (each
worker one scene at a time with cores / workers threads). Both use the same
method (the bundled model by default) and the same cores; the batch time
includes starting its cluster. Prints both and their ratio.

    .venv/bin/python benchmarks/batch_vs_loop.py [--mosaic 2] [--copies 2] [--workers 2] [--method auto]
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rasterio

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "sen1floods11" / "S1Hand"
FLOODKD = Path(sys.executable).with_name("floodkd")


def mosaic_vrt(chip: Path, path: Path, n: int):
    with rasterio.open(chip) as ds:
        w, h, t, wkt = ds.width, ds.height, ds.transform, ds.crs.to_wkt()
    sources = lambda b: "".join(  # noqa: E731
        f'<SimpleSource><SourceFilename relativeToVRT="0">{chip.resolve()}</SourceFilename><SourceBand>{b}'
        f'</SourceBand><SrcRect xOff="0" yOff="0" xSize="{w}" ySize="{h}"/>'
        f'<DstRect xOff="{i * w}" yOff="{j * h}" xSize="{w}" ySize="{h}"/></SimpleSource>'
        for i in range(n) for j in range(n))
    bands = "".join(f'<VRTRasterBand dataType="Float32" band="{b}">{sources(b)}</VRTRasterBand>' for b in (1, 2))
    path.write_text(f'<VRTDataset rasterXSize="{w * n}" rasterYSize="{h * n}"><SRS>{wkt}</SRS>'
                    f'<GeoTransform>{t.c}, {t.a}, 0, {t.f}, 0, {t.e}</GeoTransform>{bands}</VRTDataset>')


def timed(cmd, **kwargs) -> float:
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} failed:\n{proc.stderr[-2000:]}")
    return time.monotonic() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mosaic", type=int, default=2, help="scene side in chips (default 2: 1024 px)")
    parser.add_argument("--copies", type=int, default=2, help="copies of each chip (default 2: 12 scenes)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--method", default="auto")
    args = parser.parse_args()
    chips = sorted(DATA.glob("*_S1Hand.tif"))
    if not chips:
        sys.exit(f"no chips in {DATA}")
    work = Path(tempfile.mkdtemp(prefix="floodkd-batch-bench-"))
    try:
        scenes = []
        for k in range(args.copies):
            for chip in chips:
                scenes.append(work / "in" / f"{chip.stem}_{k}.vrt")
                scenes[-1].parent.mkdir(exist_ok=True)
                mosaic_vrt(chip, scenes[-1], args.mosaic)
        cores = len(os.sched_getaffinity(0))
        env = dict(os.environ)
        loop = timed(["bash", "-c", 'for s in "$@"; do "$0" segment "$s" "$OUT/$(basename "$s" .vrt)_water.tif" '
                      f'--method {args.method} >/dev/null || exit 1; done', str(FLOODKD), *map(str, scenes)],
                     env={**env, "OUT": str(work / "loop")})
        batch = timed([str(FLOODKD), "segment-batch", *map(str, scenes), "--out-dir", str(work / "batch"),
                       "--workers", str(args.workers), "--method", args.method], env=env)
        side = 512 * args.mosaic
        print(f"{len(scenes)} scenes of {side} x {side} px, method {args.method}, {cores} usable cores")
        for name, seconds in (("shell loop of floodkd segment", loop),
                              (f"segment-batch, LocalCluster of {args.workers} workers", batch)):
            print(f"{name:45s} {seconds:7.1f} s  {3600 * len(scenes) / seconds:8.0f} scenes/hour")
        print(f"batch / loop throughput: {loop / batch:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
