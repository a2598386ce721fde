"""Augmentations of whole padded batches, one definition for PyTorch tensors (on the training device) and numpy
(tf.data): `augment.methods` of params, each applied to each sequence with its own probability.

Training applies them to each batch after it reaches the training device (asl.training.torch_trainer,
lightning_trainer) or in the tf.data pipeline (asl.data.tf_data); items are never augmented one by one. They only
perturb: normalisation is a deterministic input step (`preprocess.normalization`), the same in training and
inference.

A batch is values (B, T, L, C) and a frame mask (B, T), True where a frame is real. A point is missing where any
coordinate is NaN or all its coordinates are exactly 0 (the two ways a batch marks one: NaN in the store, 0 after
`to_model_input`). Inside, every missing point and padded frame is NaN, so that NaN carries missingness through
the arithmetic; the result marks them as the input did: NaN if the batch holds any NaN, else 0. Missing points
stay missing, padded frames stay padding.

Randomness: `BatchAugmenter` draws every per-sequence parameter on the host with a numpy Generator seeded from
(seed, epoch, batch index): small (B,) arrays, moved to the values' device with the layout's indices in one copy
that nothing waits for; constants are made on the device. What is random per frame (frame dropout) is made on the
device from a key drawn per sequence, by an integer hash (`_frame_uniforms`), so the host's work per batch does not
grow with its length. All the work on the values is array operations through `_Ops` (torch or numpy), with no
per-sequence Python loop and no read-back from the device, so torch and numpy give the same result for the same
seed.

Each augmentation is a frozen dataclass (its configuration) that draws its parameters (`draw`) and applies them
(`apply`); each is applied to each sequence with its own `probability`. The landmark layout they need (the mirror
permutation, the points whose midpoint is the body's centre) is a `Layout`.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Protocol

import numpy as np

from asl.errors import AslError

if TYPE_CHECKING:
    from asl.params import AugmentConfig

Params = dict[str, np.ndarray]


class _Ops:
    """The few operations whose spelling differs between numpy and torch; the rest (operators, indexing,
    `where`, `isnan`, `floor`, `minimum`, `maximum`) are shared through `lib`."""

    def __init__(self, like: Any):
        self.torch = not isinstance(like, np.ndarray)
        if self.torch:
            import torch

            self.lib = torch
            self.device = like.device
        else:
            self.lib = np
        self.placement = {"device": self.device} if self.torch else {}  # where `lib` makes new arrays
        self.dtype = like.dtype
        self.made: dict[tuple, Any] = {}  # constants, each made once per `_Ops`

    def asarrays(self, host: list[np.ndarray]) -> list[Any]:
        """Host arrays on the values' device, floats in float32 (what the augmentations compute in). In torch one
        copy for them all, without waiting for it: their bytes in one buffer (pinned for CUDA), grouped by dtype at
        offsets aligned for any dtype, viewed back on the device as the arrays."""
        host = [np.ascontiguousarray(array, np.float32 if array.dtype.kind == "f" else array.dtype)
                for array in host]
        if not self.torch:
            return host
        groups: dict[np.dtype, list[int]] = {}
        for position, array in enumerate(host):
            groups.setdefault(array.dtype, []).append(position)
        flat = [np.concatenate([host[member].reshape(-1) for member in members]) for members in groups.values()]
        starts = list(itertools.accumulate((-(-array.nbytes // 8) * 8 for array in flat), initial=0))  # aligned
        buffer = self.lib.empty(starts[-1], dtype=self.lib.uint8, pin_memory=self.device.type == "cuda")
        packed = buffer.numpy()
        for start, array in zip(starts, flat):
            packed[start:start + array.nbytes] = array.view(np.uint8)
        moved, on_device = buffer.to(self.device, non_blocking=True), [None] * len(host)
        for start, array, members in zip(starts, flat, groups.values()):
            group = moved[start:start + array.nbytes].view(getattr(self.lib, array.dtype.name))
            for member, part in zip(members, self.lib.split(group, [host[member].size for member in members])):
                on_device[member] = part.view(host[member].shape)
        return on_device

    def constant(self, key: tuple, make: Callable[[], Any]) -> Any:
        """`make()`, made once per `_Ops` (so read only). While torch.compile traces, made each time: the compiled
        graph makes it for free, and a key of sizes would fix the graph to those sizes."""
        if self.torch and self.lib.compiler.is_compiling():
            return make()
        if key not in self.made:
            self.made[key] = make()
        return self.made[key]

    def arange(self, n: int, floats: bool = False) -> Any:
        """0, ..., n - 1 as int64, or in the values' dtype, on their device (read only)."""
        dtype = self.dtype if floats else self.lib.int64
        return self.constant(("arange", n, dtype), lambda: self.lib.arange(n, dtype=dtype, **self.placement))

    def full(self, shape: tuple[int, ...], value: float | bool, dtype: Any = None) -> Any:
        """An array of `value` in the values' dtype (or `dtype`) on their device (read only)."""
        dtype = dtype or self.dtype
        return self.constant(("full", shape, value, dtype),
                             lambda: self.lib.full(shape, value, dtype=dtype, **self.placement))

    def identity(self) -> Any:
        """The (2, 2) identity in the values' dtype on their device (read only)."""
        return self.constant(("eye",), lambda: self.lib.eye(2, dtype=self.dtype, **self.placement))

    def count(self, x: Any, axis: int) -> Any:
        """How many of x are True along `axis`, in the values' dtype (exact: far fewer than 2**24)."""
        return self.lib.sum(x, axis, dtype=self.dtype)

    def float(self, x: Any) -> Any:
        return x.to(self.dtype) if self.torch else x.astype(self.dtype)

    def cast(self, x: Any, dtype: Any) -> Any:
        """x in `dtype` (a dtype of the framework's own), x itself when it has it."""
        return x.to(dtype) if self.torch else x.astype(dtype, copy=False)

    def float32(self) -> Any:
        return self.lib.float32

    def long(self, x: Any) -> Any:
        return x.to(self.lib.int64) if self.torch else x.astype(np.int64)

    def take_time(self, x: Any, index: Any) -> Any:
        """x (B, T) gathered along time at index (B, T') -> (B, T')."""
        return self.lib.gather(x, 1, index) if self.torch else np.take_along_axis(x, index, 1)

    def planes(self, x: Any) -> Any:
        """(B, T, L, C) -> a contiguous (B, C, T, L)."""
        return x.permute(0, 3, 1, 2).contiguous() if self.torch else np.ascontiguousarray(x.transpose(0, 3, 1, 2))

    def interleaved(self, x: Any) -> Any:
        """(B, C, T, L) -> a contiguous (B, T, L, C)."""
        return x.permute(0, 2, 3, 1).contiguous() if self.torch else np.ascontiguousarray(x.transpose(0, 2, 3, 1))

    def take_frames(self, x: Any, index: Any) -> Any:
        """x (B, C, T, L) gathered along time at index (B, T') -> (B, C, T', L): whole frames by one flat index."""
        size, coordinates, frames = x.shape[:3]
        flat = index[:, None, :] + self.arange(size * coordinates).reshape(size, coordinates, 1) * frames
        return x.reshape((size * coordinates * frames,) + tuple(x.shape[3:]))[flat.reshape(-1)].reshape(
            tuple(flat.shape) + tuple(x.shape[3:]))

    def take_landmarks(self, x: Any, index: Any) -> Any:
        """x (B, C, T, L) at landmarks `index` -> a new (B, C, T, len(index))."""
        return self.lib.index_select(x, 3, index) if self.torch else np.take(x, index, axis=3)

    def concat(self, parts: list[Any], axis: int) -> Any:
        return self.lib.cat(parts, axis) if self.torch else np.concatenate(parts, axis)

    def argsort_time(self, x: Any) -> Any:
        return self.lib.argsort(x, dim=1) if self.torch else np.argsort(x, axis=1)

    def cumulative_count(self, x: Any) -> Any:
        """(B, T) -> how many of x[:, :t + 1] are True, in the values' dtype."""
        return self.lib.cumsum(x, 1, dtype=self.dtype)


