"""``floodkd segment-batch INPUT... --out-dir DIR``: many scenes on Dask (the batch/ backend)."""
from __future__ import annotations

from .segment import add_context_arguments, add_engine_arguments, segment_options, terminate_as_interrupt


def add_parser(sub, name):
    p = sub.add_parser(name, help="map water in many scenes on Dask (this machine or a cluster)",
                       description="Maps each scene like `floodkd segment` into DIR/<stem>_water.tif (and the "
                                   "products asked for, same stem) and writes DIR/summary.csv. A failing scene "
                                   "is recorded and the batch goes on (exit 1 at the end); a rerun skips scenes "
                                   "whose products all exist.")
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a Sentinel-1 raster, a glob such as 'scenes/*.tif' (quoted), or a .txt/.lst file "
                        "with one path per line")
    p.add_argument("--out-dir", required=True, help="folder for every product and summary.csv (created if missing)")
    p.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786 "
                                       "(default: $DASK_SCHEDULER_ADDRESS, else a local cluster)")
    p.add_argument("--workers", type=int, default=2,
                   help="worker processes of the local cluster (default 2); each maps one scene at a time "
                        "with usable cores / workers threads")
    p.add_argument("--overwrite", action="store_true", help="map scenes again even if their products exist")
    g = p.add_argument_group("products per scene (same stem as the scene, in --out-dir)")
    g.add_argument("--probability", action="store_true", help="<stem>_probability.tif, float32 water probability")
    g.add_argument("--polygons", action="store_true", help="<stem>_water.gpkg, water polygons")
    g.add_argument("--stats", nargs="?", const="csv", choices=["csv", "json"], help="<stem>_stats.csv (or json)")
    g.add_argument("--quicklook", action="store_true", help="<stem>_quicklook.png")
    add_engine_arguments(p)
    add_context_arguments(p, product_paths=False)
    p.set_defaults(run=run)


def run(args) -> int:
    from ..batch.runner import run_batch
    from .progress_bar import TqdmProgress

    with terminate_as_interrupt(), TqdmProgress(unit="scene") as progress:
        result = run_batch(args.inputs, args.out_dir, segment_options(args), args.probability, args.polygons,
                           args.stats, args.quicklook, args.scheduler, args.workers, args.overwrite, progress)
    ok, skipped, failed = (result.count(s) for s in ("ok", "skipped", "failed"))
    print(f"{ok} mapped, {skipped} skipped (already done), {failed} failed; summary: {result.summary}")
    return 1 if failed else 0
