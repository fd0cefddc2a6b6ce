"""``python -m floodkd.batch SPEC_JSON``: a batch run for another process (the QGIS algorithm).

SPEC_JSON holds run_batch's arguments, with ``options`` as SegmentOptions fields.
Progress, messages and the outcome come back as JSON lines on stdout:
``{"progress": f, "message": m}``, ``{"info": m}``, ``{"warning": m}``, then
``{"result": {...}}`` (exit 0, or 1 when a scene failed) or ``{"error": m}``
(exit 2). SIGTERM stops it like Ctrl-C: the scenes mapped so far stay and are
listed in summary.csv.
"""
import json
import signal
import sys

from ..core.errors import FloodKDError
from ..core.progress import Progress


class JsonLinesProgress(Progress):
    def _say(self, **message):
        print(json.dumps(message), flush=True)

    def report(self, fraction, message=""):
        self._say(progress=fraction, message=message)

    def info(self, message):
        self._say(info=message)

    def warning(self, message):
        self._say(warning=message)


def main(spec: dict) -> int:
    from ..core.segment import SegmentOptions
    from .runner import run_batch

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    progress = JsonLinesProgress()
    try:
        options = SegmentOptions(**spec.pop("options", {}))
        result = run_batch(spec.pop("inputs"), spec.pop("out_dir"), options, progress=progress, **spec)
    except (FloodKDError, OSError) as exc:
        progress._say(error=str(exc))
        return 2
    except KeyboardInterrupt:
        progress._say(error="batch cancelled; the scenes already mapped are kept")
        return 130
    counts = {s: result.count(s) for s in ("ok", "skipped", "failed")}
    progress._say(result={"summary": result.summary, "scheduler": result.cluster, **counts})
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.argv[1])))