@dataclass(frozen=True)
class Layout:
    """What the augmentations need to know of the landmark selection.

    `mirror_permutation`: positions to gather after a horizontal flip so that left and right keep their places
    (asl.landmarks.mirror_permutation for the 96-point selection). `centre_points`: positions whose midpoint, over
    the frames where all are observed, is the centre that scaling, rotation and affine keep fixed (the shoulders);
    empty, or none observed: the mean of the observed points.
    """

    mirror_permutation: np.ndarray | None = None
    centre_points: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


#: MediaPipe pose indices of the left and right shoulders: their midpoint is the body's centre.
SHOULDER_POINTS = (11, 12)


def layout_of(groups: tuple[str, ...] | list[str]) -> Layout:
    """The layout of a selection of landmark groups (asl.landmarks): its mirror permutation, and the shoulders as the
    centre points when the pose is among the groups (else the centre is the mean of the observed points)."""
    from asl.landmarks import POSE_POINTS, group_positions, mirror_permutation

    centre = (group_positions(groups, "pose")[np.isin(POSE_POINTS, SHOULDER_POINTS)] if "pose" in groups
              else np.zeros(0, dtype=int))
    return Layout(mirror_permutation(groups), centre)


class _Batch:
    """One batch being augmented: values (B, C, T, L), one contiguous plane per coordinate (fast elementwise work
    on the CPU), with NaN for every missing point and padded frame; its mask (B, T); the output's time dimension
    (for resample)."""

    def __init__(self, values: Any, mask: Any, frames: int, ops: _Ops | None = None):
        self.ops, self.values, self.mask, self.frames = ops or _Ops(values), values, mask, frames

    def where_frames(self, frames: Any, new: Any) -> Any:
        """`new` in the frames (B, T) where `frames`, the values elsewhere."""
        return self.ops.lib.where(frames[:, None, :, None], new, self.values)


