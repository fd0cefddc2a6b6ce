"""Turn an OMBRIA-trained S1 checkpoint into a dB model (the default until issue 7), and calibrate it.

The OMBRIA network sees one 8-bit band / 255. The bundled checkpoint declares
Sentinel-1 VV, VH in dB (what ``floodkd segment`` checks real scenes against)
and the ``db_to_ombria_byte`` input transform (core/representation.py), which
maps VV dB to that byte scale; weights are stored as float16 (loaded into
float32 by ``load_state_dict``).

    python scripts/bundle_model.py calibrate --src runs/results/student_kd_s0.pt
    python scripts/bundle_model.py bundle --src ... --offset 246 --scale 8.3 \
        --facts facts.json --out resources/models/floodkd_s1_student.pt

``calibrate`` scores a grid of (byte at -9 dB, bytes per dB) on the TerraMind
S1RTC tiles against their LULC water class (a weak label: permanent water),
which is what the bundled constants are chosen on, and prints the same grid on
the two labelled Sen1Floods11 chips for information only (not for selection).
"""
import argparse
import glob
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

from floodkd.core.bands import S1_BANDS
from floodkd.core.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint
from floodkd.core.representation import model_input

DATA = os.path.join(ROOT, "..", "shared", "data")


def to_db_checkpoint(src: dict, offset: float, scale: float, smooth: int = 1, band: str = "VV",
                     half: bool = True) -> dict:

    if src.get("in_channels", len(src["bands"])) != 1 or src["bands"][0].get("units") != "uint8_scaled":
        raise SystemExit("source checkpoint must be an OMBRIA S1 (1 band, uint8_scaled) model")
    ckpt = {k: v for k, v in src.items() if k not in ("resume", "state_dict")}
    ckpt["bands"] = [b.to_dict() for b in S1_BANDS]
    ckpt["in_channels"] = 1
    ckpt["input_transform"] = "db_to_ombria_byte"
    ckpt["input_params"] = {"band": band, "offset": float(offset), "scale": float(scale), "smooth": int(smooth)}
    ckpt["state_dict"] = {k: (v.half() if half and v.is_floating_point() else v)
                          for k, v in src["state_dict"].items()}
    ckpt["weights_dtype"] = "float16" if half else "float32"
    ckpt["training"] = {**src.get("training", {}), "source_checkpoint_bands": src["bands"]}
    return ckpt


def water_prob(model, ckpt, s1_db, valid):
    import torch

    x = model_input(s1_db[None], valid[None], [type(S1_BANDS[0]).from_dict(b) for b in ckpt["bands"]], ckpt)
    h, w = x.shape[-2:]
    x = np.pad(x, ((0, 0), (0, 0), (0, (-h) % 32), (0, (-w) % 32)), mode="reflect")
    with torch.inference_mode():
        p = torch.softmax(model(torch.from_numpy(x)), 1)[0, 1, :h, :w].numpy()
    return p


def iou(pred, truth, ok):
    tp = (pred & truth & ok).sum()
    return tp, (pred & ~truth & ok).sum(), (~pred & truth & ok).sum()


def load_sets():
    import rasterio

    tm, s11 = [], []
    for p in sorted(glob.glob(os.path.join(DATA, "terramind_examples", "S1RTC", "*.tif"))):
        s1 = rasterio.open(p).read().astype(np.float32)
        lulc = rasterio.open(p.replace("S1RTC", "LULC")).read(1)
        tm.append((os.path.basename(p), s1, lulc == 1, np.isfinite(s1).all(0)))
    for chip in ("Spain_7370579", "India_900498"):
        s1 = rasterio.open(os.path.join(DATA, "sen1floods11", "S1Hand", f"{chip}_S1Hand.tif")).read()
        lab = rasterio.open(os.path.join(DATA, "sen1floods11", "LabelHand", f"{chip}_LabelHand.tif")).read(1)
        ok = np.isfinite(s1).all(0) & (lab != -1)
        s11.append((chip, np.nan_to_num(s1), lab == 1, ok))
    return tm, s11


def calibrate(args):
    src = load_checkpoint(args.src)
    tm, s11 = load_sets()
    rows = []
    model = None
    grid = [(k, b9, scale) for k in args.smooth for b9 in args.b9 for scale in args.scales]
    for k, b9, scale in grid:
        ckpt = to_db_checkpoint(src, b9 + 9 * scale, scale, k, half=False)
        model = model or model_from_checkpoint(ckpt)
        row = {"smooth": k, "b9": b9, "scale": scale, "offset": b9 + 9 * scale}
        for name, sets in (("terramind_lulc", tm), ("s11", s11)):
            tot = np.zeros(3)
            for chip, s1, truth, ok in sets:
                counts = np.array(iou(water_prob(model, ckpt, s1, ok) > 0.5, truth, ok), float)
                tot += counts
                if name == "s11":
                    row[chip] = counts[0] / max(1, counts.sum())
            row[name] = tot[0] / max(1, tot.sum())
        rows.append(row)
        print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    best = max(rows, key=lambda r: r["terramind_lulc"])
    print("chosen on TerraMind LULC water:", json.dumps(best))


def bundle(args):
    src = load_checkpoint(args.src)
    ckpt = to_db_checkpoint(src, args.offset, args.scale, args.smooth, args.band)
    if args.facts:
        facts = json.load(open(args.facts))
        ckpt["metrics"] = {**facts.get("metrics", {})}
        ckpt["training"] = {**ckpt["training"], **facts.get("training", {})}
    save_checkpoint(ckpt, args.out)
    print(f"wrote {args.out} ({os.path.getsize(args.out) / 2**20:.1f} MiB)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("calibrate")
    c.add_argument("--src", required=True)
    c.add_argument("--smooth", type=int, nargs="+", default=[1, 3, 5])
    c.add_argument("--b9", type=float, nargs="+", default=[165, 177, 189], help="byte at VV = -9 dB")
    c.add_argument("--scales", type=float, nargs="+", default=[6.0, 7.6, 10.0], help="bytes per dB")
    c.set_defaults(run=calibrate)
    b = sub.add_parser("bundle")
    b.add_argument("--src", required=True)
    b.add_argument("--offset", type=float, required=True)
    b.add_argument("--scale", type=float, required=True)
    b.add_argument("--smooth", type=int, default=1)
    b.add_argument("--band", default="VV")
    b.add_argument("--facts", help="JSON with 'metrics' and 'training' fields for the checkpoint")
    b.add_argument("--out", default="resources/models/floodkd_s1_student.pt")
    b.set_defaults(run=bundle)
    args = ap.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
