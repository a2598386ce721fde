"""The PyTorch trainer: epochs, callbacks, early stopping, best checkpoint, logging."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from tqdm import tqdm

from asl.data.augment import BatchAugmenter
from asl.data.torch_dataset import DeviceBatches, LandmarkDataset, batch_loader, device_batches
from asl.data.inputs import input_groups
from asl.models.config import InputShape
from asl.models.registry import get_model_entry
from asl.check import raise_problems
from asl.evaluation.metrics import prediction_scores
from asl.models.torch.base import (BaseModel, StepOptions, device_logits, mark_checkpoint_finished,
                                   resolve_device)
from asl.params import Params, TrainConfig, range_problems
from asl.progress import Progress
from asl.training.callbacks import dropout_schedule, epoch_augmenter
from asl.training.common import TrainingData, checkpoint_extras
from asl.training.early_stopping import EarlyStopping
from asl.training.logging import EpochLogger
from asl.training.precision import MixedPrecision, compile_for_training, compiles, mixed_precision
from asl.training.state import (STATE_FILE, RunRecord, load_state, record_from, restore_random_states, run_identity,
                                save_state)


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed Python, numpy and torch (every device); with `deterministic`, choose deterministic algorithms only.

    Deterministic: `torch.use_deterministic_algorithms` (an op without a deterministic CUDA kernel warns, naming
    itself), cuDNN without autotuning, and the cuBLAS workspace setting CUDA needs for repeatable matrix products.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if deterministic:
        os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":4096:8"  # read when cuBLAS starts: before the first CUDA product
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(deterministic, warn_only=True)
    torch.backends.cudnn.deterministic = deterministic


def build_model(params: Params, input_shape: InputShape, num_classes: int) -> BaseModel:
    """The selected model with its params.yaml hyperparameters; errors list valid names and keys."""
    entry = get_model_entry(params.framework, params.model)
    return entry.model_class(entry.build_config(params.model_settings()), input_shape, num_classes)


def train(params: Params, data: TrainingData, checkpoint_path: Path, live_dir: Path,
          tensorboard_dir: Path, on_epoch_end: Callable[[int, dict], None] | None = None,
          state_dir: Path | None = None) -> dict[str, float | int | str]:
    """Train the selected model; save the best epoch's checkpoint; return the run's summary.

    `on_epoch_end(epoch, valid_metrics)` runs after each epoch's checkpoint is saved (`asl tune` reports from it).
    With `state_dir`, the whole training state is saved there after every epoch, and with `train.resume` a saved
    state of the same run is continued (`asl.training.state`).
    """
    raise_problems(range_problems(params), "params")  # e.g. no epoch to train: say so, not UnboundLocalError
    seed_everything(params.seed, params.train.deterministic)
    device = resolve_device(params.train.device)
    tqdm.write(f"training {params.model} on {device}")
    precision = mixed_precision(params.train.precision, device)
    input_shape = InputShape(*data.values.shape[1:])
    model = build_model(params, input_shape, len(data.signs)).to(device)
    epochs = 1 if params.train.fast_dev_run else params.train.epochs
    optimizer, scheduler = model.configure_optimizers(epochs)
    groups = input_groups(data.values)
    compile_augmentation = compile_training(model, params, precision, device, groups)
    stopper = EarlyStopping(params.train.early_stop)
    train_set = LandmarkDataset(data.values, data.labels, data.train_rows)
    generator = torch.Generator().manual_seed(params.seed)
    loader = training_loader(train_set, params, generator, device)
    max_batches = params.train.fast_dev_batches if params.train.fast_dev_run else None
    logger = EpochLogger(live_dir, tensorboard_dir)
    state_path = Path(state_dir) / STATE_FILE if state_dir is not None else None
    identity = run_identity(params, data.values.shape, data.labels, [data.train_rows, data.valid_rows])
    trainer = {"model": model, "optimizer": optimizer, "scheduler": scheduler, "stopper": stopper}
    if precision.scaler is not None:
        trainer["scaler"] = precision.scaler  # 16-mixed: the loss scale it has found is training state too
    saved = load_state(state_path, identity) if state_path is not None and params.train.resume else None
    record = RunRecord() if saved is None else resume(saved, trainer, generator, logger, checkpoint_path)
    for epoch in range(record.epochs_run, epochs):
        if stopper.should_stop:
            break
        augmenter = apply_callbacks(model, epoch, params, groups, compile_augmentation)
        start_epoch(model, epoch, params.train)
        train_metrics = train_epoch(model, loader, optimizer, device, max_batches, epoch, precision, augmenter)
        valid_metrics = evaluate_rows(model, data, data.valid_rows, params.train.batch_size, device, max_batches,
                                      precision)
        metrics = {"train": train_metrics, "valid": valid_metrics}
        logger.log_epoch(epoch, metrics, scheduler.get_last_lr()[0])
        record.history.append((epoch, metrics, scheduler.get_last_lr()[0]))
        if stopper.update(valid_metrics[params.train.early_stop.metric]):
            record.summary = {"best_epoch": epoch, **{f"best_valid_{k}": v for k, v in valid_metrics.items()}}
            extras = checkpoint_extras(params, data, epoch, valid_metrics)
            model.save_checkpoint(checkpoint_path, extras)
            record.best = {"state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
                           "extras": extras}
        if on_epoch_end is not None:
            on_epoch_end(epoch, valid_metrics)
        scheduler.step()
        record.epochs_run = epoch + 1
        if state_path is not None:
            save_state(state_path, identity, epoch, trainer, record, generator)
    mark_checkpoint_finished(checkpoint_path)
    if state_path is not None:
        save_state(state_path, identity, record.epochs_run - 1, trainer, record, generator, finished=True)
    summary = {**record.summary, "epochs_run": record.epochs_run}
    logger.close(summary)
    return summary


def resume(state: dict, trainer: dict, generator: torch.Generator, logger: EpochLogger,
           checkpoint_path: Path) -> RunRecord:
    """Continue from a saved state: weights, optimizer, scheduler, early stopping and random states, the logged
    history (written again: DVC deletes the logs before the stage runs) and the best checkpoint so far."""
    for name, part in trainer.items():
        part.load_state_dict(state[name])
    record = record_from(state)
    for epoch, metrics, learning_rate in record.history:
        logger.log_epoch(epoch, metrics, learning_rate)
    if record.best is not None:
        best = type(trainer["model"]).restore(trainer["model"].config, trainer["model"].input_shape,
                                              trainer["model"].num_classes)
        best.load_state_dict(record.best["state_dict"])
        best.save_checkpoint(checkpoint_path, record.best["extras"])
    restore_random_states(state["random"], generator)  # last: building the best model above draws random numbers
    tqdm.write(f"resuming after epoch {state['epoch']} from the saved training state")
    return record


def apply_callbacks(model: BaseModel, epoch: int, params: Params, groups: tuple[str, ...],
                    compiled: bool = False) -> BatchAugmenter:
    """Dynamic dropout for this epoch; returns this epoch's augmenter (dynamic augmentation) of model inputs of
    landmark `groups` (`compiled`: through torch.compile)."""
    rate_for = dropout_schedule(epoch, params.callbacks.dropout)
    if rate_for is not None:
        model.schedule_dropout(rate_for)
    return epoch_augmenter(epoch, params, groups, model.input_shape.frames, compiled)


def start_epoch(model: BaseModel, epoch: int, train: TrainConfig) -> None:
    """Before a training epoch: the step's generic options (label smoothing; AWP from its start epoch) and the
    model's own epoch hook (late dropout)."""
    model.step_options = StepOptions(train.label_smoothing, train.awp.strength_at(epoch))
    model.on_epoch_start(epoch)


