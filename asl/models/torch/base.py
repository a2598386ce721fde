"""The interface every PyTorch model of the zoo shares (the seed's BaseModel), and checkpoint save/load."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch
from torch import nn

from asl.data.inputs import model_batch
from asl.errors import AslError
from asl.io import atomic_path
from asl.models.config import InputShape, SchedulerConfig
from asl.models.registry import get_model_entry

if TYPE_CHECKING:
    from asl.training.precision import MixedPrecision

OPTIMIZERS = {"Adam": torch.optim.Adam, "AdamW": torch.optim.AdamW, "SGD": torch.optim.SGD}


@dataclasses.dataclass(frozen=True)
class StepOptions:
    """What a training step does besides the plain step, set by the trainer every epoch (`start_epoch`): the
    cross-entropy's label smoothing (train.label_smoothing) and the AWP strength in this epoch (train.awp; 0: off)."""

    label_smoothing: float = 0.0
    awp_strength: float = 0.0


class BaseModel(nn.Module):
    """A classifier of landmark sequences: `forward(x, mask)` maps (B, T, L, C) and (B, T) to logits (B, classes).

    Subclasses build their layers in `__init__` from `config` (their params.yaml entry), `input_shape` and
    `num_classes`. The config must carry `optimizer` (OptimizerConfig) and `scheduler` (SchedulerConfig).
    `engine` names the trainer that trains the model whatever `train.engine` says (the Lightning models).
    `input_transform` names the transform of the store the model reads (asl.data.inputs.TRANSFORMS): the seed
    models read `fixed_frames`; a `variable_frames` model takes `max_frames` in its params entry.
    """

    engine = "native"
    input_transform = "fixed_frames"
    step_options = StepOptions()

    def __init__(self, config: Any, input_shape: InputShape, num_classes: int) -> None:
        super().__init__()
        self.config = config
        self.input_shape = input_shape
        self.num_classes = num_classes

    @classmethod
    def restore(cls, config: Any, input_shape: InputShape, num_classes: int) -> "BaseModel":
        """The model to load a checkpoint's weights into; models that load pretrained weights skip that here."""
        return cls(config, input_shape, num_classes)

    def configure_optimizers(self, epochs: int = 1) -> tuple[torch.optim.Optimizer,
                                                             torch.optim.lr_scheduler.LRScheduler]:
        """The configured optimizer with its weight decay, over every trainable parameter, and its learning-rate
        schedule, stepped once per epoch (`learning_rate_schedule`); `epochs` (train.epochs) is the length of a
        cosine schedule (the trainers pass it; callers that never step the schedule need not)."""
        settings = self.config.optimizer
        optimizer = OPTIMIZERS[settings.name](
            [p for p in self.parameters() if p.requires_grad], lr=settings.learning_rate,
            weight_decay=settings.weight_decay)
        return optimizer, learning_rate_schedule(optimizer, self.config.scheduler, epochs)

    def on_epoch_start(self, epoch: int) -> None:
        """Called by the trainers before each training epoch (0-based); models with epoch-dependent layers (late
        dropout) override it."""

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The training loss: cross-entropy (in float32 whatever the autocast) with the step's label smoothing."""
        return nn.functional.cross_entropy(logits.float(), labels, label_smoothing=self.step_options.label_smoothing)

    def training_step(self, x: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor,
                      optimizer: torch.optim.Optimizer,
                      precision: MixedPrecision | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One optimisation step (under `precision`'s autocast and gradient scaling, when given) with the
        `step_options`; returns the batch loss and the logits at the unperturbed weights, detached tensors on the
        device: reading them is the caller's choice (it waits for the device).

        With AWP (the GISLR 1st place's tf_utils AWP), the step's gradient is taken at weights moved by
        `awp_strength * g / ||g||` per parameter tensor (g its gradient at the weights), and applied to the
        weights as they were."""
        self.train()
        scaler = precision.scaler if precision is not None else None
        optimizer.zero_grad(set_to_none=True)
        loss, logits = self._backward(x, mask, labels, precision)
        if self.step_options.awp_strength > 0:
            with adversarial_weights(self, self.step_options.awp_strength):
                optimizer.zero_grad(set_to_none=True)
                self._backward(x, mask, labels, precision)
        if scaler is None:
            optimizer.step()
        else:
            scaler.step(optimizer)
            scaler.update()
        return loss.detach(), logits.detach()

    def _backward(self, x: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor,
                  precision: MixedPrecision | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Forward and backward (of the scaled loss under gradient scaling); returns the loss and the logits."""
        with precision.autocast() if precision is not None else contextlib.nullcontext():
            logits = self(x, mask)
            loss = self.loss(logits, labels)
        scaler = precision.scaler if precision is not None else None
        (scaler.scale(loss) if scaler is not None else loss).backward()
        return loss, logits

    @torch.no_grad()
    def predict_logits(self, x: torch.Tensor, mask: torch.Tensor,
                       precision: MixedPrecision | None = None) -> torch.Tensor:
        """Logits in eval mode (validation, test and inference steps), under `precision`'s autocast when given."""
        self.eval()
        with precision.autocast() if precision is not None else contextlib.nullcontext():
            return self(x, mask)

    def set_dropout(self, rate: float) -> None:
        """Set every dropout rate of the model to `rate`."""
        self.schedule_dropout(lambda configured: rate)

    def schedule_dropout(self, rate_for: Callable[[float], float]) -> None:
        """Set each dropout rate to `rate_for(its configured rate)` (the dynamic-dropout callback).

        The configured rates are those the model was built with, remembered at the first call.
        """
        layers = [(module, "p" if isinstance(module, nn.Dropout) else "dropout") for module in self.modules()
                  if isinstance(module, (nn.Dropout, nn.MultiheadAttention, nn.LSTM))]
        if "_configured_dropout" not in self.__dict__:
            self._configured_dropout = tuple(float(getattr(module, name)) for module, name in layers)
        for (module, name), configured in zip(layers, self._configured_dropout):
            setattr(module, name, rate_for(configured))

    def save_checkpoint(self, path: str | Path, extra: dict[str, Any]) -> None:
        """Save weights with everything needed to rebuild the model from the file alone."""
        checkpoint = {
            "name": type(self).__name__, "framework": "pytorch",
            "config": dataclasses.asdict(self.config), "input_shape": dataclasses.asdict(self.input_shape),
            "num_classes": self.num_classes, "state_dict": self.state_dict(), "extra": extra,
        }
        with atomic_path(path) as temporary:
            torch.save(checkpoint, temporary)


@contextlib.contextmanager
def adversarial_weights(model: nn.Module, strength: float):
    """Within the block, each parameter with a gradient is moved by `strength * g / ||g||` (g its gradient: 0 where
    g is zero or not finite, e.g. a scaled float16 gradient that overflowed; the direction is the same for a scaled
    gradient); afterwards every moved parameter holds exactly its former value again."""
    moved = [p for p in model.parameters() if p.grad is not None]
    saved = [p.detach().clone() for p in moved]
    with torch.no_grad():
        for parameter in moved:
            grad = parameter.grad.float()
            step = strength * grad / torch.linalg.vector_norm(grad)
            parameter.add_(torch.nan_to_num(step, nan=0.0, posinf=0.0, neginf=0.0).to(parameter.dtype))
    try:
        yield
    finally:
        with torch.no_grad():
            for parameter, value in zip(moved, saved):
                parameter.copy_(value)


def learning_rate_schedule(optimizer: torch.optim.Optimizer, settings: SchedulerConfig,
                           epochs: int) -> torch.optim.lr_scheduler.LRScheduler:
    """The per-epoch schedule of `settings`: `exponential` multiplies the rate by gamma after every epoch; `cosine`
    ramps it up linearly over `warmup_epochs` (epoch e < warmup trains at (e + 1) / (warmup + 1) of it), then
    decays it along a cosine to `min_learning_rate` at the last of `epochs`."""
    if settings.name == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=settings.gamma)
    peak = optimizer.param_groups[0]["lr"]
    floor = settings.min_learning_rate / peak
    warmup, decay = settings.warmup_epochs, max(1, epochs - 1 - settings.warmup_epochs)

    def factor(epoch: int) -> float:
        if epoch < warmup:
            return (epoch + 1) / (warmup + 1)
        progress = min(1.0, (epoch - warmup) / decay)
        return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def mark_checkpoint_finished(path: str | Path) -> None:
    """Record in a checkpoint's extras that its training run ended (not killed midway)."""
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    checkpoint["extra"]["finished"] = True
    with atomic_path(path) as temporary:
        torch.save(checkpoint, temporary)


def load_model_from_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[BaseModel, dict]:
    """Rebuild a saved model by its checkpoint alone; returns the model (eval mode) and the checkpoint's extras."""
    path = Path(path)
    if not path.is_file():
        raise AslError(f"{path}: checkpoint not found")
    try:
        checkpoint = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:  # torch raises many types for a file that is not a checkpoint
        raise AslError(f"{path}: not a readable PyTorch checkpoint ({error})") from None
    entry = get_model_entry("pytorch", checkpoint["name"])
    model = entry.model_class.restore(entry.build_config(checkpoint["config"]),
                                      InputShape(**checkpoint["input_shape"]), checkpoint["num_classes"])
    model.load_state_dict(checkpoint["state_dict"])
    return model.to(device).eval(), checkpoint["extra"]


def resolve_device(setting: str) -> torch.device:
    """`auto` picks CUDA when present; anything else is passed to torch as is."""
    if setting == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(setting)


def predict_probabilities(model: BaseModel | FrozenModel, values: np.ndarray, rows: np.ndarray, batch_size: int,
                          device: torch.device, precision: MixedPrecision | None = None) -> np.ndarray:
    """Class probabilities (len(rows), classes) of preprocessed sequences (`device_logits`), copied to the host once;
    in float32 whatever the autocast."""
    logits = device_logits(model, values, rows, batch_size, device, precision)
    return torch.softmax(logits.float(), dim=1).cpu().numpy()


def device_logits(model: BaseModel | FrozenModel, values: np.ndarray, rows: np.ndarray, batch_size: int,
                  device: torch.device, precision: MixedPrecision | None = None) -> torch.Tensor:
    """Logits (len(rows), classes) of preprocessed sequences, read batch by batch, left on `device`. `precision`
    (a `BaseModel` only): the training's autocast."""
    outputs = []
    settings = {"precision": precision} if precision is not None else {}
    for start in range(0, len(rows), batch_size):
        x, mask = model_batch(values, rows[start:start + batch_size])
        outputs.append(model.predict_logits(torch.from_numpy(x).to(device, non_blocking=True).float(),
                                            torch.from_numpy(mask).to(device, non_blocking=True), **settings))
    return torch.cat(outputs) if outputs else torch.zeros(0, model.num_classes, device=device)


class FrozenModel:
    """A frozen TorchScript copy of a model, for predictions only: the Python of every module call is gone and the
    weights are folded into the graph (TransformerPredictor: 1.3 ms per sequence against 2.1 ms alone, 3.1–3.3 ms
    against 4.2–4.4 ms in the live loop; benchmarks/models.py and video.py). It answers `predict_logits`,
    `input_shape` and `num_classes` as the model it was made from does."""

    def __init__(self, model: BaseModel, script: torch.jit.ScriptModule) -> None:
        self.input_shape = model.input_shape
        self.num_classes = model.num_classes
        self._script = script

    @torch.inference_mode()
    def predict_logits(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self._script(x, mask)


def freeze_for_inference(model: BaseModel, seed: int = 0) -> FrozenModel | None:
    """A `FrozenModel` of a model (which is put in eval mode), or None where tracing cannot stand in for it.

    Tracing records the operations of one call, so a forward that branches on its input would keep one branch: the
    tracer's warning about that, any failure to trace, or outputs that differ from the model's own on random
    sequences with padding (batches of one and three) all leave None. TorchScript is deprecated in torch 2.14 (the
    pinned version) but complete; its deprecation notice is kept out of the output with the tracer's warnings.
    """
    model.eval()
    device = next(model.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    shape = model.input_shape

    def example(batch: int, frames_seen: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(batch, shape.frames, shape.landmarks, shape.coordinates, generator=generator)
        mask = torch.arange(shape.frames).expand(batch, -1) < frames_seen
        return (x * mask[..., None, None]).to(device), mask.to(device)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with torch.inference_mode():
                frozen = FrozenModel(model, torch.jit.freeze(torch.jit.trace(model, example(1, shape.frames))))
                checks = [example(1, shape.frames), example(3, max(1, shape.frames // 2))]
                agree = all(torch.allclose(frozen.predict_logits(x, mask), model(x, mask), rtol=1e-3, atol=1e-4)
                            for x, mask in checks)
        except RuntimeError:
            return None
    if any(issubclass(warning.category, torch.jit.TracerWarning) for warning in caught):
        return None
    return frozen if agree else None


def flatten_frames(x: torch.Tensor) -> torch.Tensor:
    """(B, T, L, C) → (B, T, L*C)."""
    return x.flatten(start_dim=2)


def key_padding(mask: torch.Tensor) -> torch.Tensor:
    """Attention's key padding mask (True = ignore) from a frame mask (B, T). A row with no observed frame masks
    nothing: with every key masked, attention's softmax is 0/0 and its NaN would reach the logits (the pooling that
    follows ignores that row's frames anyway)."""
    return ~mask & mask.any(dim=1, keepdim=True)


def masked_mean(values: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean over time of (B, T, D) where mask (B, T) is True; an all-False row gives zeros."""
    weights = mask.unsqueeze(-1).to(values.dtype)  # (B, T, 1)
    return (values * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
