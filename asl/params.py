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
    # per-sequence statistics over observed points; a checkpoint trained before the key existed used none
    normalization: Literal["none", "minmax", "standardize"] = "none"
    # the store's landmark groups (asl.landmarks.LANDMARK_GROUPS), in this order; older checkpoints: the seed's four
    landmarks: list[str] = field(default_factory=lambda: ["lips", "left_hand", "right_hand", "pose"])
    # without_hands: hand gaps of at most max_gap filled, then frames without a hand dropped; empty: only frames
    # where nothing selected is observed
    drop_frames: Literal["without_hands", "empty"] = "without_hands"
    dtype: Literal["float16", "float32"] = "float32"  # of the store's values


@dataclass(frozen=True)
class SplitConfig:
    strategy: Literal["participant", "random", "group_kfold"]
    train_size: float
    valid_size: float
    test_size: float
    valid_participants: list[str]
    test_participants: list[str]
    folds: int = 5  # group_kfold: participants fall into this many folds
    fold: int = 0  # group_kfold: the fold whose participants are the test set (0 .. folds-1)


# Each augmentation's section of `augment`: its settings, and `probability`, with which it is applied to a
# sequence (null: augment.probability, as the augmentation schedule grows it). The methods: asl.data.augment.


@dataclass(frozen=True)
class ShiftConfig:
    max_shift: float
    probability: float | None = None


@dataclass(frozen=True)
class MirrorConfig:
    probability: float | None = None


@dataclass(frozen=True)
class FrameDropoutConfig:
    rate: float
    probability: float | None = None


@dataclass(frozen=True)
class ScalingConfig:
    min_scale: float
    max_scale: float
    probability: float | None = None


@dataclass(frozen=True)
class RotationConfig:
    max_angle: float
    probability: float | None = None


@dataclass(frozen=True)
class ResampleConfig:
    min_rate: float = 0.5
    max_rate: float = 1.5
    probability: float | None = None


@dataclass(frozen=True)
class AffineConfig:
    min_scale: float = 0.8
    max_scale: float = 1.2
    max_aspect: float = 1.0
    max_shear: float = 0.15
    max_angle: float = 30.0
    max_shift: float = 0.1
    probability: float | None = None


@dataclass(frozen=True)
class FrameMaskConfig:
    min_fraction: float = 0.2
    max_fraction: float = 0.4
    probability: float | None = None


@dataclass(frozen=True)
class CutoutConfig:
    min_size: float = 0.2
    max_size: float = 0.4
    probability: float | None = None


@dataclass(frozen=True)
class AugmentConfig:
    probability: float
    methods: list[str]
    shift: ShiftConfig
    frame_dropout: FrameDropoutConfig
    scaling: ScalingConfig
    rotation: RotationConfig
    mirror: MirrorConfig = field(default_factory=MirrorConfig)
    resample: ResampleConfig = field(default_factory=ResampleConfig)
    affine: AffineConfig = field(default_factory=AffineConfig)
    frame_mask: FrameMaskConfig = field(default_factory=FrameMaskConfig)
    cutout: CutoutConfig = field(default_factory=CutoutConfig)


@dataclass(frozen=True)
class EarlyStopConfig:
    metric: str
    mode: Literal["min", "max"]
    patience: int
    tolerance: float


@dataclass(frozen=True)
class AwpConfig:
    """Adversarial weight perturbation (the GISLR 1st place): from `start_epoch`, each step takes its gradient at
    weights moved by `strength` * g / ||g|| per weight tensor (g its gradient; as the 1st place's tf_utils AWP, not
    scaled by the weights' size), then steps from the unperturbed weights. strength 0: off."""

    strength: float = 0.0
    start_epoch: int = 0

    def strength_at(self, epoch: int) -> float:
        """The strength in this (0-based) epoch: none before `start_epoch`."""
        return self.strength if epoch >= self.start_epoch else 0.0


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
    resume: bool = False  # continue an interrupted run from its saved state (native PyTorch trainer only)
    deterministic: bool = True  # deterministic algorithms (GPU included): a rerun on a device repeats its metrics
    precision: Literal["32", "bf16", "16-mixed"] = "32"  # autocast of the training step (32: none); YAML's 32 is "32"
    compile: bool = False  # torch.compile the model for training (eager, with a warning, where it cannot compile)
    bucket_by_length: bool = False  # training batches of recordings of similar length (asl.data.buckets)
    store_on_device: bool = False  # gather training batches on the device from a copy of the store there
    label_smoothing: float = 0.0  # of the cross-entropy's targets
    awp: AwpConfig = field(default_factory=AwpConfig)


