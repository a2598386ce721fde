"""`train.precision` and `train.compile` of the PyTorch trainers: autocast, gradient scaling and torch.compile."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, ContextManager

import torch

from asl.errors import AslError, warn

#: Lightning's names for the settings of `train.precision`.
LIGHTNING_PRECISION = {"32": "32-true", "bf16": "bf16-mixed", "16-mixed": "16-mixed"}


@dataclass
class MixedPrecision:
    """How a training or validation step runs: under autocast to `dtype` (None: float32, no autocast), with a
    GradScaler for float16 gradients (None otherwise)."""

    device_type: str
    dtype: torch.dtype | None = None
    scaler: torch.amp.GradScaler | None = None

    def autocast(self) -> ContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()  # precision 32 runs exactly the operations it ran before the setting
        return torch.autocast(self.device_type, dtype=self.dtype)


def mixed_precision(setting: str, device: torch.device) -> MixedPrecision:
    """The `MixedPrecision` of `train.precision` on `device`; AslError where the device cannot run it."""
    check_precision(setting, device)
    if setting == "bf16":
        return MixedPrecision(device.type, torch.bfloat16)
    if setting == "16-mixed":
        return MixedPrecision(device.type, torch.float16, torch.amp.GradScaler(device.type))
    return MixedPrecision(device.type)


def check_precision(setting: str, device: torch.device) -> None:
    """Raise AslError naming the value when `device` cannot train with `train.precision: setting`."""
    if setting == "16-mixed" and device.type != "cuda":
        raise AslError(f"train.precision: 16-mixed needs a CUDA device, training runs on {device}; "
                       "use bf16 or 32 there")
    if setting == "bf16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise AslError(f"train.precision: bf16 is not supported by {torch.cuda.get_device_name(device)}; "
                       "use 16-mixed or 32")
    if setting == "bf16" and device.type not in ("cpu", "cuda"):
        raise AslError(f"train.precision: bf16 autocast runs on cpu or cuda, not {device}; use 32")


def compile_for_training(model: torch.nn.Module, probe: Callable[[], None]) -> bool:
    """Compile `model` in place (`nn.Module.compile`: its state_dict keeps the uncompiled names) and run `probe`
    (one forward and backward of a batch's shape) to compile it now; where that fails, the model stays eager with a
    warning."""
    model.compile()
    try:
        compiled = compiles(probe, type(model).__name__, "training eagerly")
    finally:
        model.zero_grad(set_to_none=True)
    if not compiled:
        model._compiled_call_impl = None  # nn.Module.compile's own switch: back to the eager forward
    return compiled


def compiles(probe: Callable[[], None], what: str, instead: str) -> bool:
    """Run `probe`, which compiles `what` by running it, with the random states saved and restored (compiling draws
    no random number); False, with a warning that says what happens `instead`, where compiling fails."""
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            probe()
    except Exception as error:  # compilers fail in many ways (no C++ compiler, an unsupported operation...)
        warn(f"train.compile: torch.compile cannot compile {what} here, {instead} "
             f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})")
        return False
    return True