class Augmentation(Protocol):
    probability: float
    name: ClassVar[str]

    def draw(self, rng: np.random.Generator, batch: int) -> Params: ...

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]: ...


def _centre(batch: _Batch, layout: Layout) -> Any:
    """(B, C) per sequence: the mean over frames of the midpoint of `layout.centre_points` where all are observed,
    else the mean of all observed points, else 0."""
    ops, lib, values = batch.ops, batch.ops.lib, batch.values
    size = values.shape[0]
    observed = values[:, 0] == values[:, 0]  # (B, T, L): not NaN (padding is NaN)
    count = ops.count(observed.reshape(size, -1), 1).clip(min=1.0)
    centre = lib.stack([lib.sum(lib.where(observed, values[:, coordinate], 0.0).reshape(size, -1), 1) / count
                        for coordinate in range(values.shape[1])], -1)
    if len(layout.centre_points):
        points = layout.centre_points
        frames = ops.float(lib.all(observed[:, :, points], -1))  # (B, T): all centre points observed
        centre_values = ops.take_landmarks(values, points)
        midpoint = lib.sum(lib.where(lib.isnan(centre_values), 0.0, centre_values), 3) / len(points)  # (B, C, T)
        frame_count = lib.sum(frames, 1)[:, None]
        body = lib.sum(midpoint * frames[:, None, :], 2) / frame_count.clip(min=1.0)
        centre = lib.where(frame_count > 0, body, centre)
    return centre


def _transform_points(batch: _Batch, applied: Any, matrix: Any, offset: Any, z_scale: Any, centre: Any) -> Any:
    """x, y -> centre + matrix @ (x, y - centre) + offset; z -> centre + z_scale (z - centre); per sequence (B, ...),
    where `applied` (B,). Missing points (NaN) stay NaN.

    Sequences not applied get the identity (matrix I, offset 0, z_scale 1), which is exact in floating point.
    """
    ops, lib, values = batch.ops, batch.ops.lib, batch.values
    size = values.shape[0]
    matrix = lib.where(applied[:, None, None], matrix, ops.identity())
    offset = lib.where(applied[:, None], offset, 0.0)
    constant = centre[:, :2] + offset - lib.sum(matrix * centre[:, None, :2], -1)  # (B, 2)
    m, c = matrix.reshape(size, 4, 1, 1), constant.reshape(size, 2, 1, 1)  # broadcast over (T, L) planes
    x, y = values[:, 0], values[:, 1]
    planes = [m[:, 0] * x + m[:, 1] * y + c[:, 0], m[:, 2] * x + m[:, 3] * y + c[:, 1]]
    if values.shape[1] > 2:
        z_scale, b = lib.where(applied, z_scale, 1.0), (slice(None), None, None)  # b: (B,) -> (B, 1, 1)
        planes += [z_scale[b] * values[:, coordinate] + ((1 - z_scale) * centre[:, coordinate])[b]
                   for coordinate in range(2, values.shape[1])]
    return lib.stack(planes, 1)


def _identity(batch_size: int) -> np.ndarray:
    return np.broadcast_to(np.eye(2), (batch_size, 2, 2)).copy()


