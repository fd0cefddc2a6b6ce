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
