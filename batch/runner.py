"""Map many scenes on Dask: an embedded LocalCluster, or a cluster that is already running.

Each scene is one task running core's segment_scene (the same engine, checks and
all-or-none publication as ``floodkd segment``). A scene that fails becomes a
row of summary.csv and the batch goes on; scenes whose products are all there
are skipped unless ``overwrite``. On the embedded cluster every worker process
runs one scene at a time with ``cores // workers`` threads, so tiles never
oversubscribe the cores; on another cluster each task takes the worker
machine's cores divided by that worker's threads.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, replace

from ..core.errors import Cancelled, FloodKDError, InputError
from ..core.progress import Progress
from .plan import expand_inputs, plan_jobs
from .summary import check_summary, previous_rows, summary_path, write_summary

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"


@dataclass
class BatchResult:
    rows: list
    summary: str
    cluster: str  # the scheduler's address

    def count(self, status):
        return sum(r["status"] == status for r in self.rows)


def usable_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_scene(job, options) -> dict:
    """Run on a Dask worker: segment one scene and describe how it went (never raises for a bad scene)."""
    from distributed import get_worker

    from ..core.segment import segment_scene

    worker = get_worker()
    if not options.threads:
        options = replace(options, threads=max(1, usable_cpus() // max(1, worker.state.nthreads)))
    row = {"scene": job.scene, "output": job.output, "worker": worker.address, "message": ""}
    start = time.monotonic()
    try:
        p = job.products
        result = segment_scene(job.scene, job.output, options, p.get("probability"), None, p.get("polygons"),
                               p.get("stats"), p.get("quicklook"))
        row.update(status="ok", water_km2=result.water_km2, valid_km2=result.valid_km2)
    except (FloodKDError, OSError, MemoryError) as exc:
        row.update(status="failed", message=str(exc))
    except Exception as exc:  # an engine bug on one scene must not end the other scenes
        row.update(status="failed", message=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.monotonic() - start, 2)
    return row


def _client(scheduler, workers, options):
    """(client, cluster or None, options for the tasks); ``scheduler`` may be a Client already connected."""
    from distributed import Client, LocalCluster

    if isinstance(scheduler, Client):
        return scheduler, None, options
    address = scheduler or os.environ.get(SCHEDULER_ENV)
    if address:
        try:
            return Client(address, timeout="30s"), None, options
        except OSError as exc:
            raise InputError(f"cannot reach the Dask scheduler at {address} ({exc}); start it (dask scheduler) "
                             "or leave out --scheduler to run on this machine") from exc
    if workers < 1:
        raise InputError(f"--workers must be at least 1, got {workers}")
    threads = options.threads or max(1, usable_cpus() // workers)
    # ":0": its status page on a free port (two batches on one machine never clash over 8787)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
                           silence_logs=logging.ERROR)
    client = Client(cluster)
    try:
        client.wait_for_workers(workers, timeout=120)  # every worker up before the scenes are handed out
    except BaseException:
        client.close()
        cluster.close()
        raise
    return client, cluster, replace(options, threads=threads)


def run_batch(inputs, out_dir, options, probability=False, polygons=False, stats=None, quicklook=False,
              scheduler=None, workers=2, overwrite=False, progress: Progress | None = None) -> BatchResult:
    """Map every scene of ``inputs`` into ``out_dir``; write ``out_dir``/summary.csv; return the rows.

    ``scheduler``: an address, a connected ``distributed.Client`` (e.g. Dask Gateway's
    ``cluster.get_client()``) or None (``$DASK_SCHEDULER_ADDRESS``, else a LocalCluster of ``workers``).
    """
    progress = progress or Progress()
    try:
        import distributed  # noqa: F401
    except ImportError as exc:
        raise InputError('floodkd segment-batch runs on Dask, which is not installed here: '
                         'pip install "floodkd[batch]" (dask[distributed])') from exc
    out_dir = os.path.abspath(out_dir)
    scenes = expand_inputs(inputs)
    jobs = plan_jobs(scenes, out_dir, probability, polygons, stats, quicklook)
    os.makedirs(out_dir, exist_ok=True)
    summary = summary_path(out_dir)
    lock = check_summary(summary, scenes)
    try:
        before = previous_rows(summary)
        rows = [None] * len(jobs)
        todo = []
        for i, job in enumerate(jobs):
            if not overwrite and job.complete():
                old = before.get(job.output, {})  # the areas the run that made them found
                rows[i] = {"water_km2": old.get("water_km2", ""), "valid_km2": old.get("valid_km2", ""),
                           "scene": job.scene, "output": job.output, "status": "skipped",
                           "message": "all products exist (--overwrite maps it again)"}
            else:
                todo.append(i)
        progress.info(f"{len(jobs)} scenes: {len(todo)} to map, {len(jobs) - len(todo)} already done")
        try:
            address = _run(jobs, todo, rows, options, scheduler, workers, progress) if todo else ""
        finally:  # also after a cancel or Ctrl-C: the scenes mapped so far are listed
            write_summary(summary, [r for r in rows if r is not None])
    finally:
        lock.release()
    return BatchResult([r for r in rows if r is not None], summary, address)


def _run(jobs, todo, rows, options, scheduler, workers, progress):
    from distributed import as_completed

    client, cluster, options = _client(scheduler, workers, options)
    try:
        progress.info(f"Dask scheduler {client.scheduler.address}")
        futures = {client.submit(map_scene, jobs[i], options, pure=False, key=f"floodkd-{i}-{jobs[i].stem}"): i
                   for i in todo}
        for done, future in enumerate(as_completed(futures), start=1):
            i = futures[future]
            try:
                rows[i] = future.result()
            except Exception as exc:  # the worker died (KilledWorker) or the task could not run
                rows[i] = {"scene": jobs[i].scene, "output": jobs[i].output, "status": "failed",
                           "message": f"{type(exc).__name__}: {exc}", "worker": ""}
            if rows[i]["status"] == "failed":
                progress.warning(f"{jobs[i].scene}: {rows[i]['message']}")
            status = f"{done} of {len(futures)} scenes ({jobs[i].stem}: {rows[i]['status']})"
            progress.report(done / len(futures), status)
            if progress.is_cancelled():
                client.cancel(list(futures))
                raise Cancelled("batch cancelled; the scenes already mapped are kept and listed in summary.csv")
        return client.scheduler.address
    finally:
        if client is not scheduler:  # a Client the caller gave stays theirs
            client.close()
        if cluster is not None:
            cluster.close()