def _rotation(degrees: np.ndarray) -> np.ndarray:
    """(B, 2, 2) rotation matrices; with MediaPipe's y pointing down a positive angle turns clockwise on screen."""
    angle = np.deg2rad(degrees)
    cos, sin = np.cos(angle), np.sin(angle)
    return np.stack([np.stack([cos, -sin], -1), np.stack([sin, cos], -1)], -2)


@dataclass(frozen=True)
class Shift:
    """Add one random (x, y) offset, each uniform in ±max_shift, to every point of a sequence."""

    probability: float = 0.0
    max_shift: float = 0.01
    name: ClassVar[str] = "shift"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        return {"offset": rng.uniform(-self.max_shift, self.max_shift, size=(batch, 2))}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        size, coordinates = batch.values.shape[:2]
        ops = batch.ops
        values = _transform_points(batch, params["applied"], ops.identity(), params["offset"], ops.full((size,), 1.0),
                                   ops.full((size, coordinates), 0.0))
        return values, batch.mask


@dataclass(frozen=True)
class Scaling:
    """Scale all coordinates by one factor, uniform in [min_scale, max_scale], about the body's centre."""

    probability: float = 0.0
    min_scale: float = 0.9
    max_scale: float = 1.1
    name: ClassVar[str] = "scaling"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        return {"factor": rng.uniform(self.min_scale, self.max_scale, size=batch)}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        factor = params["factor"]
        matrix = factor[:, None, None] * batch.ops.identity()
        offset = batch.ops.full((len(factor), 2), 0.0)
        return _transform_points(batch, params["applied"], matrix, offset, factor, _centre(batch, layout)), batch.mask


@dataclass(frozen=True)
class Rotation:
    """Rotate (x, y) by an angle uniform in ±max_angle degrees about the body's centre; z is untouched."""

    probability: float = 0.0
    max_angle: float = 10.0
    name: ClassVar[str] = "rotation"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        degrees = rng.uniform(-self.max_angle, self.max_angle, size=batch)
        return {"matrix": _rotation(degrees)}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        size = batch.values.shape[0]
        ops = batch.ops
        values = _transform_points(batch, params["applied"], params["matrix"], ops.full((size, 2), 0.0),
                                   ops.full((size,), 1.0), _centre(batch, layout))
        return values, batch.mask


@dataclass(frozen=True)
class Affine:
    """The 1st-place affine, about the body's centre: scale uniform in [min_scale, max_scale] (times x/y aspect,
    log-uniform in [1/max_aspect, max_aspect]: independent x and y scaling), shear uniform in ±max_shear of x or
    of y (even odds), rotation uniform in ±max_angle degrees, then an (x, y) shift uniform in ±max_shift each.
    z is untouched."""

    probability: float = 0.0
    min_scale: float = 0.8
    max_scale: float = 1.2
    max_aspect: float = 1.0
    max_shear: float = 0.15
    max_angle: float = 30.0
    max_shift: float = 0.1
    name: ClassVar[str] = "affine"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        scale = rng.uniform(self.min_scale, self.max_scale, size=batch)
        aspect = np.exp(rng.uniform(-np.log(self.max_aspect), np.log(self.max_aspect), size=batch))
        shear = rng.uniform(-self.max_shear, self.max_shear, size=batch)
        shear_x = rng.random(batch) < 0.5
        degrees = rng.uniform(-self.max_angle, self.max_angle, size=batch)
        offset = rng.uniform(-self.max_shift, self.max_shift, size=(batch, 2))
        scaling = np.zeros((batch, 2, 2))
        scaling[:, 0, 0], scaling[:, 1, 1] = scale * aspect, scale / aspect
        shearing = _identity(batch)
        shearing[:, 0, 1] = np.where(shear_x, shear, 0.0)  # x += shear * y
        shearing[:, 1, 0] = np.where(shear_x, 0.0, shear)  # y += shear * x
        return {"matrix": _rotation(degrees) @ shearing @ scaling, "offset": offset}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        ones = batch.ops.full((batch.values.shape[0],), 1.0)
        values = _transform_points(batch, params["applied"], params["matrix"], params["offset"], ones,
                                   _centre(batch, layout))
        return values, batch.mask


