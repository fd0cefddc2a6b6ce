"""Overlap reading, computing and writing: two bounded background threads beside the main one.

GDAL decodes and encodes blocks, and numpy runs its array loops, without
holding Python's GIL, so a reader thread (decode, dB conversion, tile
batches) and a writer thread (block compression) run while the main thread
runs the network and the blending. Queues are bounded (``depth`` items), so
memory stays flat: a fast reader waits for the compute, the compute for a slow
writer. Order is kept (one thread per stage). An exception in a stage is
raised in the main thread at its next hand-over; leaving the ``with`` block
(normally, on an error or on a cancel) stops both threads and waits for them,
so no thread touches a dataset after it is closed.
"""
from __future__ import annotations

import queue
import threading
import time
from collections import defaultdict
from contextlib import contextmanager

_DONE = object()


class _Stage:
    def __init__(self, name: str, depth: int):
        self.queue = queue.Queue(maxsize=max(1, depth))
        self.stop = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, name=f"floodkd-{name}", daemon=True)

    def _put(self, item) -> bool:
        while not self.stop.is_set() and self.thread.is_alive():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def close(self):
        self.stop.set()
        while self.thread.is_alive():
            try:  # unblock a producer waiting on a full queue
                while True:
                    self.queue.get_nowait()
            except queue.Empty:
                pass
            self.thread.join(timeout=0.05)


class Prefetch(_Stage):
    """Iterate ``make_items()`` in a background thread, ``depth`` items ahead of the consumer."""

    def __init__(self, make_items, depth: int = 2, name: str = "reader"):
        super().__init__(name, depth)
        self.make_items = make_items
        self.thread.start()

    def _run(self):
        try:
            for item in self.make_items():
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer
            self.error = exc
        self._put(_DONE)

    def __iter__(self):
        while True:
            item = self.queue.get()
            if item is _DONE:
                if self.error is not None:
                    raise self.error
                return
            yield item


class Writer(_Stage):
    """Run submitted calls (``fn(*args)``) in order in a background thread, ``depth`` waiting at most."""

    def __init__(self, depth: int = 2, name: str = "writer"):
        super().__init__(name, depth)
        self.thread.start()

    def _run(self):
        while not self.stop.is_set():
            try:
                item = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if item is _DONE:
                return
            try:
                item[0](*item[1:])
            except BaseException as exc:  # raised in the main thread at its next submit or finish
                self.error = exc
                return

    def _check(self):
        if self.error is not None:
            raise self.error

    def submit(self, fn, *args):
        self._check()
        if not self._put((fn, *args)):
            self._check()

    def finish(self):
        """Wait until every submitted call has run; raise the first failure."""
        self._check()
        self._put(_DONE)
        self.thread.join()
        self._check()


class Pipeline:
    """``with Pipeline() as p``: ``p.prefetch(...)`` and ``p.writer()`` stop and are joined on exit."""

    def __init__(self):
        self.stages = []

    def prefetch(self, make_items, depth: int = 2) -> Prefetch:
        self.stages.append(Prefetch(make_items, depth))
        return self.stages[-1]

    def writer(self, depth: int = 2) -> Writer:
        self.stages.append(Writer(depth))
        return self.stages[-1]

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        for stage in self.stages:
            stage.close()
        return False


class Clock:
    """Seconds per stage, ``with clock("read"): ...``; each stage is timed by the one thread that runs it.

    ``seconds`` is wall time, ``cpu`` the CPU time of that thread (what the stage costs when other
    work shares the cores; GDAL's and onnxruntime's own worker threads are not counted).
    """

    def __init__(self):
        self.seconds = defaultdict(float)
        self.cpu = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str):
        start, cpu = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - start
            self.cpu[stage] += time.thread_time() - cpu

    def timed(self, stage: str, items):
        """Iterate ``items``, adding the time spent producing each one to ``stage``."""
        items = iter(items)
        while True:
            with self(stage):
                item = next(items, _DONE)
            if item is _DONE:
                return
            yield item

    def describe(self) -> str:
        return ", ".join(f"{k} {v:.2f}/{self.cpu[k]:.2f}" for k, v in self.seconds.items())
