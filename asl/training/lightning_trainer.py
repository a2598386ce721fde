"""The same training as asl/training/torch_trainer.py, run by PyTorch Lightning (`train.engine: lightning`).

Same model, optimizer and learning-rate schedule (`configure_optimizers`), the same loss (`BaseModel.loss`: label
smoothing included; AWP is the native trainer's only, asl.check says so), same epoch hook, same dataset and augmentation, same callbacks'
schedules, same validation metrics (asl.evaluation.metrics), same dvclive/TensorBoard logging (EpochLogger), same
early stopping and the same checkpoint file (`BaseModel.save_checkpoint`), so evaluation and inference need not
know which engine trained a model. The device comes from `train.device` like the native loop.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import lightning
import torch

from asl.data.torch_dataset import LandmarkDataset, batch_loader
from asl.data.inputs import input_groups
from asl.models.config import InputShape
from asl.check import raise_problems
from asl.models.torch.base import BaseModel, mark_checkpoint_finished, resolve_device
from asl.params import Params, range_problems
from asl.progress import on_terminal
from asl.training.common import TrainingData, checkpoint_extras
from asl.training.early_stopping import EarlyStopping
from asl.training.logging import EpochLogger
from asl.training.precision import LIGHTNING_PRECISION, check_precision
from asl.training.torch_trainer import (apply_callbacks, build_model, collected_metrics, seed_everything,
                                        start_epoch)


class LightningTask(lightning.LightningModule):
    """Wraps a model of the zoo: training and validation steps, per-epoch metrics, early stopping, checkpoints."""

    def __init__(self, model: BaseModel, params: Params, data: TrainingData, checkpoint_path: Path,
                 logger: EpochLogger, on_epoch_end: Callable[[int, dict], None] | None = None) -> None:
        super().__init__()
        self.model, self.params, self.data = model, params, data
        self.checkpoint_path, self.epoch_logger, self.on_epoch_end = checkpoint_path, logger, on_epoch_end
        self.stopper = EarlyStopping(params.train.early_stop)
        self.outputs: dict[str, tuple[list, list]] = {"train": ([], []), "valid": ([], [])}
        self.summary: dict[str, float | int | str] = {}

    def configure_optimizers(self):
        optimizer, scheduler = self.model.configure_optimizers(self.trainer.max_epochs)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "epoch"}}

    def on_train_epoch_start(self) -> None:
        self.augmenter = apply_callbacks(self.model, self.current_epoch, self.params, input_groups(self.data.values))
        start_epoch(self.model, self.current_epoch, self.params.train)
        self.learning_rate = self.lr_schedulers().get_last_lr()[0]  # Lightning steps it before the epoch's end

    def training_step(self, batch, batch_index: int) -> torch.Tensor:
        x, mask, labels = batch
        x, mask = self.augmenter(x, mask, self.current_epoch, batch_index)  # on the device, as in the native loop
        logits = self.model(x, mask)
        self._collect("train", labels, logits.detach())
        return self.model.loss(logits, labels)

    def validation_step(self, batch, batch_index: int) -> None:
        x, mask, labels = batch
        self._collect("valid", labels, self.model(x, mask))

    def _collect(self, split: str, labels: torch.Tensor, logits: torch.Tensor) -> None:
        self.outputs[split][0].append(labels)  # on the device until the epoch's end, as in the native loop
        self.outputs[split][1].append(logits)

    def _metrics(self, split: str) -> dict[str, float | None]:
        labels, logits = self.outputs[split]
        metrics = collected_metrics(labels, logits)
        labels.clear()
        logits.clear()
        return metrics

    def on_train_epoch_end(self) -> None:
        """Runs after this epoch's validation; logs the learning rate the epoch trained with, like the native loop."""
        epoch = self.current_epoch
        train_metrics, valid_metrics = self._metrics("train"), self._metrics("valid")
        self.epoch_logger.log_epoch(epoch, {"train": train_metrics, "valid": valid_metrics}, self.learning_rate)
        if self.stopper.update(valid_metrics[self.params.train.early_stop.metric]):
            self.summary = {"best_epoch": epoch, **{f"best_valid_{k}": v for k, v in valid_metrics.items()}}
            self.model.save_checkpoint(self.checkpoint_path,
                                       checkpoint_extras(self.params, self.data, epoch, valid_metrics))
        self.summary["epochs_run"] = epoch + 1
        if self.on_epoch_end is not None:
            self.on_epoch_end(epoch, valid_metrics)
        if self.stopper.should_stop:
            self.trainer.should_stop = True


def accelerator(device: torch.device) -> tuple[str, list[int] | int]:
    """Lightning's accelerator and devices for the device `train.device` resolves to."""
    if device.type == "cuda":
        return "gpu", [device.index or 0]
    return device.type, 1


def train(params: Params, data: TrainingData, checkpoint_path: Path, live_dir: Path,
          tensorboard_dir: Path, on_epoch_end: Callable[[int, dict], None] | None = None,
          state_dir: Path | None = None) -> dict[str, float | int | str]:
    """Train the selected model through Lightning; save the best epoch's checkpoint; return the run's summary.

    No training state is saved (`state_dir` is unused): `asl.check` refuses `train.resume` here."""
    raise_problems(range_problems(params), "params")  # e.g. no epoch to train: say so, not UnboundLocalError
    seed_everything(params.seed, params.train.deterministic)
    device = resolve_device(params.train.device)
    check_precision(params.train.precision, device)
    kind, devices = accelerator(device)
    model = build_model(params, InputShape(*data.values.shape[1:]), len(data.signs))
    train_set = LandmarkDataset(data.values, data.labels, data.train_rows)
    valid_set = LandmarkDataset(data.values, data.labels, data.valid_rows)
    train_loader = batch_loader(train_set, params.train.batch_size, shuffle=True,
                                generator=torch.Generator().manual_seed(params.seed),
                                num_workers=params.train.num_workers,
                                bucket_by_length=params.train.bucket_by_length)
    valid_loader = batch_loader(valid_set, params.train.batch_size)
    logger = EpochLogger(live_dir, tensorboard_dir)
    task = LightningTask(model, params, data, checkpoint_path, logger, on_epoch_end)
    batches = params.train.fast_dev_batches if params.train.fast_dev_run else None
    trainer = lightning.Trainer(
        max_epochs=1 if params.train.fast_dev_run else params.train.epochs, accelerator=kind, devices=devices,
        logger=False, enable_checkpointing=False, enable_model_summary=False, num_sanity_val_steps=0,
        deterministic="warn" if params.train.deterministic else False,  # as seed_everything set it
        limit_train_batches=batches, limit_val_batches=batches, enable_progress_bar=on_terminal(),
        precision=LIGHTNING_PRECISION[params.train.precision])
    trainer.fit(task, train_loader, valid_loader)
    mark_checkpoint_finished(checkpoint_path)
    logger.close(task.summary)
    return task.summary