@dataclass(frozen=True)
class Mirror:
    """Flip horizontally about `axis` (x -> 2 axis - x: 0.5 for image coordinates, 0 after standardisation; see
    asl.data.preprocess.MIRROR_AXIS) and swap left and right landmarks (`Layout.mirror_permutation`)."""

    probability: float = 0.0
    axis: float = 0.5
    name: ClassVar[str] = "mirror"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        return {}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        if layout.mirror_permutation is None:
            raise AslError("augment.mirror: the landmark layout has no mirror permutation")
        lib, values = batch.ops.lib, batch.values
        flipped = batch.ops.take_landmarks(values, layout.mirror_permutation)  # a new array: changed in place below
        flipped[:, 0] = 2 * self.axis - flipped[:, 0]
        return lib.where(params["applied"][:, None, None, None], flipped, values), batch.mask


def _real_order(batch: _Batch, keep: Any) -> Any:
    """(B, T): for each sequence, the time indices of the frames in `keep` first, in time order, then the others."""
    time = batch.ops.arange(keep.shape[1])
    return batch.ops.argsort_time(batch.ops.lib.where(keep, time, time + keep.shape[1]))


def _resample_frames(batch: _Batch, order: Any, count: Any, positions: Any, new_mask: Any) -> Any:
    """Linear interpolation in time: output frame j of sequence b reads position positions[b, j] (fractional) of
    that sequence's kept frames (time indices order[b, :count[b]]). A point is missing where a frame it is
    interpolated from (with a weight above 0) misses it; frames outside `new_mask` are padding."""
    ops, lib = batch.ops, batch.ops.lib
    last = (count - 1).clip(min=0.0)[:, None]
    positions = lib.minimum(positions.clip(min=0.0), last)
    lower = lib.floor(positions)
    upper = lib.minimum(lower + 1, last)
    weight = (positions - lower)[:, None, :, None]
    low = ops.take_frames(batch.values, ops.take_time(order, ops.long(lower)))
    high = ops.take_frames(batch.values, ops.take_time(order, ops.long(upper)))
    values = lib.where(weight > 0, (1 - weight) * low + weight * high, low)  # NaN on either side: NaN
    return lib.where(new_mask[:, None, :, None], values, math.nan)


@dataclass(frozen=True)
class Resample:
    """Resample a sequence's real frames in time to floor(rate × length) frames (at least one), rate uniform in
    [min_rate, max_rate], by linear interpolation that keeps the first and last frame; a result longer than the
    output's frames is cropped at a random offset. The batch keeps its time dimension (or `BatchAugmenter`'s
    max_frames); the mask marks the new lengths."""

    probability: float = 0.0
    min_rate: float = 0.5
    max_rate: float = 1.5
    name: ClassVar[str] = "resample"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        return {"rate": rng.uniform(self.min_rate, self.max_rate, size=batch), "crop": rng.random(batch)}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        ops, lib = batch.ops, batch.ops.lib
        frames = batch.frames
        count = ops.count(batch.mask, 1)  # (B,)
        applied = params["applied"]
        length = lib.where(applied, (lib.floor(params["rate"] * count)).clip(min=1.0), count)
        length = lib.where(count > 0, length, count)
        spare = (length - frames).clip(min=0.0)
        start = lib.minimum(lib.floor(params["crop"] * (spare + 1)), spare)  # random crop offset
        index = ops.arange(frames, floats=True)[None] + start[:, None]  # (B, T): position in the resampled sequence
        new_mask = index < length[:, None]
        step_numerator = index * (count[:, None] - 1)
        positions = step_numerator / (length - 1).clip(min=1.0)[:, None]
        values = _resample_frames(batch, _real_order(batch, batch.mask), count, positions, new_mask)
        return values, new_mask


@dataclass(frozen=True)
class FrameDropout:
    """Drop each real frame with probability `rate` (keeping at least one) and resample the kept frames back to
    the sequence's length."""

    probability: float = 0.0
    rate: float = 0.05
    name: ClassVar[str] = "frame_dropout"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        return {"key": rng.integers(0, 2**32, batch, dtype=np.int64), "rescue": rng.random(batch)}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        ops, lib = batch.ops, batch.ops.lib
        mask, frames = batch.mask, batch.values.shape[2]
        count = ops.count(mask, 1)
        drop = _frame_uniforms(ops, params["key"], frames) < self.rate
        keep = mask & ~(drop & params["applied"][:, None])
        real = _real_order(batch, mask)
        rescue = ops.take_time(real, ops.long(lib.minimum(lib.floor(params["rescue"] * count),
                                                          (count - 1).clip(min=0.0)))[:, None])
        keep = keep | ((ops.arange(frames)[None] == rescue) & ~lib.any(keep, 1)[:, None] & (count > 0)[:, None])
        kept = ops.count(keep, 1)
        time = ops.arange(frames, floats=True)[None]
        new_mask = time < count[:, None]  # real frames packed at the start
        positions = time * (kept[:, None] - 1) / (count - 1).clip(min=1.0)[:, None]
        values = _resample_frames(batch, _real_order(batch, keep), kept, positions, new_mask)
        return values, new_mask


