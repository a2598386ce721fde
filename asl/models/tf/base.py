"""The interface every TensorFlow model of the zoo shares (the seed's tensorflow BaseModel), and checkpoints.

A model is a Keras functional model built in `__init__` from its params.yaml entry, so the whole model, not just
its weights, is saved in one `.keras` file and reloads with `keras.models.load_model`. It maps
[values (B, T, L, C), frame mask (B, T) bool] to logits (B, classes); the loss takes them as logits.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Any, Callable

import keras
import numpy as np
import tensorflow as tf

from asl.data.preprocess import to_model_input
from asl.errors import AslError
from asl.io import atomic_path, write_json
from asl.models.config import InputShape, SchedulerConfig
from asl.models.registry import get_model_entry, model_names, register_model

OPTIMIZERS = {"Adam": keras.optimizers.Adam, "AdamW": keras.optimizers.AdamW, "SGD": keras.optimizers.SGD}
#: The file beside `model.keras` that holds what inference needs besides the model: signs, params, epoch, metrics.
EXTRAS_FILE = "extras.json"


def register(config_class: type) -> Callable[[type], type]:
    """Register a model class in the asl registry (framework tensorflow) and for Keras deserialization."""

    def decorate(model_class: type) -> type:
        keras.saving.register_keras_serializable(package="asl")(model_class)
        return register_model("tensorflow", config_class)(model_class)

    return decorate


# --- building blocks ---------------------------------------------------------------------------------------------

@keras.saving.register_keras_serializable(package="asl")
class ApplyFrameMask(keras.layers.Layer):
    """Zero the values of padded frames, so nothing a model sees depends on them."""

    def call(self, values, mask):
        return values * tf.cast(mask, values.dtype)[:, :, None, None]  # (B, T, 1, 1) broadcast


@keras.saving.register_keras_serializable(package="asl")
class FlattenFrames(keras.layers.Layer):
    """(B, T, L, C) → (B, T, L*C)."""

    def call(self, values):
        shape = tf.shape(values)
        return tf.reshape(values, (shape[0], shape[1], values.shape[2] * values.shape[3]))  # (B, T, L*C)


@keras.saving.register_keras_serializable(package="asl")
class MaskedMean(keras.layers.Layer):
    """Mean over time of (B, T, D) where the mask (B, T) is True; an all-False row gives zeros."""

    def call(self, values, mask):
        weights = tf.cast(mask, values.dtype)[:, :, None]  # (B, T, 1)
        return tf.reduce_sum(values * weights, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="asl")
class ScheduledDropout(keras.layers.Layer):
    """Dropout (as keras Dropout, `noise_shape` None entries taken from the input) whose rate is a variable, set by
    `TFModel.schedule_dropout`: a traced training step reads the current rate, where keras Dropout's Python float
    would be frozen into the trace. The rate is not a weight: checkpoints and parameter counts are as with keras
    Dropout, and a reloaded model starts at `configured_rate`."""

    def __init__(self, rate: float, noise_shape: tuple[int | None, ...] | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise AslError(f"dropout rate {rate}: must be between 0 and 1")
        self.configured_rate, self.noise_shape = float(rate), noise_shape
        self.supports_masking = True  # as keras Dropout: a Keras mask passes through
        self.seed_generator = keras.random.SeedGenerator()
        with tf.init_scope():  # created eagerly even when the layer is built inside a traced function
            self.rate_variable = tf.Variable(self.configured_rate, trainable=False, dtype=tf.float32, name="rate")

    @property
    def rate(self) -> float:
        return float(self.rate_variable.numpy())

    def set_rate(self, rate: float) -> None:
        self.rate_variable.assign(rate)

    def call(self, x, training=None):
        if not training:
            return x
        return tf.cond(self.rate_variable > 0, lambda: self._drop(x), lambda: tf.identity(x))

    def _drop(self, x):
        shape = tf.shape(x)
        noise_shape = shape if self.noise_shape is None else tf.stack(
            [shape[axis] if size is None else size for axis, size in enumerate(self.noise_shape)])
        keep = keras.random.uniform(noise_shape, seed=self.seed_generator) >= self.rate_variable
        scale = tf.math.divide_no_nan(1.0, 1.0 - self.rate_variable)  # rate 1 drops everything, without inf * 0
        return x * tf.cast(keep, x.dtype) * tf.cast(scale, x.dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.configured_rate, "noise_shape": self.noise_shape}


def model_inputs(input_shape: InputShape, frames: int | None) -> list[keras.KerasTensor]:
    """The two symbolic inputs of every model: values (B, T, L, C) and the frame mask (B, T); T = `frames`, or any
    (None) for a model of variable-length input."""
    values = keras.Input((frames, input_shape.landmarks, input_shape.coordinates), name="values")
    mask = keras.Input((frames,), dtype="bool", name="mask")
    return [values, mask]


# --- the model interface -----------------------------------------------------------------------------------------

class TFModel(keras.Model):
    """A classifier of landmark sequences built from (config, input_shape, num_classes), like the PyTorch ones.

    Subclasses implement `network(values, mask, config, input_shape, num_classes)`: symbolic inputs → logits.
    The config must carry `optimizer` (OptimizerConfig) and `scheduler` (SchedulerConfig). `input_transform`: the
    transform of the store the model reads, as for the PyTorch models (asl.models.torch.base.BaseModel).
    """

    input_transform = "fixed_frames"

    def __init__(self, config: Any, input_shape: InputShape, num_classes: int, **kwargs: Any) -> None:
        values, mask = model_inputs(input_shape, self.input_frames(input_shape))
        logits = self.network(ApplyFrameMask()(values, mask), mask, config, input_shape, num_classes)
        super().__init__(inputs=[values, mask], outputs=logits, name=kwargs.pop("name", type(self).__name__),
                         **kwargs)
        self.model_config, self._model_input_shape, self.num_classes = config, input_shape, num_classes

    @property
    def input_shape(self) -> InputShape:
        """What one input looks like, as `BaseModel.input_shape` of the PyTorch models. It replaces Keras' property of
        the same name (the symbolic inputs' shapes), which nothing here reads."""
        return self._model_input_shape

    @staticmethod
    def network(values, mask, config: Any, input_shape: InputShape, num_classes: int):
        raise NotImplementedError

    def input_signature(self) -> list[tf.TensorSpec]:
        """Specs of (values, mask) batches of any size, and of any length for a model of variable-length input: a
        `tf.function` given them is traced once for every batch, not once per batch shape."""
        shape, frames = self.input_shape, self.input_frames(self.input_shape)
        return [tf.TensorSpec((None, frames, shape.landmarks, shape.coordinates), tf.float32),
                tf.TensorSpec((None, frames), tf.bool)]

    @classmethod
    def input_frames(cls, input_shape: InputShape) -> int | None:
        """The frames of the model's input: fixed, or None (any) when it reads variable-length input."""
        return None if cls.input_transform == "variable_frames" else input_shape.frames

    def on_epoch_start(self, epoch: int) -> None:
        """Called by the trainer before each training epoch (0-based); models with epoch-dependent layers (late
        dropout) override it."""

    def get_config(self) -> dict:
        return {"config": dataclasses.asdict(self.model_config),
                "input_shape": dataclasses.asdict(self.input_shape), "num_classes": self.num_classes,
                "name": self.name}

    @classmethod
    def from_config(cls, settings: dict, custom_objects: Any = None) -> "TFModel":
        entry = get_model_entry("tensorflow", cls.__name__)
        return cls(entry.build_config(settings["config"]), InputShape(**settings["input_shape"]),
                   settings["num_classes"], name=settings.get("name"))

    def configure_optimizers(self, steps_per_epoch: int, epochs: int = 1) -> keras.optimizers.Optimizer:
        """The configured optimizer with its weight decay and learning-rate schedule (`learning_rate_schedule`);
        `epochs` (train.epochs) is the length of a cosine schedule."""
        settings = self.model_config.optimizer
        schedule = learning_rate_schedule(settings.learning_rate, self.model_config.scheduler,
                                          max(steps_per_epoch, 1), epochs)
        decay = {"weight_decay": settings.weight_decay} if settings.weight_decay else {}
        return OPTIMIZERS[settings.name](learning_rate=schedule, **decay)

    def predict_logits(self, values: tf.Tensor, mask: tf.Tensor) -> tf.Tensor:
        """Logits in inference mode (validation, test and inference; validation and single sequences trace it:
        `CompiledModel`)."""
        return self([values, mask], training=False)

    def set_dropout(self, rate: float) -> None:
        """Set every dropout rate of the model to `rate`."""
        self.schedule_dropout(lambda configured: rate)

    def schedule_dropout(self, rate_for: Callable[[float], float]) -> None:
        """Set each dropout's rate to `rate_for(its configured rate)` (the dynamic-dropout callback). Every dropout
        of the zoo is a `ScheduledDropout`, so traced steps see the new rates."""
        for layer in self._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, ScheduledDropout):
                layer.set_rate(rate_for(layer.configured_rate))

    def save_checkpoint(self, path: str | Path, extra: dict[str, Any]) -> None:
        """Save the model (`.keras`) and, beside it, `extras.json`; both written atomically."""
        path = Path(path)
        with atomic_path(path) as temporary:
            keras_name = temporary.with_name(temporary.name + ".keras")  # Keras insists on the suffix
            try:
                self.save(keras_name)
                os.replace(keras_name, temporary)
            finally:
                keras_name.unlink(missing_ok=True)
        write_json({"name": type(self).__name__, "framework": "tensorflow", **extra}, path.parent / EXTRAS_FILE)


