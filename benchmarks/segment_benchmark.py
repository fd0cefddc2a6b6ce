"""How fast and how lean is `floodkd segment` on whole scenes? Prints a table.

Builds square scenes (default 2048, 4096, 8192 px at 10 m, EPSG:32630) by
mosaicking the real Sen1Floods11 S1Hand chips in ../shared/data (flipped for
variety), writes them as tiled GeoTIFFs in a temporary folder, and runs the
CLI on each in a subprocess, reading the child's peak resident memory from
wait4(). Beside it: the same network run naively (whole scene in memory, one
forward pass, no tiling) where memory allows, and the compute floor (network
FLOPs per pixel, counted with torch's FlopCounterMode, times pixels over the
float32 matrix-product FLOP rate measured here).

The network is the bundled model when one exists, else a randomly initialised
DeepLabV3+ resnet34 (2 inputs) built here: speed does not depend on weights.
Runs whose time, extrapolated from the previous size, would overrun the time
budget are skipped with a note.

    .venv/bin/python benchmarks/segment_benchmark.py [--sizes 2048 4096 8192] [--budget 540]

``--grd`` adds the size of one Sentinel-1 GRD scene, 20480 x 20480 px (419 Mpx;
the scene takes about 1.7 GB, and minutes to build). ``--device cuda`` runs the
model rows on the GPU (the .pt with torch; floor: the GPU's float16 matmul rate,
as the engine runs the network under autocast); the naive row stays on the CPU
and is left out. GPU figures have not been measured yet (docs/performance.md).
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

import numpy as np

REPO = Path(__file__).resolve().parents[1]
CHIPS = REPO.parent / "shared" / "data" / "sen1floods11" / "S1Hand"
PYTHON = sys.executable
GRD_PIXELS = 25_000 * 17_000  # a Sentinel-1 IW GRD scene at 10 m
GRD_SIDE = 20_480  # a square scene of about GRD_PIXELS (419 Mpx), the issue-14 scene
KM2_PER_PIXEL = 1e-4  # 10 m x 10 m


def build_scene(path: Path, size: int) -> None:
    """A size x size VV/VH dB mosaic of the real chips, written strip by strip."""
    import rasterio
    from rasterio.transform import from_origin

    chips = []
    for chip in sorted(CHIPS.glob("*_S1Hand.tif")):
        with rasterio.open(chip) as ds:
            chips.append(ds.read(out_dtype="float32")[:, :512, :512])
    variants = [c[:, ::fy, ::fx] for c in chips for fy in (1, -1) for fx in (1, -1)]
    profile = dict(driver="GTiff", width=size, height=size, count=2, dtype="float32", nodata=None,
                   crs="EPSG:32630", transform=from_origin(500_000, 4_300_000, 10, 10), tiled=True,
                   blockxsize=512, blockysize=512, compress="deflate", predictor=3, BIGTIFF="IF_SAFER",
                   NUM_THREADS="ALL_CPUS")
    with rasterio.open(path, "w", **profile) as ds:
        ds.descriptions = ("VV", "VH")
        for r in range(0, size, 512):
            strip = np.concatenate([variants[(r // 512 * 7 + c // 512) % len(variants)]
                                    for c in range(0, size, 512)], axis=2)
            ds.write(np.ascontiguousarray(strip[:, :min(512, size - r), :size]),
                     window=((r, min(r + 512, size)), (0, size)))


def run_measured(cmd) -> dict:
    """Run ``cmd``; its wall seconds, stdout and stderr (fails loudly)."""
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return {"wall": time.monotonic() - start, "stdout": proc.stdout, "stderr": proc.stderr}


# The child's own peak resident set (VmHWM; ru_maxrss would carry the parent's
# peak across fork+exec on Linux) and the seconds since it started.
REPORT = ("import json\nhwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
          "print('BENCH ' + json.dumps({'rss_mb': int(hwm.split()[1]) / 1024, 'seconds': time.monotonic() - t}))")


def peak_rss_mb(cmd) -> tuple:
    """Run a module in a fresh Python that reports its own peak RSS (ru_maxrss) and seconds."""
    wrapper = ("import runpy, sys, time; sys.argv = sys.argv[1:]; t = time.monotonic()\n"
               "try:\n    runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
               "except SystemExit as e:\n    assert not e.code, e.code\n" + REPORT)
    result = run_measured([PYTHON, "-c", wrapper, *cmd])
    line = [x for x in result["stdout"].splitlines() if x.startswith("BENCH ")][-1]
    stats = json.loads(line[6:])
    return stats, result


def make_checkpoint(folder: Path) -> tuple:
    from floodkd.core.predict.factory import default_model_path

    bundled = default_model_path()
    if bundled:
        return bundled, "bundled model"
    import torch

    from floodkd.core.bands import S1_BANDS
    from floodkd.core.models.checkpoint import make_checkpoint as bundle, save_checkpoint
    from floodkd.core.models.architectures import build_model

    torch.manual_seed(0)
    model = build_model("deeplabv3plus", "resnet34", 2, 2)
    path = folder / "deeplabv3plus_resnet34_random.pt"
    save_checkpoint(bundle(model, "deeplabv3plus", "resnet34", S1_BANDS, {}, role="benchmark-random"), str(path))
    return str(path), "DeepLabV3+ resnet34, random weights"


def compute_floor(checkpoint: str, device: str = "cpu") -> dict:
    """FLOPs per pixel of one forward pass, and the device's matmul FLOP rate (float16 on CUDA)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from floodkd.core.models.checkpoint import load_checkpoint, model_from_checkpoint

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    ckpt = load_checkpoint(checkpoint)
    model = model_from_checkpoint(ckpt)
    x = torch.zeros(1, ckpt.get("in_channels", len(ckpt["bands"])), 512, 512)
    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        model(x)
    per_pixel = counter.get_total_flops() / (512 * 512)
    cuda = device.startswith("cuda")
    a, b = (torch.randn(2048, 2048, device=device, dtype=torch.float16 if cuda else torch.float32)
            for _ in range(2))
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        if cuda:
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return {"flops_per_pixel": per_pixel, "flop_rate": 2 * 2048 ** 3 / best}


