"""Markdown table of the OMBRIA val results written by scripts/reproduce_results.sh.

Usage: python scripts/results_table.py runs/results
"""
import glob
import json
import os
import re
import statistics
import sys


def main(out: str) -> None:
    times = {}
    tsv = os.path.join(out, "times.tsv")
    if os.path.isfile(tsv):
        for line in open(tsv):
            name, seconds, _ = line.rstrip("\n").split("\t", 2)
            times[name] = int(seconds)
    rows = {}
    for path in sorted(glob.glob(os.path.join(out, "eval", "*.json"))):
        name = os.path.basename(path)[:-5]
        r = json.load(open(path))
        m = re.match(r"(.+?)(?:_s(\d+))?(?:_(best|last))?$", name)
        method, seed, which = m.group(1), m.group(2), m.group(3) or "-"
        rows.setdefault((method, which), []).append((seed, r, times.get(f"{method}_s{seed}" if seed else method)))
    print("| method | epoch | seeds | water IoU | mIoU | F1 | per seed water IoU | train wall s |")
    print("|---|---|---|---|---|---|---|---|")
    for (method, which), runs in rows.items():
        def agg(key):
            vals = [r[key] for _, r, _ in runs]
            mean = statistics.mean(vals)
            return f"{mean:.4f}" + (f" ± {statistics.stdev(vals):.4f}" if len(vals) > 1 else "")
        seeds = ",".join(s or "-" for s, _, _ in runs)
        per = ", ".join(f"{r['water_iou']:.4f}" for _, r, _ in runs)
        wall = ", ".join(str(t) for _, _, t in runs if t is not None) or "-"
        print(f"| {method} | {which} | {seeds} | {agg('water_iou')} | {agg('miou')} | {agg('f1')} | {per} | {wall} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs/results")
