"""Run torch work out of desktop QGIS's process: the worker process (worker/server.py).

In desktop QGIS the plugin keeps torch out of the process (core/predict/runtimes.py);
the algorithms then send a .pt model's segmentation, training and export to
the worker through :func:`run_job` and get back the same result, errors and
cancel. qgis_process and other hosts run in process, as before.
"""
import os
from functools import partial

from qgis.core import QgsApplication

from ..core.predict.model_choice import model_needs_torch
from ..core.predict.runtimes import (allow_torch_in_process, keep_torch_out_of_process, torch_in_process,
                                     torch_installed)
from ..worker import jobs as worker_jobs
from ..worker.client import run_job as run_in_worker
from .feedback import run_core
from .messages import INSTALL_DIALOG

GUI_REASON = ("desktop QGIS: importing PyTorch there crashes QGIS (triton's LLVM clashes with the Mesa LLVM "
              "QGIS has loaded), so torch work runs in a worker process")


def in_desktop_qgis() -> bool:
    """True in the QGIS desktop application (not qgis_process, not a standalone script)."""
    app = QgsApplication.instance()
    return app is not None and app.platform() == "desktop"


def configure_runtime():
    """Keep torch out of the desktop QGIS process; allow it elsewhere. Returns whether it is kept out."""
    if in_desktop_qgis():
        keep_torch_out_of_process(GUI_REASON)
        return True
    allow_torch_in_process()
    return False


def torch_problem(what: str):
    """Why ``what`` cannot run: PyTorch is not installed here (checked before Run), or None."""
    if torch_installed():
        return None
    return (f"{what} needs PyTorch (torch and segmentation-models-pytorch), which is not installed in QGIS's "
            f"Python: install it from {INSTALL_DIALOG}, then run again.")


def run_job(job, args, progress, needs_torch=True):
    """Run ``job`` (worker/jobs.py) here, or in the worker when it needs torch and torch must stay out."""
    if needs_torch and not torch_in_process():
        progress.info("running in a separate Python process (PyTorch is kept out of desktop QGIS)")
        return run_core(run_in_worker, job, args, progress)
    return run_core(worker_jobs.JOBS[job], args, progress)


def run_segment(engine, input_path, output, options, probability, progress, polygons, stats, style):
    """``engine(input_path, output, options, ...)`` here, or the same run in the worker when it needs torch.

    ``engine`` is core's segment_scene, or segment_change bound to its
    pre-flood scene (functools.partial), whose first argument is then passed on.
    """
    if not model_needs_torch(options.method, options.model) or torch_in_process():
        return run_core(engine, input_path, output, options, probability, progress, polygons, stats, style=style)
    pre_flood = engine.args[0] if isinstance(engine, partial) else None
    args = worker_jobs.segment_args(input_path, output, options, probability, polygons, stats, pre_flood=pre_flood)
    return _segment_in_worker(args, progress, style)


def _segment_in_worker(args, progress, style):
    """The worker's segment job. The rasters' QML styles travel with the job, so the worker publishes them
    with the products (all or none, never through a link); the polygon style is stored in the GeoPackage."""
    if style is not None:
        from .styling import raster_style_texts

        args = {**args, "styles": raster_style_texts()}
    result = worker_jobs.segment_result(run_job("segment", args, progress))
    polygons = args.get("polygons")
    if style is not None and polygons and os.path.isfile(polygons) and not os.path.islink(polygons):
        style("polygons", polygons)
    return result