NAIVE = """
import sys, numpy as np, rasterio, torch
from floodkd.core.models.checkpoint import load_checkpoint, model_from_checkpoint, checkpoint_bands
from floodkd.core.predict.representation import model_input
ckpt = load_checkpoint(sys.argv[1]); model = model_from_checkpoint(ckpt)
with rasterio.open(sys.argv[2]) as ds:
    raw = ds.read(out_dtype="float32"); profile = ds.profile
valid = np.isfinite(raw).all(0)
x = model_input(np.nan_to_num(raw)[None], valid[None], checkpoint_bands(ckpt), ckpt)
with torch.inference_mode():
    classes = model(torch.from_numpy(x)).argmax(1)[0].numpy().astype("uint8")
classes[~valid] = 255
profile.update(count=1, dtype="uint8", nodata=255)
with rasterio.open(sys.argv[3], "w", **profile) as out:
    out.write(classes, 1)
"""


def table_row(name, size, seconds, rss_mb, note=""):
    pixels = size * size
    mpx_s = pixels / 1e6 / seconds
    return (f"| {name} | {size} | {seconds:7.1f} | {mpx_s:6.3f} | {mpx_s * 1e6 * KM2_PER_PIXEL:7.1f} | "
            f"{rss_mb:6.0f} | {GRD_PIXELS / (mpx_s * 1e6) / 60:7.1f} | {note} |")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2048, 4096, 8192])
    parser.add_argument("--budget", type=float, default=540, help="seconds for all runs together")
    parser.add_argument("--naive-max", type=int, default=2048, help="largest size run naively")
    parser.add_argument("--onnx", action="store_true", help="also run the exported ONNX model (onnxruntime)")
    parser.add_argument("--keep", help="folder to keep the scenes and outputs in (default: a temp dir)")
    parser.add_argument("--model", help="a checkpoint (.pt) to time instead of the bundled model")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (the model rows)")
    parser.add_argument("--grd", action="store_true", help=f"add a GRD-size scene ({GRD_SIDE} px a side)")
    args = parser.parse_args(argv)
    if args.grd and GRD_SIDE not in args.sizes:
        args.sizes.append(GRD_SIDE)
    if args.device.startswith("cuda"):
        args.naive_max = 0
    t0 = time.monotonic()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="floodkd-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    checkpoint, model_name = (args.model, args.model) if args.model else make_checkpoint(folder)
    floor = compute_floor(checkpoint, args.device)
    threads = len(os.sched_getaffinity(0))
    where = "torch CPU"
    if args.device.startswith("cuda"):
        import torch

        where = f"{torch.cuda.get_device_name(0)} (CUDA), model rows on the GPU"
    print(f"machine: {threads} CPU(s) usable, {os.cpu_count()} present; {where}; model: {model_name}")
    print(f"model FLOPs/pixel {floor['flops_per_pixel']:.0f}; {'float16' if args.device != 'cpu' else 'float32'} "
          f"matmul rate {floor['flop_rate'] / 1e9:.1f} GFLOP/s")
    methods = [("model (torch)", ["--model", checkpoint])]
    if args.onnx and not args.device.startswith("cuda"):
        onnx_path = folder / "model.onnx"
        subprocess.run([PYTHON, "-m", "floodkd.cli", "export-onnx", checkpoint, str(onnx_path)],
                       check=True, capture_output=True)
        methods.append(("model (onnxruntime)", ["--model", str(onnx_path)]))
    methods.append(("otsu", ["--method", "otsu"]))
    print("| method | size px | seconds | Mpx/s | km2/s | peak RSS MB | min per GRD scene | note |")
    print("|---|---|---|---|---|---|---|---|")
    rates, notes = {}, []
    for size in args.sizes:
        scene = folder / f"scene_{size}.tif"
        if not scene.exists():
            build_scene(scene, size)
        floor_s = floor["flops_per_pixel"] * size * size / floor["flop_rate"]
        print(table_row("compute floor", size, floor_s, 0, "FLOPs / matmul rate, no overlap, no I/O"), flush=True)
        for name, extra in methods:
            left = args.budget - (time.monotonic() - t0)
            guess = size * size / rates[name] if name in rates else 0
            if guess > left:
                notes.append(f"skipped {name} at {size} px: about {guess:.0f} s expected, {left:.0f} s of budget left")
                continue
            out = folder / f"out_{size}_{name.split()[0]}.tif"
            cmd = ["floodkd.cli", "segment", str(scene), str(out), "--device", args.device, "--json", *extra]
            stats, result = peak_rss_mb(cmd)
            summary = json.loads([x for x in result["stdout"].splitlines() if x.startswith("{")][-1])
            rates[name] = size * size / stats["seconds"]
            print(table_row(name, size, stats["seconds"], stats["rss_mb"],
                            f"engine {summary['seconds']:.1f} s of it"), flush=True)
        if size <= args.naive_max:
            stats, _ = _naive(checkpoint, scene, folder / f"naive_{size}.tif")
            print(table_row("naive (whole scene, 1 pass)", size, stats["seconds"], stats["rss_mb"]), flush=True)
        elif size > args.naive_max:
            notes.append(f"naive not run at {size} px: whole-scene activations need several times the "
                         f"memory of {args.naive_max} px (see its peak RSS)")
    for note in notes:
        print(f"note: {note}")
    print(f"total benchmark time {time.monotonic() - t0:.0f} s; scenes in {folder}")
    return 0


def _naive(checkpoint, scene, out):
    script = Path(tempfile.mkstemp(suffix="_naive.py")[1])
    script.write_text(NAIVE)
    wrapper = ("import runpy, sys, time; t = time.monotonic(); sys.argv = sys.argv[1:]\n"
               "runpy.run_path(sys.argv[0], run_name='__main__')\n" + REPORT)
    result = run_measured([PYTHON, "-c", wrapper, str(script), checkpoint, str(scene), str(out)])
    script.unlink()
    line = [x for x in result["stdout"].splitlines() if x.startswith("BENCH ")][-1]
    return json.loads(line[6:]), result


if __name__ == "__main__":
    sys.exit(main())