@dataclass(frozen=True)
class DropoutScheduleConfig:
    """Each dropout grows from its configured rate (models.<model>) by `factor` every `interval` epochs."""

    enabled: bool
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
    top_k: int  # top5_accuracy is always reported; another k adds top{k}_accuracy
    bootstrap_samples: int = 1000  # resamples of test participants for accuracy_ci95


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
        if isinstance(value, (int, float)) and not isinstance(value, bool) and str(value) in choices:
            value = str(value)  # `precision: 32` as written in YAML (or by `dvc exp run -S`) names the choice "32"
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


#: The validation metrics logged every epoch that early stopping can watch, and the direction each improves in.
METRIC_MODES = {"loss": "min", "accuracy": "max", "f1_macro": "max", "precision_macro": "max", "recall_macro": "max"}


def range_problems(params: Params) -> list[str]:
    """Every value of `params` outside its valid range, one message per problem naming the key (empty: all valid).

    Types and choices are checked by `load_params`; this checks what a type cannot say: counts, probabilities,
    rates and settings that contradict each other. The selected model's entry is checked by key name: every
    `learning_rate` must be > 0, every dropout rate (`is_rate`) a probability, every `weight_decay` >= 0.
    """
    train, augment, schedules = params.train, params.augment, params.callbacks
    at_least = {
        "train.epochs": (train.epochs, 1), "train.batch_size": (train.batch_size, 1),
        "train.fast_dev_batches": (train.fast_dev_batches, 1), "train.num_workers": (train.num_workers, 0),
        "train.early_stop.patience": (train.early_stop.patience, 1),
        "evaluate.batch_size": (params.evaluate.batch_size, 1), "evaluate.top_k": (params.evaluate.top_k, 1),
        "data.workers": (params.data.workers, 1), "preprocess.frames": (params.preprocess.frames, 1),
        "preprocess.max_gap": (params.preprocess.max_gap, 0),
        "preprocess.chunk_size": (params.preprocess.chunk_size, 1),
        "clean.min_frames": (params.clean.min_frames, 0),
        "clean.max_consecutive_missing": (params.clean.max_consecutive_missing, 0),
        "callbacks.dropout.interval": (schedules.dropout.interval, 1),
        "callbacks.augmentation.interval": (schedules.augmentation.interval, 1),
        "train.early_stop.tolerance": (train.early_stop.tolerance, 0),
        "augment.shift.max_shift": (augment.shift.max_shift, 0),
        "augment.rotation.max_angle": (augment.rotation.max_angle, 0),
    }
    problems = [f"{key} must be at least {low}, got {value}" for key, (value, low) in at_least.items() if value < low]
    probabilities = {
        "augment.probability": augment.probability, "augment.frame_dropout.rate": augment.frame_dropout.rate,
        "callbacks.dropout.max_rate": schedules.dropout.max_rate,
        "callbacks.augmentation.max_probability": schedules.augmentation.max_probability,
    }  # split sizes: asl.data.splits.split_problems
    problems += [f"{key} must be a probability in [0, 1], got {value}" for key, value in probabilities.items()
                 if not 0 <= value <= 1]
    positive = {"callbacks.dropout.factor": schedules.dropout.factor,
                "callbacks.augmentation.factor": schedules.augmentation.factor}
    problems += [f"{key} must be > 0, got {value}" for key, value in positive.items() if not value > 0]
    if not 0 <= train.label_smoothing < 1:
        problems.append(f"train.label_smoothing must be in [0, 1), got {train.label_smoothing}")
    if train.awp.strength < 0:
        problems.append(f"train.awp.strength must be at least 0, got {train.awp.strength}")
    problems += augment_problems(augment)
    problems += landmark_problems(params.preprocess)
    stop = train.early_stop
    if stop.metric not in METRIC_MODES:
        problems.append(f"train.early_stop.metric {stop.metric!r} is not a validation metric; "
                        f"choose from {', '.join(METRIC_MODES)}")
    elif METRIC_MODES[stop.metric] != stop.mode:
        problems.append(f"train.early_stop.mode is {stop.mode!r} but {stop.metric} improves towards "
                        f"{METRIC_MODES[stop.metric]!r}: set mode: {METRIC_MODES[stop.metric]}")
    return problems + model_range_problems(params.model_settings(), f"models.{params.model}")


