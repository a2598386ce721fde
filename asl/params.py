"""Loads and validates params.yaml: one small typed config object per section.

Unknown or misspelt keys, missing keys and values of the wrong type are errors that name the key.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from asl.errors import AslError


@dataclass(frozen=True)
class DataConfig:
    raw_dir: str
    coordinates: list[str]
    workers: int
    extra_raw_dirs: list[str] = field(default_factory=list)  # raw-layout folders added to training only


@dataclass(frozen=True)
class SampleConfig:
    participants: int
    signs: list[str] | int  # sign names, or a count: the first n signs of the competition's sign map
    sequences_per_sign: int  # recordings of each sign, spread evenly over the participants
    min_frames: int
    max_frames: int


@dataclass(frozen=True)
class CleanConfig:
    min_frames: int
    max_consecutive_missing: int
    min_length_ratio: float
    max_length_std: float
    max_dropped_examples: int


@dataclass(frozen=True)
class PreprocessConfig:
    frames: int
    max_gap: int
    chunk_size: int


@dataclass(frozen=True)
class SplitConfig:
    strategy: Literal["participant", "random"]
    train_size: float
    valid_size: float
    test_size: float
    valid_participants: list[str]
    test_participants: list[str]


@dataclass(frozen=True)
class ShiftConfig:
    max_shift: float


@dataclass(frozen=True)
class FrameDropoutConfig:
    rate: float


@dataclass(frozen=True)
class ScalingConfig:
    min_scale: float
    max_scale: float


@dataclass(frozen=True)
class RotationConfig:
    max_angle: float


@dataclass(frozen=True)
class AugmentConfig:
    probability: float
    methods: list[str]
    shift: ShiftConfig
    frame_dropout: FrameDropoutConfig
    scaling: ScalingConfig
    rotation: RotationConfig


@dataclass(frozen=True)
class EarlyStopConfig:
    metric: str
    mode: Literal["min", "max"]
    patience: int
    tolerance: float


@dataclass(frozen=True)
class TrainConfig:
    batch_size: int
    epochs: int
    device: str
    num_workers: int
    fast_dev_run: bool
    fast_dev_batches: int
    early_stop: EarlyStopConfig
    engine: Literal["native", "lightning"] = "native"  # lightning: the same training through PyTorch Lightning


@dataclass(frozen=True)
class DropoutScheduleConfig:
    enabled: bool
    initial_rate: float
    factor: float
    max_rate: float
    interval: int


@dataclass(frozen=True)
class AugmentScheduleConfig:
    enabled: bool
    factor: float
    max_probability: float
    interval: int


@dataclass(frozen=True)
class CallbacksConfig:
    dropout: DropoutScheduleConfig
    augmentation: AugmentScheduleConfig


@dataclass(frozen=True)
class EvaluateConfig:
    batch_size: int
    top_k: int


@dataclass(frozen=True)
class TuneResourcesConfig:
    cpu: float
    gpu: float


@dataclass(frozen=True)
class TuneConfig:
    """The hyperparameter search (`asl tune`); `space` maps a model name to {params key: distribution}."""

    trials: int
    experiment: str
    grace_period: int
    reduction_factor: int
    resources: TuneResourcesConfig
    space: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Params:
    model: str
    framework: Literal["pytorch", "tensorflow"]
    seed: int
    data: DataConfig
    sample: SampleConfig
    clean: CleanConfig
    preprocess: PreprocessConfig
    split: SplitConfig
    augment: AugmentConfig
    train: TrainConfig
    callbacks: CallbacksConfig
    evaluate: EvaluateConfig
    models: dict[str, dict[str, Any]] = field(default_factory=dict)
    tune: TuneConfig | None = None  # only `asl tune` reads it

    def model_settings(self) -> dict[str, Any]:
        """The `models.<model>` entry of the selected model (its hyperparameters)."""
        return self.models.get(self.model, {})


class Yaml12Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 booleans (only true/false), as DVC reads and writes params.yaml.

    `dvc exp run -S` rewrites params.yaml with YAML 1.2, which leaves the sign names "yes" and "no" unquoted;
    YAML 1.1 would read them back as booleans.
    """


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
Yaml12Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                                   list("tTfF"))


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate a params file; raise `AslError` naming the file and key on any problem."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(), Loader=Yaml12Loader)
    except FileNotFoundError:
        raise AslError(f"{path}: params file not found") from None
    except yaml.YAMLError as error:
        raise AslError(f"{path}: not valid YAML: {error}") from None
    try:
        return from_mapping(Params, raw, "")
    except AslError as error:
        raise AslError(f"{path}: {error}") from None


def from_mapping(cls: type, raw: Any, prefix: str) -> Any:
    """Build dataclass `cls` from a mapping, checking keys and types; `prefix` names the section in messages."""
    where = prefix or "the top level"
    if not isinstance(raw, dict):
        raise AslError(f"{where} must be a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - set(fields))
    if unknown:
        raise AslError(
            f"unknown key {_join(prefix, unknown[0])!r} in {where}; valid keys are {', '.join(sorted(fields))}"
        )
    values = {}
    for name, spec in fields.items():
        key = _join(prefix, name)
        if name not in raw:
            if spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
                raise AslError(f"missing key {key!r}")
            continue
        values[name] = convert(hints[name], raw[name], key)
    return cls(**values)


def convert(hint: Any, value: Any, key: str) -> Any:
    """Check `value` against type `hint` (ints are accepted as floats); return it converted."""
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint):
        return from_mapping(hint, value, key)
    if origin is Literal:
        choices = typing.get_args(hint)
        if value not in choices:
            raise AslError(f"{key} must be one of {', '.join(map(str, choices))}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        choices = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        errors = []
        for inner in choices:  # the first type the value fits
            try:
                return convert(inner, value, key)
            except AslError as error:
                errors.append(str(error))
        raise AslError(errors[0] if len(errors) == 1 else " or ".join(errors))
    if origin is list:
        if not isinstance(value, list):
            raise AslError(f"{key} must be a list, got {value!r}")
        (item,) = typing.get_args(hint)
        return [convert(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise AslError(f"{key} must be a mapping, got {value!r}")
        return value
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)  # participant ids are numbers in YAML but names here
    if hint in (int, float) and isinstance(value, bool) or not isinstance(value, hint):
        raise AslError(f"{key} must be of type {hint.__name__}, got {value!r} ({type(value).__name__})")
    return value


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name