def _frame_uniforms(ops: _Ops, keys: Any, frames: int) -> Any:
    """(B, frames) uniforms in [0, 1) (24 bits each), made where the keys are: a counter-based generator that hashes
    each sequence's 32-bit key (drawn on the host) with each frame's index (Wellons' lowbias32 hash). Its integer
    arithmetic never overflows int64, so numpy and torch, eager or compiled, make the same bits; nothing of size
    B × T is drawn on the host or copied to the device."""
    x = keys[:, None] ^ _times_mod_2_32(ops.arange(frames), 0x9E3779B9)[None]  # frames a golden-ratio step apart
    for shift, multiplier in ((16, 0x7FEB352D), (15, 0x846CA68B)):
        x = _times_mod_2_32(x ^ (x >> shift), multiplier)
    return ops.float((x ^ (x >> 16)) >> 8) * 2.0**-24


def _times_mod_2_32(x: Any, constant: int) -> Any:
    """x × constant mod 2**32, for int64 x in [0, 2**32): the constant in 16-bit halves keeps every product below
    2**48."""
    low, high = constant & 0xFFFF, constant >> 16
    return (x * low + (((x * high) & 0xFFFF) << 16)) & 0xFFFFFFFF


@dataclass(frozen=True)
class FrameMask:
    """The 1st-place temporal mask: a run of floor(fraction × length) consecutive real frames, fraction uniform in
    [min_fraction, max_fraction], at a random offset, loses all its points (they become missing; the frames stay
    real). At least one real frame is left untouched."""

    probability: float = 0.0
    min_fraction: float = 0.2
    max_fraction: float = 0.4
    name: ClassVar[str] = "frame_mask"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        return {"fraction": rng.uniform(self.min_fraction, self.max_fraction, size=batch), "offset": rng.random(batch)}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        ops, lib = batch.ops, batch.ops.lib
        count = ops.count(batch.mask, 1)
        size = lib.minimum(lib.floor(params["fraction"] * count), (count - 1).clip(min=0.0))
        start = lib.floor(params["offset"] * (count - size).clip(min=1.0))
        rank = ops.cumulative_count(batch.mask) - 1  # (B, T): index among real frames
        hidden = batch.mask & (rank >= start[:, None]) & (rank < (start + size)[:, None]) & params["applied"][:, None]
        return batch.where_frames(hidden, math.nan), batch.mask


@dataclass(frozen=True)
class Cutout:
    """The 1st-place spatial mask: points inside a random square (side uniform in [min_size, max_size], lower
    corner uniform in [low, high) in x and y) become missing, in every frame of the sequence."""

    probability: float = 0.0
    min_size: float = 0.2
    max_size: float = 0.4
    low: float = 0.0
    high: float = 1.0
    name: ClassVar[str] = "cutout"

    def draw(self, rng: np.random.Generator, batch: int) -> Params:
        return {"corner": rng.uniform(self.low, self.high, size=(batch, 2)),
                "size": rng.uniform(self.min_size, self.max_size, size=batch)}

    def apply(self, batch: _Batch, params: dict[str, Any], layout: Layout) -> tuple[Any, Any]:
        values = batch.values
        corner, size = params["corner"][:, None, None], params["size"][:, None, None]
        x, y = values[:, 0], values[:, 1]
        inside = ((corner[..., 0] < x) & (x < corner[..., 0] + size) & (corner[..., 1] < y)
                  & (y < corner[..., 1] + size))
        return _hide_points(batch.ops, inside & params["applied"][:, None, None], values), batch.mask


#: Every batched augmentation by its name in params (`augment.<name>`).
AUGMENTATIONS: dict[str, type] = {cls.name: cls for cls in (Shift, Mirror, FrameDropout, Scaling, Rotation,
                                                             Resample, Affine, FrameMask, Cutout)}