def compile_training(model: BaseModel, params: Params, precision: MixedPrecision, device: torch.device,
                     groups: tuple[str, ...]) -> bool:
    """`train.compile`: when set, compile the model for training and the augmentation of its inputs (of landmark
    `groups`), each now, on a batch of the training shape; where one cannot be compiled, it runs eagerly with a
    warning. Returns whether the augmenters are to run compiled."""
    if not params.train.compile:
        return False
    batch_size, shape = params.train.batch_size, model.input_shape
    compile_for_training(model, lambda: training_probe(model, batch_size, precision, device))
    augmenter = epoch_augmenter(0, params, groups, shape.frames, compiled=True)
    return compiles(lambda: augmenter(*probe_batch(shape, batch_size, device), 0, 0), "the augmentation",
                    "augmenting eagerly")


def probe_batch(shape: InputShape, batch_size: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Values (zeros) and mask (every frame real) of a training batch's shape on `device`."""
    x = torch.zeros(batch_size, shape.frames, shape.landmarks, shape.coordinates, device=device)
    return x, torch.ones(batch_size, shape.frames, dtype=torch.bool, device=device)


def training_probe(model: BaseModel, batch_size: int, precision: MixedPrecision, device: torch.device) -> None:
    """One forward and backward of a training batch's shape (all frames observed): what compiling needs to run."""
    x, mask = probe_batch(model.input_shape, batch_size, device)
    model.train()
    with precision.autocast():
        logits = model(x, mask)
    logits.float().sum().backward()


def training_loader(train_set: LandmarkDataset, params: Params, generator: torch.Generator,
                    device: torch.device) -> torch.utils.data.DataLoader | DeviceBatches:
    """Shuffled batches of `train.batch_size` (`generator` orders them; of similar lengths with
    `train.bucket_by_length`), in pinned memory when training on CUDA; with `train.store_on_device`, the same
    batches gathered on the device."""
    train = params.train
    if train.store_on_device:
        return device_batches(train_set, train.batch_size, device, shuffle=True, generator=generator,
                              num_workers=train.num_workers, bucket_by_length=train.bucket_by_length)
    return batch_loader(train_set, train.batch_size, shuffle=True, generator=generator,
                        num_workers=train.num_workers, pin_memory=device.type == "cuda",
                        bucket_by_length=train.bucket_by_length)


def train_epoch(model: BaseModel, loader: torch.utils.data.DataLoader, optimizer: torch.optim.Optimizer,
                device: torch.device, max_batches: int | None, epoch: int,
                precision: MixedPrecision | None = None,
                augmenter: BatchAugmenter | None = None) -> dict[str, float | None]:
    """One epoch of training steps, each batch augmented on the device (`augmenter`); labels and logits stay on the
    device until the epoch's metrics are computed (one copy to the host per epoch: no step waits for the device)."""
    labels, logits = [], []
    batches = min(len(loader), max_batches or len(loader))
    progress = Progress(batches, f"epoch {epoch}", "batches", leave=False)
    for step, (x, mask, y) in enumerate(loader):
        if step == batches:
            break
        x, mask, y = (part.to(device, non_blocking=True) for part in (x, mask, y))
        if augmenter is not None:
            x, mask = augmenter(x, mask, epoch, step)
        _, step_logits = model.training_step(x, mask, y, optimizer, precision)
        labels.append(y)
        logits.append(step_logits)
        progress.update()
    progress.close()
    return collected_metrics(labels, logits)


def collected_metrics(labels: list[torch.Tensor], logits: list[torch.Tensor]) -> dict[str, float | None]:
    """The epoch's metrics (`device_metrics`) of batches of labels and logits collected on the device."""
    return device_metrics(torch.cat(labels), torch.cat(logits))


def device_metrics(labels: torch.Tensor, logits: torch.Tensor) -> dict[str, float | None]:
    """The metrics logged every epoch (`asl.evaluation.metrics.epoch_scores`) of labels and logits on the device:
    the probabilities (float32 whatever the autocast) are reduced there to each row's predicted class and the
    probability of its label, and only those are copied to the host, not a probability for every class."""
    probabilities = torch.softmax(logits.float(), dim=1)
    predicted = probabilities.argmax(dim=1)
    true_probability = probabilities.gather(1, labels[:, None].long())[:, 0]
    return prediction_scores(*(part.cpu().numpy() for part in (labels, predicted, true_probability)))


def evaluate_rows(model: BaseModel, data: TrainingData, rows: np.ndarray, batch_size: int, device: torch.device,
                  max_batches: int | None = None, precision: MixedPrecision | None = None) -> dict[str, float | None]:
    rows = rows[: max_batches * batch_size] if max_batches else rows
    logits = device_logits(model, data.values, rows, batch_size, device, precision)
    return device_metrics(torch.from_numpy(data.labels[rows]).to(device), logits)
