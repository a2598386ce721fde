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

    def gather(self, store: Store, rows: np.ndarray, layout: StoreLayout) -> "GatheredFrames":
        """`apply`'s frames of many recordings of `store` (normalisation aside), read in one gather with array
        operations instead of a loop over the rows."""
        lengths, starts = store.lengths[rows], store.offsets[rows]
        ends = np.cumsum(lengths)  # of each row's frames in the gathered array
        frame_row = np.repeat(np.arange(len(rows)), lengths)
        gathered = np.arange(ends[-1] if len(rows) else 0) - np.repeat(ends - lengths - starts, lengths)
        positions = layout.positions(self.groups or layout.landmarks)
        frames = np.take(store.values[gathered], positions, axis=1)  # (N, L, C) of the store's dtype
        observed = ~missing(frames).reshape(len(frames), -1).all(axis=1)  # (faster than all(axis=(1, 2)))
        observed_before_row = np.concatenate([[0], np.cumsum(observed)])[ends - lengths]
        rank = np.cumsum(observed) - 1 - np.repeat(observed_before_row, lengths)  # among the row's observed frames
        keep = observed & (rank < self.max_frames)
        return GatheredFrames(frames[keep], frame_row[keep], rank[keep], len(rows))


@dataclass(frozen=True)
class GatheredFrames:
    """Kept frames of a batch of recordings, one after another: `frames` (N, L, C) of the store's dtype with NaN,
    each one's batch row and position in its recording's input."""

    frames: np.ndarray
    row: np.ndarray
    position: np.ndarray
    rows: int

    def padded_shape(self) -> tuple[int, ...]:
        """(rows, longest input, L, C); a recording without frames has one all-missing frame, as `apply` gives."""
        longest = int(self.position.max(initial=-1)) + 1
        return (self.rows, max(longest, 1), *self.frames.shape[1:])

    def padded(self, normalization: str) -> np.ndarray:
        """The NaN-padded batch (`pad_batch` of each recording's `apply`), normalised per recording."""
        batch = np.full(self.padded_shape(), np.nan, np.float32)
        batch.reshape(-1, *batch.shape[2:])[self.flat_position(batch.shape[1])] = self.frames
        if normalization != "none":  # per recording; its padding is NaN, which normalisation ignores
            for sequence in batch:
                sequence[:] = normalize(sequence, normalization)
        return batch

    def model_input(self) -> tuple[np.ndarray, np.ndarray]:
        """`to_model_input` of the unnormalised `padded` batch, built without it and in the store's dtype (half
        the bytes to move for a float16 store): zeros for missing values, and the frame mask, which is True
        exactly at the kept frames (each observes something)."""
        values = np.zeros(self.padded_shape(), self.frames.dtype)
        mask = np.zeros(values.shape[:2], bool)
        flat = self.flat_position(values.shape[1])
        values.reshape(-1, *values.shape[2:])[flat] = np.where(missing(self.frames), 0, self.frames)
        mask.reshape(-1)[flat] = True
        return values, mask

    def flat_position(self, longest: int) -> np.ndarray:
        """Each frame's index in a (rows × longest) flattening of the batch (one index: a faster scatter)."""
        return self.row * longest + self.position


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

    def __len__(self) -> int:
        return len(self.store)

    def __getitem__(self, rows) -> np.ndarray:
        if np.ndim(rows) == 0:
            return self.pipeline.from_stored(self.store.sequence(int(rows)))
        rows = np.asarray(rows, dtype=np.int64)
        if self.variable_length:
            return self._gather(rows).padded(self.pipeline.transform.normalization)
        return pad_batch([self.pipeline.from_stored(self.store.sequence(int(row))) for row in rows])

    def model_batch(self, rows) -> tuple[np.ndarray, np.ndarray]:
        """`to_model_input(self[rows])`: (values with 0 for missing, frame mask), the way training reads batches
        (variable-length inputs without normalisation are assembled directly, the fast path, in the store's dtype:
        float16 or float32)."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.variable_length and self.pipeline.transform.normalization == "none":
            return self._gather(rows).model_input()
        return to_model_input(self[rows])

    def _gather(self, rows: np.ndarray) -> GatheredFrames:
        return self.pipeline.transform.gather(self.store, rows, self.pipeline.layout)


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
