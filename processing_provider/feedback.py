"""Adapts QgsProcessingFeedback to core's progress protocol."""
from qgis.core import QgsProcessingException

from ..core.errors import FloodKDError
from ..core.progress import Progress


class FeedbackProgress(Progress):
    """Forwards progress, cancel and messages to a QgsProcessingFeedback."""

    def __init__(self, feedback):
        self.feedback = feedback
        self._message = None

    def report(self, fraction, message=""):
        if self.feedback is not None:
            self.feedback.setProgress(100.0 * max(0.0, min(1.0, fraction)))
            if message and message != self._message:
                self._message = message
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
    """Run a core call; turn its errors into QgsProcessingException (no bare tracebacks)."""
    try:
        return call(*args, **kwargs)
    except FloodKDError as exc:
        raise QgsProcessingException(str(exc)) from exc
    except MemoryError as exc:
        raise QgsProcessingException(
            "out of memory; use a smaller TILE or BATCH_SIZE, or process a smaller extent") from exc
    except OSError as exc:
        raise QgsProcessingException(f"file error: {exc}; check the destination folder and free disk space") from exc
