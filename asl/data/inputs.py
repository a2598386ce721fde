"""Model inputs are transforms of the store (asl.data.preprocess): each model declares which one it reads.

A model class names its transform in its `input_transform` attribute (default `fixed_frames`); the settings come
from params (`input_transform`). Training, evaluation, video and camera inference build inputs through the same
`InputPipeline`, which checkpoints record (`record`), so inference rebuilds exactly the training's transform.

- `fixed_frames` (the seed models): the seed's 96 landmarks (lips, hands, pose), frames without a hand dropped,
  resized to `preprocess.frames` (`resize_frames`), then `preprocess.normalization`.
- `variable_frames`: the store's frames at their own length (those where the model's landmark groups,
  `models.<name>.landmarks`, observe anything), truncated at the model's `max_frames`, then
  `preprocess.normalization`; batches are padded to their longest member with a frame mask (`pad_batch`).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from asl.data.preprocess import (Store, StoreLayout, missing, normalize, resize_frames, store_sequence,
                                 to_model_input)
from asl.errors import AslError
from asl.landmarks import HAND_GROUPS, SEED_GROUPS, group_positions


@dataclass(frozen=True)
class FixedFrames:
    """The seed models' input: (frames, 96, C), NaN where missing; all NaN when no frame has a hand."""

    frames: int
    normalization: str = "none"
    groups: tuple[str, ...] = SEED_GROUPS
    name: ClassVar[str] = "fixed_frames"
    variable_length: ClassVar[bool] = False

    def apply(self, stored: np.ndarray, layout: StoreLayout) -> np.ndarray:
        selected = stored[:, layout.positions(self.groups)]  # (K, 96, C)
        hands = np.concatenate([group_positions(self.groups, hand) for hand in HAND_GROUPS if hand in self.groups])
        kept = selected[~np.isnan(selected[:, hands]).all(axis=(1, 2))]  # a no-op on a without_hands store
        if len(kept) == 0:
            return np.full((self.frames, *selected.shape[1:]), np.nan, np.float32)
        return normalize(resize_frames(kept, self.frames), self.normalization)


@dataclass(frozen=True)
class VariableFrames:
    """Frames at their own length where any point of `groups` is observed, truncated at `max_frames`:
    (min(K, max_frames), L, C), NaN where missing; one all-NaN frame when no frame is left. `groups` empty: every
    group of the store, in store order."""

    max_frames: int
    normalization: str = "none"
    groups: tuple[str, ...] = ()
    name: ClassVar[str] = "variable_frames"
    variable_length: ClassVar[bool] = True

    def apply(self, stored: np.ndarray, layout: StoreLayout) -> np.ndarray:
        selected = stored[:, layout.positions(self.groups or layout.landmarks)]
        selected = selected[~np.isnan(selected).all(axis=(1, 2))][:self.max_frames]
        if len(selected) == 0:
            return np.full((1, *selected.shape[1:]), np.nan, np.float32)
        return normalize(selected, self.normalization)

    def kept_frames(self, store: Store, layout: StoreLayout) -> "KeptFrames":
        """The store frames `apply` keeps of every recording (those where any point of `groups` is observed, the
        first `max_frames` of them), found in one pass over the store in chunks: what batches are gathered from."""
        positions = layout.positions(self.groups or layout.landmarks)
        observed = np.zeros(len(store.values), bool)
        for start in range(0, len(store.values), OBSERVED_CHUNK):
            chunk = np.take(store.values[start:start + OBSERVED_CHUNK], positions, axis=1)
            observed[start:start + len(chunk)] = ~missing(chunk).reshape(len(chunk), -1).all(axis=1)
        frames = ranges(store.offsets, store.lengths)  # every recording's frames, one recording after another
        seen = observed[frames]
        seen_before = np.concatenate([[0], np.cumsum(seen)])
        first = np.cumsum(store.lengths) - store.lengths  # of each recording in `frames`
        rank = seen_before[1:] - 1 - np.repeat(seen_before[first], store.lengths)  # among its observed frames
        keep = seen & (rank < self.max_frames)
        lengths = np.bincount(np.repeat(np.arange(len(store)), store.lengths)[keep], minlength=len(store))
        return KeptFrames(frames[keep], np.cumsum(lengths) - lengths, lengths)


