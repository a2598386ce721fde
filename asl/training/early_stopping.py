"""Early stopping on a validation metric, shared by both frameworks."""

from __future__ import annotations

from asl.errors import AslError
from asl.evaluation.metrics import EPOCH_METRICS
from asl.params import EarlyStopConfig


class EarlyStopping:
    """Tracks the best value of a metric; an improvement must beat the best by more than `tolerance`.

    The seed compared the wrong way round for `max` metrics; here an improvement means lower - tolerance for
    mode `min` and higher + tolerance for mode `max`.
    """

    def __init__(self, config: EarlyStopConfig) -> None:
        if config.metric not in EPOCH_METRICS:
            raise AslError(f"train.early_stop.metric {config.metric!r} is not a validation metric; "
                           f"choose from {', '.join(EPOCH_METRICS)}")
        self.config = config
        self.best: float | None = None
        self.epochs_without_improvement = 0

    def update(self, value: float) -> bool:
        """Record one epoch's value; True when it is the new best."""
        sign = 1.0 if self.config.mode == "max" else -1.0
        improved = self.best is None or sign * (value - self.best) > self.config.tolerance
        if improved:
            self.best, self.epochs_without_improvement = value, 0
        else:
            self.epochs_without_improvement += 1
        return improved

    @property
    def should_stop(self) -> bool:
        return self.epochs_without_improvement >= self.config.patience

    def state_dict(self) -> dict:
        return {"best": self.best, "epochs_without_improvement": self.epochs_without_improvement}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.epochs_without_improvement = state["best"], state["epochs_without_improvement"]
