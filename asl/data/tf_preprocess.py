"""The input pipelines (`InputPipeline.from_raw`, asl.data.inputs) + `to_model_input` as TensorFlow layers, for
the exported model.

The GISLR competition's TFLite model took raw landmarks of one sequence, so the preprocessing must run inside
it (hoyso48's Keras `Preprocess` layer). These layers compute exactly what the numpy definitions compute, with
ops TFLite has. `Preprocess` (fixed_frames, the seed models): select the 96 landmarks, fill hand gaps of at most
`max_gap` frames (edges from the nearest observed frame), drop frames without a hand, resize to `frames`
(shorter: linear interpolation, longer: pooled over equal windows), normalise (`normalization`) and turn NaN into a
frame mask; a sequence without any hand gives an all-padding input. `VariablePreprocess` (variable_frames): the
store's frames (`store_sequence`), then the frames where the transform's groups observe anything, up to
`max_frames`, normalised; a sequence that keeps no frame gives one padded frame. Tests check both against the
numpy definitions on real files.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from asl.landmarks import HAND_GROUPS, HAND_POSITIONS, SELECTED_ROWS, group_positions, selected_positions

COORDINATES = ("x", "y", "z")


def preprocess_layer(pipeline) -> "Preprocess | VariablePreprocess":
    """The layer that computes `pipeline.from_raw` (asl.data.inputs.InputPipeline) + `to_model_input`.

    fixed_frames: the store step then the seed transform: hand gaps are filled only by a `without_hands` store;
    the frames the transform drops (those without a hand) include every frame either store policy drops, so the
    layer drops those. variable_frames: the store step as `store_sequence` does it, then the transform.
    """
    transform, layout = pipeline.transform, pipeline.layout
    if transform.name == "variable_frames":
        return VariablePreprocess(layout.record(), list(transform.groups or layout.landmarks), transform.max_frames,
                                  transform.normalization)
    max_gap = layout.max_gap if layout.drop_frames == "without_hands" else 0
    return Preprocess(transform.frames, max_gap, layout.coordinates, transform.normalization)


@keras.saving.register_keras_serializable(package="asl")
class Preprocess(keras.layers.Layer):
    """Raw frames (T, 543, 3), NaN where missing → (values (frames, 96, C) with NaN as 0, frame mask (frames,))."""

    def __init__(self, frames: int, max_gap: int, coordinates: tuple[str, ...] = ("x", "y"),
                 normalization: str = "none", **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames, self.max_gap, self.coordinates = frames, max_gap, tuple(coordinates)
        self.normalization = normalization

    def call(self, raw):
        channels = [COORDINATES.index(name) for name in self.coordinates]
        selected = tf.gather(tf.gather(raw, SELECTED_ROWS, axis=1), channels, axis=2)  # (T, 96, C)
        for hand in ("left_hand", "right_hand"):
            selected = fill_hand_gaps(selected, selected_positions(hand), self.max_gap)
        hands = tf.gather(selected, HAND_POSITIONS, axis=1)  # (T, 42, C)
        hand_seen = tf.logical_not(tf.reduce_all(tf.math.is_nan(hands), axis=[1, 2]))  # (T,)
        kept = tf.boolean_mask(selected, hand_seen)  # (K, 96, C)
        values = normalize(resize_frames(kept, self.frames), self.normalization)
        mask = tf.logical_not(tf.reduce_all(tf.math.is_nan(values), axis=[1, 2]))  # (frames,)
        return tf.where(tf.math.is_nan(values), tf.zeros_like(values), values), mask

    def get_config(self) -> dict:
        return {**super().get_config(), "frames": self.frames, "max_gap": self.max_gap,
                "coordinates": list(self.coordinates), "normalization": self.normalization}


@keras.saving.register_keras_serializable(package="asl")
class VariablePreprocess(keras.layers.Layer):
    """Raw frames (T, 543, 3), NaN where missing → (values (K, L, C) with NaN as 0, frame mask (K,)): the frames
    `store_sequence` keeps under `store` (a StoreLayout record), of which those where the `groups` observe anything,
    up to `max_frames`, normalised (`normalization`); K = 1 with the frame masked when none is left."""

    def __init__(self, store: dict, groups: list[str], max_frames: int, normalization: str = "none",
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.store, self.groups, self.max_frames = dict(store), list(groups), max_frames
        self.normalization = normalization

    def call(self, raw):
        from asl.data.preprocess import StoreLayout

        layout = StoreLayout.from_record(self.store)
        channels = [COORDINATES.index(name) for name in layout.coordinates]
        stored = tf.gather(tf.gather(raw, layout.rows, axis=1), channels, axis=2)  # (T, S, C)
        if layout.drop_frames == "without_hands":
            hands = [hand for hand in HAND_GROUPS if hand in layout.landmarks]
            for hand in hands:
                stored = fill_hand_gaps(stored, group_positions(layout.landmarks, hand), layout.max_gap)
            stored = tf.boolean_mask(stored, observed_frames(tf.gather(stored, layout.positions(hands), axis=1)))
        else:  # "empty" (StoreLayout refuses anything else when the checkpoint is trained)
            stored = tf.boolean_mask(stored, observed_frames(stored))
        selected = tf.gather(stored, layout.positions(self.groups), axis=1)  # (K, L, C)
        selected = tf.boolean_mask(selected, observed_frames(selected))[:self.max_frames]
        values = normalize(selected, self.normalization)
        empty = tf.fill(tf.concat([[1], tf.shape(values)[1:]], 0), float("nan"))  # the frame of an empty sequence
        values = tf.concat([values, empty], axis=0)[:tf.maximum(tf.shape(selected)[0], 1)]
        return tf.where(tf.math.is_nan(values), tf.zeros_like(values), values), observed_frames(values)

    def get_config(self) -> dict:
        return {**super().get_config(), "store": self.store, "groups": self.groups, "max_frames": self.max_frames,
                "normalization": self.normalization}


def observed_frames(values):
    """(T,) True where a frame of (T, P, C) has any non-NaN value."""
    return tf.logical_not(tf.reduce_all(tf.math.is_nan(values), axis=[1, 2]))


def fill_hand_gaps(selected, positions, max_gap: int):
    """asl.data.preprocess.fill_short_gaps on the hand at `positions` of (T, L, C); the rest is untouched."""
    assert (np.diff(positions) == 1).all(), "a hand's positions are contiguous in the selection"
    part = tf.gather(selected, positions, axis=1)  # (T, 21, C)
    length = tf.shape(part)[0]
    frame = tf.range(length)
    seen = tf.logical_not(tf.reduce_all(tf.math.is_nan(part), axis=[1, 2]))  # (T,)
    earlier = frame[None, :] <= frame[:, None]  # (T, T): [t, s] is s <= t
    previous = tf.reduce_max(tf.where(earlier & seen[None, :], frame[None, :], -1), axis=1)  # last seen ≤ t
    later = frame[None, :] >= frame[:, None]  # (T, T): [t, s] is s >= t
    following = tf.reduce_min(tf.where(later & seen[None, :], frame[None, :], length), axis=1)  # first seen ≥ t
    gap = tf.where(previous < 0, following,
                   tf.where(following >= length, length - 1 - previous, following - previous - 1))
    fill = ~seen & (gap <= max_gap) & tf.reduce_any(seen)
    before = tf.clip_by_value(tf.where(previous < 0, following, previous), 0, length - 1)
    after = tf.clip_by_value(tf.where(following >= length, previous, following), 0, length - 1)
    span = tf.maximum(after - before, 1)
    weight = tf.cast(frame - before, part.dtype) / tf.cast(span, part.dtype)
    weight = weight[:, None, None]  # (T, 1, 1)
    filled = tf.gather(part, before) * (1 - weight) + tf.gather(part, after) * weight
    part = tf.where(fill[:, None, None], filled, part)
    # put the hand back by concatenation (its positions are contiguous): TFLite lowers a scatter to arithmetic
    # masking, where the NaN being replaced survives as NaN * 0
    start, end = int(positions[0]), int(positions[-1]) + 1
    return tf.concat([selected[:, :start], part, selected[:, end:]], axis=1)  # (T, L, C)


def resize_frames(values, frames: int):
    """asl.data.preprocess.resize_frames: (K, L, C) → (frames, L, C); K = 0 gives all NaN."""
    length = tf.shape(values)[0]
    safe = tf.maximum(length, 1)
    padded = tf.concat([values, tf.fill(tf.concat([[1], tf.shape(values)[1:]], 0), float("nan"))], axis=0)
    index = tf.range(frames)
    # shorter: linear interpolation at i (K-1) / (frames-1), in integers so the frame indices are exact
    steps = max(frames - 1, 1)
    numerator = index * (safe - 1)
    lower = numerator // steps
    upper = tf.minimum(lower + 1, safe - 1)
    weight = (tf.cast(numerator - lower * steps, values.dtype) / float(steps))[:, None, None]
    interpolated = tf.gather(padded, lower) * (1 - weight) + tf.gather(padded, upper) * weight
    # longer: each output frame is the mean of the observed values whose input frames fall in its window
    window = (tf.range(safe) * frames) // safe  # (K,)
    observed = tf.logical_not(tf.math.is_nan(padded[:safe]))
    sums = tf.math.unsorted_segment_sum(tf.where(observed, padded[:safe], 0.0), window, frames)
    counts = tf.math.unsorted_segment_sum(tf.cast(observed, values.dtype), window, frames)
    pooled = sums / counts  # 0/0 = NaN: nothing observed in that window
    same = tf.gather(padded, tf.minimum(index, safe - 1))
    resized = tf.where(length == frames, same, tf.where(length < frames, interpolated, pooled))
    return tf.where(length == 0, tf.fill(tf.shape(resized), float("nan")), resized)


def normalize(values, normalization: str):
    """asl.data.preprocess.normalize on (frames, L, C): per coordinate, statistics over the observed points."""
    if normalization == "none":
        return values
    observed = tf.logical_not(tf.math.is_nan(values))  # (frames, L, C)
    if normalization == "minmax":
        low = tf.reduce_min(tf.where(observed, values, float("inf")), axis=[0, 1])  # (C,)
        high = tf.reduce_max(tf.where(observed, values, float("-inf")), axis=[0, 1])
        scale = tf.where(high > low, high - low, 1.0)
        centre = tf.where(tf.reduce_any(observed, axis=[0, 1]), low, 0.0)
    elif normalization == "standardize":
        count = tf.maximum(tf.reduce_sum(tf.cast(observed, values.dtype), axis=[0, 1]), 1.0)  # (C,)
        centre = tf.reduce_sum(tf.where(observed, values, 0.0), axis=[0, 1]) / count
        # a second pass corrects the float32 sum's rounding (numpy sums in float64): 272 frames agree to 6e-6
        centre += tf.reduce_sum(tf.where(observed, values - centre, 0.0), axis=[0, 1]) / count
        variance = tf.reduce_sum(tf.where(observed, tf.square(values - centre), 0.0), axis=[0, 1]) / count
        std = tf.sqrt(variance)
        scale = tf.where(std > 0, std, 1.0)
    else:
        raise ValueError(f"unknown normalization {normalization!r}")
    return (values - centre) / scale