#: Store frames read at once to find the observed ones (`VariableFrames.kept_frames`).
OBSERVED_CHUNK = 2**16


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The ranges [start, start + length) one after another, without a Python loop."""
    ends = np.cumsum(lengths)
    return np.arange(ends[-1] if len(ends) else 0, dtype=np.int64) - np.repeat(ends - lengths - starts, lengths)


@dataclass(frozen=True)
class KeptFrames:
    """The frames a variable-length transform keeps of each recording of a store: `index`, their store frames,
    recording after recording (each recording's `lengths[row]` of them from `offsets[row]`)."""

    index: np.ndarray
    offsets: np.ndarray
    lengths: np.ndarray

    def plan(self, rows: np.ndarray) -> "BatchPlan":
        """Where the frames of a batch of `rows` come from and go in the padded batch."""
        lengths = self.lengths[rows]
        longest = max(int(lengths.max(initial=0)), 1)  # a recording without frames: one all-missing frame
        flat = np.repeat(np.arange(len(rows)) * longest, lengths) + ranges(np.zeros_like(lengths), lengths)
        return BatchPlan(ranges(self.offsets[rows], lengths), flat, len(rows), longest)


@dataclass(frozen=True)
class BatchPlan:
    """A padded batch of variable-length inputs, as indices: `kept`, the entries of `KeptFrames.index` its frames
    come from, in order; `flat`, each one's place in the (rows × longest) flattening of the padded batch."""

    kept: np.ndarray
    flat: np.ndarray
    rows: int
    longest: int

    def padded(self, frames: np.ndarray, normalization: str) -> np.ndarray:
        """The NaN-padded float32 batch (`pad_batch` of each recording's `apply`) of the plan's `frames` (N, L, C),
        normalised per recording."""
        batch = np.full((self.rows, self.longest, *frames.shape[1:]), np.nan, np.float32)
        batch.reshape(-1, *frames.shape[1:])[self.flat] = frames
        if normalization != "none":  # per recording; its padding is NaN, which normalisation ignores
            for sequence in batch:
                sequence[:] = normalize(sequence, normalization)
        return batch

    def model_input(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """`to_model_input` of the unnormalised `padded` batch, built without it and in `frames`' dtype (half the
        bytes to move for a float16 store): zeros for missing values, and the frame mask, True exactly at the kept
        frames (each observes something). (`asl.data.torch_dataset.DeviceStore` does the same on a torch device.)"""
        values = np.zeros((self.rows, self.longest, *frames.shape[1:]), frames.dtype)
        mask = np.zeros((self.rows, self.longest), bool)
        values.reshape(-1, *frames.shape[1:])[self.flat] = np.where(missing(frames), 0, frames)
        mask.reshape(-1)[self.flat] = True
        return values, mask


TRANSFORMS: dict[str, type] = {FixedFrames.name: FixedFrames, VariableFrames.name: VariableFrames}


def input_transform(params) -> FixedFrames | VariableFrames:
    """The selected model's declared transform (its class's `input_transform`) with its settings from params:
    fixed_frames ← preprocess.frames; variable_frames ← models.<model>.max_frames; both preprocess.normalization."""
    from asl.models.registry import get_model_entry

    kind = getattr(get_model_entry(params.framework, params.model).model_class, "input_transform", "fixed_frames")
    normalization = params.preprocess.normalization
    if kind == FixedFrames.name:
        return FixedFrames(params.preprocess.frames, normalization)
    settings = params.model_settings()
    if not isinstance(settings, dict) or "max_frames" not in settings:
        raise AslError(f"models.{params.model}.max_frames is needed: the model reads variable-length input")
    groups = tuple(settings.get("landmarks") or ())
    unstored = [group for group in groups if group not in params.preprocess.landmarks]
    if unstored:
        raise AslError(f"models.{params.model}.landmarks: {', '.join(unstored)} not in the store; add them to "
                       f"preprocess.landmarks ({', '.join(params.preprocess.landmarks)})")
    return VariableFrames(int(settings["max_frames"]), normalization, groups)


@dataclass(frozen=True)
class InputPipeline:
    """Raw frames → stored frames (`store_sequence`) → model input (the transform): one definition everywhere."""

    layout: StoreLayout
    transform: FixedFrames | VariableFrames

    @property
    def frames(self) -> int:
        """The model's frames: fixed, or the most it reads."""
        return getattr(self.transform, "frames", None) or self.transform.max_frames

    @property
    def groups(self) -> tuple[str, ...]:
        """The landmark groups of the model input, in order."""
        return tuple(self.transform.groups or self.layout.landmarks)

    @property
    def landmarks(self) -> int:
        return len(self.layout.positions(self.groups))

    def from_stored(self, stored: np.ndarray) -> np.ndarray:
        """Model input (frames, L, C) with NaN of one recording's stored frames."""
        return self.transform.apply(np.asarray(stored, dtype=np.float32), self.layout)

    def from_raw(self, raw: np.ndarray, require_usable: bool = False) -> np.ndarray:
        """Model input of raw Holistic frames (T, 543, C) of the layout's coordinates; with `require_usable`, a
        recording that keeps no frame is an error (there is nothing to recognise)."""
        return self.from_stored(self.stored(raw, require_usable))

    def stored(self, raw: np.ndarray, require_usable: bool = False) -> np.ndarray:
        """The stored frames (K, L, C) of raw Holistic frames (T, 543, C); `require_usable` as in `from_raw`."""
        stored = store_sequence(raw, self.layout).values
        if require_usable and len(stored) == 0:
            reason = "has a hand in view" if self.layout.drop_frames == "without_hands" else "observes anything"
            raise AslError(f"no frame {reason}, so there is nothing to recognise")
        return stored

    def record(self) -> dict[str, Any]:
        """What a checkpoint records to rebuild this pipeline (`from_record`)."""
        settings = {key: list(value) if isinstance(value, tuple) else value
                    for key, value in asdict(self.transform).items()}
        return {"store": self.layout.record(), "transform": {"name": self.transform.name, **settings}}

    @classmethod
    def from_record(cls, record: dict) -> "InputPipeline":
        settings = dict(record["transform"])
        kind = TRANSFORMS[settings.pop("name")]
        if "groups" in settings:
            settings["groups"] = tuple(settings["groups"])
        return cls(StoreLayout.from_record(record["store"]), kind(**settings))

    @classmethod
    def of(cls, params) -> "InputPipeline":
        """The selected model's pipeline for the store that params describe."""
        return cls(StoreLayout.of(params.preprocess, params.data.coordinates), input_transform(params))


def checkpoint_pipeline(extras: dict) -> InputPipeline:
    """The pipeline a checkpoint was trained with: its `inputs` record; a checkpoint from before the store records
    only its params (the seed's fixed frames over the seed's landmarks, frames without hands dropped)."""
    from asl.params import PreprocessConfig, from_mapping

    if "inputs" in extras:
        return InputPipeline.from_record(extras["inputs"])
    params = extras.get("params") or {}
    if "preprocess" not in params or "data" not in params:
        raise AslError("the checkpoint does not record the params it was trained with (preprocess, data)")
    config = from_mapping(PreprocessConfig, params["preprocess"], "preprocess")
    return InputPipeline(StoreLayout.of(config, params["data"]["coordinates"]),
                         FixedFrames(config.frames, config.normalization))


def input_groups(values) -> tuple[str, ...]:
    """The landmark groups of model inputs `values`: their pipeline's (StoreInputs), else the seed's 96 points."""
    pipeline = getattr(values, "pipeline", None)
    return pipeline.groups if pipeline is not None else SEED_GROUPS


def pad_batch(sequences: list[np.ndarray]) -> np.ndarray:
    """Sequences (T_i, L, C) → (B, max T_i, L, C), padded with NaN (padding is masked out by `to_model_input`)."""
    longest = max((len(sequence) for sequence in sequences), default=0)
    batch = np.full((len(sequences), longest, *sequences[0].shape[1:]), np.nan, np.float32) if sequences else \
        np.zeros((0, 0, 0, 0), np.float32)
    for i, sequence in enumerate(sequences):
        batch[i, :len(sequence)] = sequence
    return batch


class StoreInputs:
    """Model inputs of every recording of a store, computed on access like an array: `inputs[row]` is one
    (frames, L, C) float32 with NaN, `inputs[rows]` a NaN-padded batch (`pad_batch`). `shape` is (recordings,
    frames, L, C), frames the fixed or the most frames (what a model is built for)."""

    def __init__(self, store: Store, pipeline: InputPipeline) -> None:
        self.store, self.pipeline = store, pipeline
        self.variable_length = pipeline.transform.variable_length
        coordinates = len(pipeline.layout.coordinates)
        if store.values.shape[1:] != (len(pipeline.layout.rows), coordinates):
            raise AslError(f"the store holds {store.values.shape[1:]} (landmarks, coordinates) per frame, not the "
                           f"{(len(pipeline.layout.rows), coordinates)} of preprocess.landmarks and data.coordinates "
                           f"({', '.join(pipeline.layout.landmarks)}; {', '.join(pipeline.layout.coordinates)}): "
                           "run `dvc repro preprocess`")
        self.shape = (len(store), pipeline.frames, pipeline.landmarks, coordinates)
        self.positions = pipeline.layout.positions(pipeline.groups)  # of the model's landmarks in a stored frame
        #: Whether batches are assembled straight from the kept frames (`BatchPlan.model_input`, on the host or on a
        #: device): variable-length inputs without normalisation.
        self.planned = self.variable_length and pipeline.transform.normalization == "none"

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, rows) -> np.ndarray:
        if np.ndim(rows) == 0:
            return self.pipeline.from_stored(self.store.sequence(int(rows)))
        rows = np.asarray(rows, dtype=np.int64)
        if self.variable_length:
            plan = self.kept.plan(rows)
            return plan.padded(self.kept_values(plan.kept), self.pipeline.transform.normalization)
        return pad_batch([self.pipeline.from_stored(self.store.sequence(int(row))) for row in rows])

    @functools.cached_property
    def kept(self) -> KeptFrames:
        """The frames the variable-length transform keeps of each recording (one pass over the store, then kept)."""
        return self.pipeline.transform.kept_frames(self.store, self.pipeline.layout)

    def kept_values(self, entries) -> np.ndarray:
        """Kept frames `entries` (indices into `kept.index`, or a slice) of the model's landmarks: (N, L, C) in the
        store's dtype, NaN where missing."""
        return np.take(self.store.values[self.kept.index[entries]], self.positions, axis=1)

    def lengths(self, rows) -> np.ndarray:
        """Kept frames of each input `self[row]` (0 for a recording without any: its input is one all-missing
        frame)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.variable_length:
            return self.kept.lengths[rows]
        return np.full(len(rows), self.shape[1], dtype=np.int64)

    def model_batch(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """`to_model_input(self[rows])`: (values with 0 for missing, frame mask), the way training reads batches
        (variable-length inputs without normalisation are assembled directly, the fast path, in the store's dtype:
        float16 or float32)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.planned:
            plan = self.kept.plan(rows)
            return plan.model_input(self.kept_values(plan.kept))
        return to_model_input(self[rows])


def model_batch(values, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(values with 0 for missing, frame mask) of model inputs `values[rows]`: `values` an array (N, frames, L, C)
    with NaN, or `StoreInputs` (assembled straight from the store). The values are float32, or float16 from a
    float16 store (cast them where it is cheapest: torch's cast is several times numpy's)."""
    if isinstance(values, StoreInputs):
        return values.model_batch(rows)
    return to_model_input(np.asarray(values[rows], dtype=np.float32))


def seed_inputs(values_path, meta, params, meta_path="meta.csv") -> StoreInputs:
    """The seed models' inputs (`fixed_frames` with params' preprocess settings) of a store described by params:
    what the report and `asl viz` draw."""
    from asl.data.preprocess import open_store

    pipeline = InputPipeline(StoreLayout.of(params.preprocess, params.data.coordinates),
                             FixedFrames(params.preprocess.frames, params.preprocess.normalization))
    return StoreInputs(open_store(values_path, meta, meta_path), pipeline)
