"""Progress text says how long is left (core/progress.TimeLeft), with a fake clock."""
from floodkd.core.progress import Progress, TimeLeft, duration_text


class Recorder(Progress):
    def __init__(self):
        self.seen = []

    def report(self, fraction, message=""):
        self.seen.append((fraction, message))


def test_time_left_from_the_pace_so_far():
    now = [100.0]
    parent = Recorder()
    progress = TimeLeft(parent, clock=lambda: now[0])
    now[0] = 101.0
    progress.report(0.10, "segmenting: tile 1 of 10")  # too early (1 s): no guess
    now[0] = 130.0
    progress.report(0.25, "segmenting: tile 3 of 10")  # 30 s for 25 % -> 90 s left
    now[0] = 220.0
    progress.report(1.0, "done")
    assert parent.seen == [(0.10, "segmenting: tile 1 of 10"),
                           (0.25, "segmenting: tile 3 of 10, about 1 min 30 s left"), (1.0, "done")]


def test_duration_text():
    assert [duration_text(s) for s in (0, 44.6, 60, 185, 3725)] == ["0 s", "45 s", "1 min 00 s", "3 min 05 s",
                                                                    "1 h 02 min"]