class WarmupCosineDecay(keras.optimizers.schedules.LearningRateSchedule):
    """The PyTorch trainers' cosine schedule (asl.models.torch.base.learning_rate_schedule) evaluated per step at
    the fractional epoch e = step / steps_per_epoch, so both frameworks agree at every epoch's start: a linear
    warmup, (e + 1) / (warmup + 1) of `peak` for e < `warmup_epochs`, then a cosine decay to `floor` at the start
    of the last of `epochs` (constant after)."""

    def __init__(self, peak: float, floor: float, warmup_epochs: int, epochs: int, steps_per_epoch: int) -> None:
        self.peak, self.floor, self.warmup_epochs, self.epochs = peak, floor, warmup_epochs, epochs
        self.steps_per_epoch = steps_per_epoch

    def __call__(self, step):
        epoch = tf.cast(step, tf.float32) / float(self.steps_per_epoch)
        warmup = self.peak * (epoch + 1) / float(self.warmup_epochs + 1)
        progress = tf.clip_by_value((epoch - self.warmup_epochs) / float(max(self.epochs - 1 - self.warmup_epochs, 1)),
                                    0.0, 1.0)
        decayed = self.floor + (self.peak - self.floor) * 0.5 * (1 + tf.cos(math.pi * progress))
        return tf.where(epoch < self.warmup_epochs, warmup, decayed)

    def get_config(self) -> dict:
        return {"peak": self.peak, "floor": self.floor, "warmup_epochs": self.warmup_epochs, "epochs": self.epochs,
                "steps_per_epoch": self.steps_per_epoch}