class BatchAugmenter:
    """Apply `augmentations` in order to padded batches, each to each sequence with its own probability.

    The random parameters depend only on (seed, epoch, batch_index) and the batch's shape: the same for torch and
    numpy, for any device. The output has the input's time dimension T, lengthened to what resample can reach
    (ceil(T × max_rate)), at most `max_frames` (None: no limit; a longer input is cropped). `chunk`: on the CPU
    (numpy arrays, CPU tensors), how many sequences are augmented together (bounds the memory of the temporaries);
    None: the whole batch at once, as always on an accelerator. The result does not depend on it. `compiled`: torch
    tensors go through one torch.compile graph of the steps (`train.compile`; `compiled_steps`): a few fused kernels
    instead of hundreds of operations, equal to the eager result up to rounding.
    """

    def __init__(self, augmentations: list[Augmentation], layout: Layout, seed: int, max_frames: int | None = None,
                 chunk: int | None = 32, compiled: bool = False):
        self.augmentations, self.layout, self.seed = list(augmentations), layout, seed
        self.max_frames, self.chunk, self.compiled = max_frames, chunk, compiled

    def output_frames(self, frames: int) -> int:
        """The output's time dimension for an input of `frames` frames."""
        reach = max([math.ceil(frames * step.max_rate) for step in self.augmentations
                     if isinstance(step, Resample) and step.probability > 0] + [frames])
        return min(reach, self.max_frames) if self.max_frames else reach

    def __call__(self, values: Any, mask: Any, epoch: int, batch_index: int) -> tuple[Any, Any]:
        """New (values (B, T', L, C), mask (B, T')); the inputs are not modified."""
        size, frames = values.shape[0], self.output_frames(values.shape[1])
        ops = _Ops(values)
        steps, layout = self._on_device(ops, self.draw(size, epoch, batch_index))
        dtype, fill = values.dtype, _fill(ops, values)
        values = ops.cast(values, ops.float32())  # frame arithmetic needs float32 (float16 overflows at 65504)
        chunk = self.chunk if self.chunk and (not ops.torch or ops.device.type == "cpu") else size
        apply = compiled_steps() if self.compiled and ops.torch else apply_steps
        if chunk >= size:
            values, mask = apply(values, mask, steps, layout, frames, fill)
        else:
            parts = [apply(values[start:start + chunk], mask[start:start + chunk],
                           [(augmentation, {key: value[start:start + chunk] for key, value in params.items()})
                            for augmentation, params in steps], layout, frames, fill)
                     for start in range(0, size, chunk)]
            values, mask = ops.concat([part[0] for part in parts], 0), ops.concat([part[1] for part in parts], 0)
        return ops.cast(values, dtype), mask

    def draw(self, size: int, epoch: int, batch_index: int) -> list[tuple[Augmentation, Params]]:
        """Each applied step with its parameters for a batch of `size` sequences, drawn on the host from (seed,
        epoch, batch index): whether it applies to each sequence, and what it draws."""
        rng = np.random.default_rng((self.seed, epoch, batch_index))
        steps = []
        for augmentation in self.augmentations:
            applied = rng.random(size) < augmentation.probability
            drawn = augmentation.draw(rng, size)
            if augmentation.probability > 0:
                steps.append((augmentation, {"applied": applied, **drawn}))
        return steps

    def _on_device(self, ops: _Ops, steps: list[tuple[Augmentation, Params]]) -> tuple[list, Layout]:
        """The steps with their draws, and the layout, on the values' device: all in one copy (`_Ops.asarrays`)."""
        constants = {field.name: getattr(self.layout, field.name) for field in dataclasses.fields(self.layout)
                     if getattr(self.layout, field.name) is not None}
        moved = iter(ops.asarrays([*constants.values(), *(value for _, params in steps for value in params.values())]))
        layout = Layout(**{name: next(moved) for name in constants})
        return [(augmentation, {key: next(moved) for key in params}) for augmentation, params in steps], layout


def apply_steps(values: Any, mask: Any, steps: list[tuple[Augmentation, dict[str, Any]]], layout: Layout,
                frames: int, fill: Any) -> tuple[Any, Any]:
    """The steps, with their draws for these sequences (on the values' device), on float32 (values, mask)."""
    ops = _Ops(values)
    values = _missing_as_nan(ops, values, mask)
    for augmentation, params in steps:
        if not isinstance(augmentation, Resample):
            values, mask = _fit_frames(ops, values, mask, frames)
        values, mask = augmentation.apply(_Batch(values, mask, frames, ops), params, layout)
    values, mask = _fit_frames(ops, values, mask, frames)
    return ops.interleaved(ops.lib.where(ops.lib.isnan(values), fill, values)), mask


