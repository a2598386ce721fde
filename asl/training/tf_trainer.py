"""The TensorFlow trainer: the same behaviour as asl.training.torch_trainer, with a tf.data pipeline and Keras.

Shared with the PyTorch trainer: the items, the batched augmentations (asl.data.augment), the metric
definitions (asl.evaluation.metrics, computed from predicted probabilities each epoch), early stopping, the
dropout and augmentation schedules, the checkpoint's extras and the EpochLogger (same metric names).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from asl.extras import require

require("tensorflow", "tensorflow")

import keras
import tensorflow as tf

from asl.data.inputs import input_groups
from asl.data.tf_data import LandmarkBatches
from asl.models.config import InputShape
from asl.models.registry import get_model_entry
from asl.check import raise_problems
from asl.models.tf.base import CompiledModel, TFModel, mark_checkpoint_finished, predict_probabilities
from asl.params import Params, range_problems
from asl.progress import Progress
from asl.training.callbacks import dropout_schedule, epoch_augmenter
from asl.training.common import TrainingData, checkpoint_extras, epoch_metrics
from asl.training.early_stopping import EarlyStopping
from asl.training.logging import EpochLogger

__all__ = ["TrainingData", "train"]


def build_model(params: Params, input_shape: InputShape, num_classes: int) -> TFModel:
    """The selected model with its params.yaml hyperparameters; errors list valid names and keys."""
    entry = get_model_entry(params.framework, params.model)
    return entry.model_class(entry.build_config(params.model_settings()), input_shape, num_classes)


def make_train_step(model: TFModel, optimizer: keras.optimizers.Optimizer, label_smoothing: float = 0.0,
                    awp_strength: float = 0.0) -> Callable:
    """A compiled optimisation step returning (loss, logits at the unperturbed weights), with the cross-entropy's
    `label_smoothing` (train.label_smoothing) and AWP of `awp_strength` (0: off). Traced once for batches of every
    size and length (`TFModel.input_signature`) and every dropout rate (`ScheduledDropout`); rebuilt when the AWP
    strength changes, since a traced step keeps what it was traced with.

    AWP (the GISLR 1st place's tf_utils AWP, as the PyTorch trainer): the gradient is taken at weights moved by
    `awp_strength * g / ||g||` per weight tensor (g its gradient at the weights; 0 where ||g|| is 0), then applied
    to the weights as they were."""
    loss_function = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing)

    def loss_and_gradients(values, mask, labels):
        with tf.GradientTape() as tape:
            logits = model([values, mask], training=True)
            loss = loss_function(tf.one_hot(labels, model.num_classes), logits)
        return loss, logits, tape.gradient(loss, model.trainable_variables)

    @tf.function(input_signature=[*model.input_signature(), tf.TensorSpec((None,), tf.int64)])
    def step(values, mask, labels):
        loss, logits, gradients = loss_and_gradients(values, mask, labels)
        if awp_strength > 0:
            moved = [(variable, gradient, tf.identity(variable)) for variable, gradient
                     in zip(model.trainable_variables, gradients) if gradient is not None]
            for variable, gradient, _ in moved:
                variable.assign_add(tf.math.divide_no_nan(awp_strength * gradient, tf.norm(gradient)))
            _, _, gradients = loss_and_gradients(values, mask, labels)
            for variable, _, saved in moved:
                variable.assign(saved)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss, logits

    return step


def train(params: Params, data: TrainingData, checkpoint_path: Path, live_dir: Path,
          tensorboard_dir: Path, on_epoch_end: Callable[[int, dict], None] | None = None,
          state_dir: Path | None = None) -> dict[str, float | int | str]:
    """Train the selected model; save the best epoch's checkpoint (.keras + extras.json); return the summary.

    No training state is saved (`state_dir` is unused): `asl.check` refuses `train.resume` here.

    `on_epoch_end(epoch, valid_metrics)` runs after each epoch's checkpoint is saved.
    """
    raise_problems(range_problems(params), "params")  # e.g. no epoch to train: say so, not UnboundLocalError
    keras.utils.set_random_seed(params.seed)
    if params.train.deterministic:
        tf.config.experimental.enable_op_determinism()  # for the rest of the process: TensorFlow has no way back
    batches = LandmarkBatches(data.values, data.labels, data.train_rows, params.train.batch_size, params.seed,
                              bucket_by_length=params.train.bucket_by_length)
    epochs = 1 if params.train.fast_dev_run else params.train.epochs
    max_batches = params.train.fast_dev_batches if params.train.fast_dev_run else None
    steps_per_epoch = min(len(batches), max_batches or len(batches))
    model = build_model(params, InputShape(*data.values.shape[1:]), len(data.signs))
    validated = CompiledModel(model)  # traced once; it reads the weights as they are at each call
    optimizer = model.configure_optimizers(steps_per_epoch, epochs)
    stopper = EarlyStopping(params.train.early_stop)
    logger = EpochLogger(live_dir, tensorboard_dir)
    summary: dict[str, float | int | str] = {}
    step, awp_strength = None, None
    for epoch in range(epochs):
        rate_for = dropout_schedule(epoch, params.callbacks.dropout)
        if rate_for is not None:
            model.schedule_dropout(rate_for)  # variables: the traced step reads the new rates
        epoch_awp = params.train.awp.strength_at(epoch)
        if step is None or epoch_awp != awp_strength:
            step, awp_strength = make_train_step(model, optimizer, params.train.label_smoothing, epoch_awp), epoch_awp
        model.on_epoch_start(epoch)
        augmenter = epoch_augmenter(epoch, params, input_groups(data.values), model.input_shape.frames)
        learning_rate = float(optimizer.learning_rate)  # this epoch's rate, before its steps
        train_metrics = train_epoch(step, batches.epoch(epoch, augmenter).take(steps_per_epoch), steps_per_epoch,
                                    epoch)
        valid_rows = data.valid_rows[: max_batches * params.train.batch_size] if max_batches else data.valid_rows
        valid_metrics = epoch_metrics(data.labels[valid_rows],
                                      predict_probabilities(validated, data.values, valid_rows,
                                                           params.train.batch_size))
        logger.log_epoch(epoch, {"train": train_metrics, "valid": valid_metrics}, learning_rate)
        if stopper.update(valid_metrics[params.train.early_stop.metric]):
            summary = {"best_epoch": epoch, **{f"best_valid_{k}": v for k, v in valid_metrics.items()}}
            model.save_checkpoint(checkpoint_path, checkpoint_extras(params, data, epoch, valid_metrics))
        if on_epoch_end is not None:
            on_epoch_end(epoch, valid_metrics)
        if stopper.should_stop:
            break
    summary["epochs_run"] = epoch + 1
    mark_checkpoint_finished(checkpoint_path)
    logger.close(summary)
    return summary


def train_epoch(step: Callable, dataset: tf.data.Dataset, batches: int, epoch: int) -> dict[str, float | None]:
    """One epoch of `step` over the dataset's batches; labels and logits are kept as tensors and read once, for the
    epoch's metrics, as the PyTorch trainer does."""
    labels, logits = [], []
    progress = Progress(batches, f"epoch {epoch}", "batches", leave=False)
    for (values, mask), y in dataset:
        labels.append(y)
        logits.append(step(values, mask, y)[1])
        progress.update()
    progress.close()
    return epoch_metrics(tf.concat(labels, 0).numpy(), tf.nn.softmax(tf.concat(logits, 0), axis=1).numpy())