def learning_rate_schedule(learning_rate: float, settings: SchedulerConfig, steps_per_epoch: int,
                           epochs: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """`exponential`: the rate multiplied by gamma once per epoch; `cosine`: per step, a linear warmup over
    `warmup_epochs`, then a cosine decay to `min_learning_rate` at the last of `epochs` (WarmupCosineDecay)."""
    if settings.name == "exponential":
        return keras.optimizers.schedules.ExponentialDecay(learning_rate, decay_steps=steps_per_epoch,
                                                           decay_rate=settings.gamma, staircase=True)
    return WarmupCosineDecay(learning_rate, settings.min_learning_rate, settings.warmup_epochs, epochs,
                             steps_per_epoch)


class CompiledModel:
    """A model's inference call traced once into a TensorFlow graph (`tf.function`, any batch size), for predictions
    only: one sequence takes 1.6 ms against 31 ms called eagerly (TransformerPredictor, one CPU thread). It answers
    `predict_logits`, `input_shape` and `num_classes` as the model it was made from does."""

    def __init__(self, model: TFModel) -> None:
        self.input_shape, self.num_classes = model.input_shape, model.num_classes
        self.predict_logits = tf.function(model.predict_logits, input_signature=model.input_signature())


def predict_probabilities(model: TFModel | CompiledModel, values: np.ndarray, rows: np.ndarray, batch_size: int,
                          device: object = None) -> np.ndarray:
    """Class probabilities (len(rows), classes) of preprocessed sequences, read batch by batch (inference mode)."""
    outputs = []
    for start in range(0, len(rows), batch_size):
        x, mask = to_model_input(np.asarray(values[rows[start:start + batch_size]], dtype=np.float32))
        logits = model.predict_logits(tf.constant(x), tf.constant(mask))
        outputs.append(tf.nn.softmax(logits, axis=1).numpy())
    return np.concatenate(outputs) if outputs else np.zeros((0, model.num_classes), dtype=np.float32)


def mark_checkpoint_finished(path: str | Path) -> None:
    """Record in the extras beside a checkpoint that its training run ended (not killed midway)."""
    extras_path = Path(path).parent / EXTRAS_FILE
    write_json({**json.loads(extras_path.read_text()), "finished": True}, extras_path)


def load_model_from_checkpoint(path: str | Path) -> tuple[TFModel, dict]:
    """Reload a saved `.keras` model and the extras beside it."""
    path = Path(path)
    if not path.is_file():
        raise AslError(f"{path}: checkpoint not found")
    model_names("tensorflow")  # import the model modules: Keras finds the classes by their registered names
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as error:  # Keras raises many types for a file that is not a model
        raise AslError(f"{path}: not a readable Keras model ({error})") from None
    extras_path = path.parent / EXTRAS_FILE
    try:
        extras = json.loads(extras_path.read_text())
    except (FileNotFoundError, json.JSONDecodeError) as error:
        raise AslError(f"{extras_path}: missing or unreadable checkpoint extras ({error})") from None
    return model, extras
