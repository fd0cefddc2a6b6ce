"""Adapts QgsProcessingFeedback to core's progress protocol."""
import re
import time

from qgis.core import QgsProcessingException

from ..core.errors import FloodKDError, MissingDependency
from ..core.progress import Progress
from .messages import for_qgis, missing_package


def _stage(message):
    return re.split(r"\d", message, maxsplit=1)[0]


class FeedbackProgress(Progress):
    """Forwards progress, cancel and messages to a QgsProcessingFeedback.

    The dialog copies every progress text into its log, so a text that only
    updates a number ("segmenting: tile 7 of 90, about 2 min left", "epoch 2/20
    loss 0.31") is passed on when the bar has moved by ``step`` (2 points) since
    the text shown, or ``every`` second later, whichever comes first: the text
    never lags the bar by more than that. A new stage (a different text before
    the first digit, "loading the model") shows at once.
    """

    def __init__(self, feedback, every: float = 1.0, step: float = 0.02, clock=time.monotonic):
        self.feedback = feedback
        self._message = None
        self._shown_at, self._shown_fraction = float("-inf"), 0.0
        self.every, self.step, self.clock = every, step, clock

    def report(self, fraction, message=""):
        if self.feedback is not None:
            fraction = max(0.0, min(1.0, fraction))
            self.feedback.setProgress(100.0 * fraction)
            if message and message != self._message:
                now = self.clock()
                stage = _stage(self._message or "") != _stage(message)
                if stage or now - self._shown_at >= self.every or fraction - self._shown_fraction >= self.step:
                    self._message, self._shown_at, self._shown_fraction = message, now, fraction
                    self.feedback.setProgressText(message)

    def is_cancelled(self):
        return self.feedback is not None and self.feedback.isCanceled()

    def info(self, message):
        if self.feedback is not None:
            self.feedback.pushInfo(message)

    def warning(self, message):
        if self.feedback is not None:
            self.feedback.pushWarning(message)


def run_core(call, *args, **kwargs):
    """Run a core call; turn its errors into QgsProcessingException (no bare tracebacks) in QGIS's words.

    In qgis_process (main thread) SIGTERM and SIGHUP cancel the call, so its temporary files are removed.
    """
    from ..core.stop_signals import signals_cancel

    try:
        with signals_cancel():
            return call(*args, **kwargs)
    except MissingDependency as exc:
        raise QgsProcessingException(missing_package(str(exc))) from exc
    except FloodKDError as exc:
        raise QgsProcessingException(for_qgis(str(exc))) from exc
    except MemoryError as exc:
        raise QgsProcessingException(
            "out of memory; use a smaller TILE or BATCH_SIZE, or process a smaller extent") from exc
    except OSError as exc:
        raise QgsProcessingException(f"file error: {exc}; check the destination folder and free disk space") from exc
