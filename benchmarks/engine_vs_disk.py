"""How close is `floodkd segment` to the disk and to the network? Back-to-back runs, one table.

On one scene (built from the real Sen1Floods11 chips by segment_benchmark.build_scene
unless given), each in a fresh process, one after another, ``--repeat`` rounds:

* **loop**: plain rasterio, one thread: read every block, write a uint8 DEFLATE
  mask (VH < -23.25 dB) tiled 256 like the engine's output;
* **threshold**: ``floodkd segment --method threshold``;
* **network**: the default model alone (onnxruntime, the engine's threads) on as
  many tiles and batches as the engine runs on this scene: one real batch of
  the scene's first strip, prepared once, run again and again (no I/O);
* **model**: ``floodkd segment`` with the default model (the bundled .onnx).

It prints wall seconds (best of the rounds; the process from start to exit,
imports included), CPU seconds (user + system, all threads), peak resident
memory, and the goals' ratios: threshold / loop, model / (loop + network).
``--device cuda`` runs the model rows with ``--device cuda`` (the .pt with
torch); ``--stage-times`` adds the engine's per-stage seconds (FLOODKD_STAGE_TIMES).

    .venv/bin/python benchmarks/engine_vs_disk.py [--size 6144] [--repeat 3] [--scene S.tif]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from segment_benchmark import build_scene  # noqa: E402

PYTHON = sys.executable
LOOP = """
import sys, numpy as np, rasterio
with rasterio.open(sys.argv[1]) as src:
    profile = dict(driver="GTiff", width=src.width, height=src.height, count=1, dtype="uint8", nodata=255,
                   crs=src.crs, transform=src.transform, compress="deflate", tiled=True, blockxsize=256,
                   blockysize=256)
    with rasterio.open(sys.argv[2], "w", **profile) as dst:
        for _, window in src.block_windows(1):
            vv_vh = src.read(window=window)
            dst.write((vv_vh[1] < -23.25).astype(np.uint8), 1, window=window)
"""
NETWORK = """
import sys, numpy as np, rasterio
from rasterio.windows import Window
from floodkd.core.io.raster_io import inspect_sar, read_block
from floodkd.core.io.strip_reader import strip_tile_batches
from floodkd.core.predict.factory import make_predictor
from floodkd.core.predict.representation import model_input
from floodkd.core.predict.tiling import tile_starts
tile, overlap, batch = 512, 64, 2
source = inspect_sar(sys.argv[1])
predictor = make_predictor("model", sys.argv[3] or None, sys.argv[2], False, 0)
rows, cols = tile_starts(source.height, tile, overlap), tile_starts(source.width, tile, overlap)
with rasterio.open(source.path) as ds:
    data, valid = read_block(ds, source, Window(0, 0, source.width, tile))
b_cols, raw, mask = next(strip_tile_batches(data, valid, cols, tile, batch))
run = getattr(predictor, "_probs", None)
x = model_input(raw, mask, predictor.bands, predictor.ckpt)
batches = len(rows) * -(-len(cols) // batch)
for _ in range(batches):
    run(x) if run else predictor.predict(raw, mask)
print("NETWORK", batches, "batches of", batch)
"""
REPORT = ("import json, resource, time\nhwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
          "r = resource.getrusage(resource.RUSAGE_SELF)\n"
          "print('BENCH ' + json.dumps({'rss_mb': int(hwm.split()[1]) / 1024, 'cpu': r.ru_utime + r.ru_stime}))")


def measure(args: list, env=None) -> dict:
    """Run Python ``args`` (a script text or ``-m module ...``) in a fresh process: wall, CPU, peak RSS."""
    if args[0] == "-m":
        body = ("import runpy, sys; sys.argv = sys.argv[1:]\ntry:\n    runpy.run_module(sys.argv[0], "
                "run_name='__main__', alter_sys=True)\nexcept SystemExit as e:\n    assert not e.code, e.code\n")
        cmd = [PYTHON, "-c", body + REPORT, *args[1:]]
    else:
        cmd = [PYTHON, "-c", args[0] + REPORT, *args[1:]]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:3])}... failed: {proc.stderr[-2000:]}")
    stats = json.loads([x for x in proc.stdout.splitlines() if x.startswith("BENCH ")][-1][6:])
    stages = [x for x in proc.stderr.splitlines() if x.startswith("stage seconds")]
    return {"wall": wall, **stats, "stages": stages[-1] if stages else ""}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=6144)
    parser.add_argument("--scene", help="an existing VV/VH dB GeoTIFF instead of building one")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--device", default="cpu", help="cpu (the .onnx) or cuda (the .pt with torch)")
    parser.add_argument("--skip", nargs="*", default=[], help="rows to leave out: loop threshold network model")
    parser.add_argument("--stage-times", action="store_true")
    parser.add_argument("--segment-args", default="", help="more options for the model run, e.g. '--tile 1024'")
    parser.add_argument("--keep", help="folder for the scene and outputs (default: a temp dir)")
    args = parser.parse_args(argv)
    folder = Path(args.keep or tempfile.mkdtemp(prefix="floodkd-disk-"))
    folder.mkdir(parents=True, exist_ok=True)
    scene = Path(args.scene) if args.scene else folder / f"scene_{args.size}.tif"
    if not scene.exists():
        t = time.monotonic()
        build_scene(scene, args.size)
        print(f"built {scene} in {time.monotonic() - t:.1f} s")
    model = []
    if args.device.startswith("cuda"):
        from floodkd.core.predict.common import DEFAULT_MODEL
        model = ["--model", DEFAULT_MODEL]
    env = {"FLOODKD_STAGE_TIMES": "1"} if args.stage_times else {}
    segment = ["-m", "floodkd.cli", "segment", str(scene)]
    runs = {"loop": lambda: measure([LOOP, str(scene), str(folder / "loop.tif")]),
            "threshold": lambda: measure([*segment, str(folder / "thr.tif"), "--method", "threshold"], env),
            "network": lambda: measure([NETWORK, str(scene), args.device, model[1] if model else ""]),
            "model": lambda: measure([*segment, str(folder / "model.tif"), "--device", args.device, *model,
                                     *args.segment_args.split()], env)}
    best = {}
    for round_ in range(args.repeat):
        for name, run in runs.items():
            if name in args.skip:
                continue
            r = run()
            print(f"round {round_ + 1} {name:9s} wall {r['wall']:6.2f} s  cpu {r['cpu']:6.2f} s  "
                  f"peak {r['rss_mb']:5.0f} MB  {r['stages']}", flush=True)
            if name not in best or r["wall"] < best[name]["wall"]:
                best[name] = r
    load = os.getloadavg()
    print(f"\n{scene.name}: {os.cpu_count()} CPUs, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; "
          f"best of {args.repeat}\n")
    print("| run | wall s | CPU s | peak RSS MB |\n|---|---|---|---|")
    for name, r in best.items():
        print(f"| {name} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['rss_mb']:.0f} |")
    if {"loop", "threshold"} <= best.keys():
        print(f"\nthreshold / loop: {best['threshold']['wall'] / best['loop']['wall']:.2f} (goal <= 1.5)")
    if {"loop", "network", "model"} <= best.keys():
        floor = best["loop"]["wall"] + best["network"]["wall"]
        print(f"model / (loop + network): {best['model']['wall'] / floor:.2f} (goal <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