@functools.cache
def compiled_steps() -> Callable:
    """`apply_steps` through torch.compile, made once per process so that every epoch's augmenter shares its graphs
    (the augmentations' configurations are guarded by value). Sizes are symbolic from the start: batches of every
    length run one graph."""
    import torch

    return torch.compile(apply_steps, dynamic=True)


def _fill(ops: _Ops, values: Any) -> Any:
    """What marks missing points and padding in the result: NaN if the batch holds any NaN (0-d, on the device: no
    read-back), else 0."""
    nan, zero = (math.nan, 0.0) if ops.torch else (values.dtype.type(math.nan), values.dtype.type(0))
    return ops.lib.where(ops.lib.isnan(values[..., 0]).any(), nan, zero)


def _missing_as_nan(ops: _Ops, values: Any, mask: Any) -> Any:
    """Values (B, T, L, C) as planes (B, C, T, L), with NaN for every missing point (a NaN coordinate, or all
    coordinates 0) and padded frame."""
    lib, planes = ops.lib, ops.planes(values)
    magnitudes = lib.abs(planes)
    total = magnitudes[:, 0]  # per plane: faster than a reduction over C
    for coordinate in range(1, planes.shape[1]):
        total = total + magnitudes[:, coordinate]
    observed = (total > 0) & mask[:, :, None]  # above 0: no coordinate NaN (a sum with NaN is NaN) and not all 0
    return lib.where(observed[:, None], planes, math.nan)


def _hide_points(ops: _Ops, hidden: Any, values: Any) -> Any:
    """NaN for the points (B, T, L) in `hidden` of values (B, C, T, L)."""
    return ops.lib.where(hidden[:, None], math.nan, values)


def _fit_frames(ops: _Ops, values: Any, mask: Any, frames: int) -> tuple[Any, Any]:
    """Crop (at the end) or pad (with padding frames) values (B, C, T, L) and mask (B, T) to `frames`."""
    size, coordinates, length, landmarks = values.shape
    if length == frames:
        return values, mask
    if length > frames:
        return values[:, :, :frames], mask[:, :frames]
    padding = ops.full((size, coordinates, frames - length, landmarks), math.nan)
    return ops.concat([values, padding], 2), ops.concat([mask, ops.full((size, frames - length), False, bool)], 1)


#: Former methods that are input steps now, and where they went.
MOVED_METHODS = {"normalize": "preprocess.normalization: minmax",
                 "standardize": "preprocess.normalization: standardize"}


def check_methods(methods: list[str]) -> None:
    """Raise `AslError` naming the first unknown method and listing the valid ones."""
    for method in methods:
        if method in MOVED_METHODS:
            raise AslError(f"augment.methods: {method!r} is no longer an augmentation (augmentations only perturb); "
                           f"remove it and set {MOVED_METHODS[method]}, applied alike in training and inference")
        if method not in AUGMENTATIONS:
            raise AslError(f"unknown augmentation method {method!r} in augment.methods; "
                           f"valid methods are {', '.join(AUGMENTATIONS)}")


def training_augmenter(config: "AugmentConfig", probability: float, groups: tuple[str, ...] | list[str],
                       normalization: str, seed: int, max_frames: int | None = None,
                       compiled: bool = False) -> BatchAugmenter:
    """The `BatchAugmenter` of `augment.methods`, in order, each configured by its section `augment.<method>`.

    A method applies with the `probability` of its own section, or else with `probability` (augment.probability
    as the augmentation schedule has it this epoch). `groups`: the model input's landmark groups (mirror
    permutation, body centre); `normalization`: the input's (preprocess.normalization), whose axis mirroring flips
    about; `compiled`: see `BatchAugmenter`.
    """
    from asl.data.preprocess import MIRROR_AXIS

    check_methods(config.methods)
    augmentations = []
    for name in config.methods:
        settings = dataclasses.asdict(getattr(config, name))
        own = settings.pop("probability", None)
        if name == "mirror":
            settings["axis"] = MIRROR_AXIS[normalization]
        augmentations.append(AUGMENTATIONS[name](probability=probability if own is None else own, **settings))
    return BatchAugmenter(augmentations, layout_of(groups), seed, max_frames, compiled=compiled)
