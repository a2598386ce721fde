"""Per-epoch metric logging to dvclive (for `dvc exp show` / `dvc plots`) and TensorBoard, for both frameworks.

TensorBoard event files are written with tensorboard's own record writer and protos, which need neither torch
nor tensorflow (torch's SummaryWriter, and tensorboard's EventFileWriter through `tf.io.gfile`, import
TensorFlow when it is installed), so a run of either framework imports only its own.
"""

from __future__ import annotations

import atexit
import os
import socket
import time
from pathlib import Path

from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.record_writer import RecordWriter

from asl.errors import AslError


def clear_tensorboard_logs(tensorboard_dir: Path) -> None:
    """Remove earlier runs' event files, so that TensorBoard shows this run's curves only."""
    for events in Path(tensorboard_dir).glob("events.out.tfevents.*"):
        events.unlink()


class EpochLogger:
    """Writes `<split>/<metric>` and `learning_rate` once per epoch to dvclive and TensorBoard."""

    def __init__(self, live_dir: Path, tensorboard_dir: Path) -> None:
        from dvclive import Live  # imported here: DVC's stack loads only when a run logs (not for benchmarks)
        from scmrepo.exceptions import SCMError

        try:
            self.live = Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)
        except SCMError as error:  # dvclive 3 reads HEAD and fails in a repository without any commit
            raise AslError(f"dvclive cannot log to {live_dir} in this git repository ({error}): commit once "
                           "(git add -A && git commit -m start) and run again") from None
        # dvclive opens the DVC repository (and through scmrepo, dulwich's pack files) and never closes it; left
        # open, dulwich's destructors run at interpreter shutdown and print `ImportError: sys.meta_path is None`
        # tracebacks. Closed at exit too, so that a run that fails midway is just as quiet.
        atexit.register(self._close_repository)
        tensorboard_dir = Path(tensorboard_dir)
        tensorboard_dir.mkdir(parents=True, exist_ok=True)
        name = f"events.out.tfevents.{time.time():.0f}.{socket.gethostname()}.{os.getpid()}.0"
        self.tensorboard = RecordWriter(open(tensorboard_dir / name, "wb"))
        self._write_event(Event(wall_time=time.time(), file_version="brain.Event:2"))

    def log_epoch(self, epoch: int, metrics: dict[str, dict[str, float | None]], learning_rate: float) -> None:
        for split, values in metrics.items():
            for name, value in values.items():
                if value is not None:
                    self.live.log_metric(f"{split}/{name}", value)
                    self._write_scalar(f"{name}/{split}", value, epoch)
        self.live.log_metric("learning_rate", learning_rate)
        self._write_scalar("learning_rate", learning_rate, epoch)
        self.tensorboard.flush()
        self.live.next_step()

    def _write_scalar(self, tag: str, value: float, step: int) -> None:
        summary = Summary(value=[Summary.Value(tag=tag, simple_value=float(value))])
        self._write_event(Event(wall_time=time.time(), step=step, summary=summary))

    def _write_event(self, event: Event) -> None:
        self.tensorboard.write(event.SerializeToString())

    def close(self, summary: dict[str, float | int | str]) -> None:
        """Add the run's summary (best epoch and its values) to dvclive's metrics file and close both logs."""
        self.live.summary.update(summary)
        self.live.make_summary()
        self.live.end()
        self.tensorboard.close()
        self._close_repository()

    def _close_repository(self) -> None:
        repository, self.live._dvc_repo = self.live._dvc_repo, None
        if repository is not None:
            repository.close()