def augment_problems(augment: AugmentConfig) -> list[str]:
    """Each augmentation section's `probability` (when set) in [0, 1]; each [min, max] range ordered, with a low
    end above 0 where it scales or resamples; affine's max_aspect at least 1."""
    problems = []
    for name in AUGMENT_SECTIONS:
        probability = getattr(augment, name).probability
        if probability is not None and not 0 <= probability <= 1:
            problems.append(f"augment.{name}.probability must be a probability in [0, 1], got {probability}")
    ranges = {"scaling": ("min_scale", "max_scale", True), "resample": ("min_rate", "max_rate", True),
              "affine": ("min_scale", "max_scale", True), "frame_mask": ("min_fraction", "max_fraction", False),
              "cutout": ("min_size", "max_size", False)}
    for name, (low_key, high_key, above_zero) in ranges.items():
        low, high = getattr(getattr(augment, name), low_key), getattr(getattr(augment, name), high_key)
        if above_zero and not low > 0:
            problems.append(f"augment.{name}.{low_key} must be > 0, got {low}")
        elif low < 0:
            problems.append(f"augment.{name}.{low_key} must be at least 0, got {low}")
        if low > high:
            problems.append(f"augment.{name}.{low_key} ({low}) must not exceed {high_key} ({high})")
    if augment.affine.max_aspect < 1:
        problems.append(f"augment.affine.max_aspect must be at least 1, got {augment.affine.max_aspect}")
    return problems


#: The sections of `augment` that configure one method each.
AUGMENT_SECTIONS = tuple(f.name for f in dataclasses.fields(AugmentConfig) if f.name not in ("probability", "methods"))


def landmark_problems(config: PreprocessConfig) -> list[str]:
    """`preprocess.landmarks`: known group names, each once, at least one; without_hands needs a hand group."""
    from asl.landmarks import HAND_GROUPS, LANDMARK_GROUPS

    problems = [f"preprocess.landmarks: unknown group {name!r}; groups are {', '.join(LANDMARK_GROUPS)}"
                for name in config.landmarks if name not in LANDMARK_GROUPS]
    if not config.landmarks:
        problems.append("preprocess.landmarks must name at least one group")
    if len(set(config.landmarks)) != len(config.landmarks):
        problems.append(f"preprocess.landmarks names a group twice: {config.landmarks}")
    if config.drop_frames == "without_hands" and not set(HAND_GROUPS) & set(config.landmarks):
        problems.append("preprocess.drop_frames: without_hands needs left_hand or right_hand in preprocess.landmarks")
    return problems


def is_rate(name: str) -> bool:
    """A model key that holds a dropout rate: `*dropout*` (not an epoch such as late_dropout_start), drop_path."""
    return ("dropout" in name and not name.endswith("_start")) or name == "drop_path"


def model_range_problems(settings: Any, prefix: str) -> list[str]:
    """Range problems of a model's entry, found by key name at any depth (see `range_problems`)."""
    if not isinstance(settings, dict):
        return []
    problems = []
    for name, value in settings.items():
        key = f"{prefix}.{name}"
        if isinstance(value, dict):
            problems += model_range_problems(value, key)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # a wrong type is the model config's to report
        elif name == "learning_rate" and not value > 0:
            problems.append(f"{key} must be > 0, got {value}")
        elif is_rate(name) and not 0 <= value <= 1:
            problems.append(f"{key} must be a probability in [0, 1], got {value}")
        elif name == "weight_decay" and value < 0:
            problems.append(f"{key} must be at least 0, got {value}")
    return problems
