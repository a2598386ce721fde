"""Per-epoch metric logging to dvclive (for `dvc exp show` / `dvc plots`) and TensorBoard, for both frameworks."""

from __future__ import annotations

from pathlib import Path

from dvclive import Live
from torch.utils.tensorboard import SummaryWriter


class EpochLogger:
    """Writes `<split>/<metric>` and `learning_rate` once per epoch to dvclive and TensorBoard."""

    def __init__(self, live_dir: Path, tensorboard_dir: Path) -> None:
        self.live = Live(dir=str(live_dir), dvcyaml=None, save_dvc_exp=False, report=None)
        self.tensorboard = SummaryWriter(log_dir=str(tensorboard_dir))

    def log_epoch(self, epoch: int, metrics: dict[str, dict[str, float | None]], learning_rate: float) -> None:
        for split, values in metrics.items():
            for name, value in values.items():
                if value is not None:
                    self.live.log_metric(f"{split}/{name}", value)
                    self.tensorboard.add_scalar(f"{name}/{split}", value, epoch)
        self.live.log_metric("learning_rate", learning_rate)
        self.tensorboard.add_scalar("learning_rate", learning_rate, epoch)
        self.live.next_step()

    def close(self, summary: dict[str, float | int | str]) -> None:
        """Add the run's summary (best epoch and its values) to dvclive's metrics file and close both logs."""
        self.live.summary.update(summary)
        self.live.make_summary()
        self.live.end()
        self.tensorboard.close()
