"""Conv1DTransformer in Keras: the GISLR 1st-place model (Hoyeol Sohn, `ISLR_1st_place_Hoyeol_Sohn.ipynb` in
hoyso48/Google---Isolated-Sign-Language-Recognition-1st-place-solution), the same architecture as
asl.models.torch.conv1d_transformer.

Every padded frame is kept out of what real frames see: its features are zero, BatchNorm statistics (Keras's masked
moments), ECA and pooling are masked, attention ignores it as a key, and the depthwise convolutions are causal
(padding only follows a sequence) and read zeros where a frame is masked. The normalisation and motion features run
inside the model, so an export carries them.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from asl.errors import AslError
from asl.landmarks import LIP_POINTS, group_positions
from asl.models.config import Conv1DTransformerConfig, InputShape
from asl.models.tf.base import MaskedMean, ScheduledDropout, TFModel, register

#: The face-mesh point whose mean position centres each sequence (the notebook's landmark 17, on the lower lip).
CENTRE_POINT = 17
#: Coordinates kept after normalising (x, y; z only contributes to the centre and scale).
KEPT_COORDINATES = 2
#: The notebook's BatchNorm momentum (Keras terms).
MOMENTUM = 0.95


def centre_position(landmarks: list[str]) -> int:
    """Position of face-mesh point 17 among the points of the `landmarks` groups (it is a lip point)."""
    if "lips" not in landmarks:
        raise AslError(f"models.Conv1DTransformer.landmarks must include lips: its point {CENTRE_POINT} centres "
                       f"every sequence (got {', '.join(landmarks)})")
    return int(group_positions(landmarks, "lips")[list(LIP_POINTS).index(CENTRE_POINT)])


@keras.saving.register_keras_serializable(package="asl")
class MotionFeatures(keras.layers.Layer):
    """The notebook's Preprocess on (B, T, L, C) with frame mask (B, T) → (B, T, 6L): positions normalised by the
    sequence's centre and scale, their first and second differences over time; 0 where a point is missing (all its
    coordinates 0 or its frame masked) or a difference reaches past it.

    Centre: the mean of landmark 17 over the sequence (0.5 where never seen); scale: the root mean square distance
    from that centre of every observed point, per coordinate (the notebook's tf_nan_std over frames and points; the
    issue's table says one scale over all coordinates, the notebook computes one per coordinate)."""

    def __init__(self, centre: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.centre = centre

    def call(self, values, mask):
        observed = tf.reduce_any(values != 0, axis=-1) & mask[:, :, None]  # (B, T, L)
        weights = tf.cast(observed, values.dtype)[..., None]  # (B, T, L, 1)
        centre_weights = weights[:, :, self.centre:self.centre + 1]
        seen = tf.reduce_sum(centre_weights, axis=[1, 2], keepdims=True)  # (B, 1, 1, 1)
        centre = tf.reduce_sum(values[:, :, self.centre:self.centre + 1] * centre_weights, axis=[1, 2],
                               keepdims=True) / tf.maximum(seen, 1.0)
        centre = tf.where(seen > 0, centre, 0.5)  # (B, 1, 1, C)
        count = tf.maximum(tf.reduce_sum(weights, axis=[1, 2], keepdims=True), 1.0)
        variance = tf.reduce_sum(tf.square(values - centre) * weights, axis=[1, 2], keepdims=True) / count
        # variance 0: every observed point sits on the centre, so it normalises to 0 whatever the scale
        scale = tf.where(variance > 0, tf.sqrt(tf.maximum(variance, 1e-30)), 1.0)
        position = ((values - centre) / scale * weights)[..., :KEPT_COORDINATES]  # (B, T, L, 2), 0 where missing
        beyond = [[0, 0], [0, 2], [0, 0], [0, 0]]  # two frames past the end: nothing observed there
        ahead, seen_ahead = tf.pad(position, beyond), tf.pad(weights, beyond)  # (B, T + 2, L, ·)
        first = (ahead[:, 1:-1] - position) * seen_ahead[:, 1:-1] * weights  # 0 unless both points are observed
        second = (ahead[:, 2:] - position) * seen_ahead[:, 2:] * weights
        shape = tf.shape(values)
        width = values.shape[2] * KEPT_COORDINATES
        return tf.concat([tf.reshape(part, (shape[0], shape[1], width)) for part in (position, first, second)],
                         axis=-1)  # (B, T, 6L)

    def get_config(self) -> dict:
        return {**super().get_config(), "centre": self.centre}


@keras.saving.register_keras_serializable(package="asl")
class MaskedBatchNormalization(keras.layers.BatchNormalization):
    """BatchNorm whose batch statistics count real frames only (the author: "very crucial"), called with the frame
    mask; its output carries no Keras mask (the mask is passed explicitly where it is needed)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**{"momentum": MOMENTUM, **kwargs})

    def compute_mask(self, inputs, previous_mask=None):
        return None


@keras.saving.register_keras_serializable(package="asl")
class ZeroPaddedFrames(keras.layers.Layer):
    """(B, T, D) with the padded frames' values set to 0."""

    def call(self, values, mask):
        return values * tf.cast(mask, values.dtype)[:, :, None]


@keras.saving.register_keras_serializable(package="asl")
class EfficientChannelAttention(keras.layers.Layer):
    """ECA: channels reweighted by a sigmoid of a 1-D convolution across the channels of their masked time mean."""

    def __init__(self, kernel_size: int = 5, **kwargs) -> None:
        super().__init__(**kwargs)
        self.kernel_size = kernel_size
        self.conv = keras.layers.Conv1D(1, kernel_size, padding="same", use_bias=False)
        self.mean = MaskedMean()

    def build(self, input_shape) -> None:
        self.conv.build((None, input_shape[-1], 1))

    def call(self, values, mask):
        pooled = self.mean(values, mask)[:, :, None]  # (B, D, 1): the channels are the convolution's steps
        return values * tf.sigmoid(self.conv(pooled))[:, None, :, 0]  # (B, 1, D): one weight per channel

    def get_config(self) -> dict:
        return {**super().get_config(), "kernel_size": self.kernel_size}


@keras.saving.register_keras_serializable(package="asl")
class MultiHeadSelfAttention(keras.layers.Layer):
    """The notebook's attention: no biases, queries, keys and values split per head from one projection, scores
    scaled by dim^-0.5 (the whole width, as the notebook does, not the head's), padded keys ignored."""

    def __init__(self, dim: int, num_heads: int, dropout: float, **kwargs) -> None:
        super().__init__(**kwargs)
        if dim % num_heads:
            raise AslError(f"models.Conv1DTransformer: dim ({dim}) must be a multiple of num_heads ({num_heads})")
        self.dim, self.num_heads, self.dropout_rate = dim, num_heads, dropout
        self.qkv = keras.layers.Dense(3 * dim, use_bias=False)
        self.dropout = ScheduledDropout(dropout)
        self.project = keras.layers.Dense(dim, use_bias=False)

    def build(self, input_shape) -> None:
        self.qkv.build(input_shape)
        self.project.build(input_shape)

    def call(self, x, mask, training=None):
        shape = tf.shape(x)
        batch, frames = shape[0], shape[1]
        qkv = tf.reshape(self.qkv(x), (batch, frames, self.num_heads, 3 * self.dim // self.num_heads))
        q, k, v = tf.split(tf.transpose(qkv, (0, 2, 1, 3)), 3, axis=-1)  # each (B, H, T, D/H)
        scores = tf.matmul(q, k, transpose_b=True) * self.dim ** -0.5  # (B, H, T, T)
        # padded keys get Keras's masked-softmax offset: an all-padding sequence attends uniformly, finitely
        scores += (1.0 - tf.cast(mask, scores.dtype))[:, None, None, :] * -1e9
        weights = self.dropout(tf.nn.softmax(scores, axis=-1), training=training)
        out = tf.transpose(tf.matmul(weights, v), (0, 2, 1, 3))  # (B, T, H, D/H)
        return self.project(tf.reshape(out, (batch, frames, self.dim)))

    def get_config(self) -> dict:
        return {**super().get_config(), "dim": self.dim, "num_heads": self.num_heads, "dropout": self.dropout_rate}


@keras.saving.register_keras_serializable(package="asl")
class LateDropout(keras.layers.Layer):
    """Dropout at `rate` from epoch `start_epoch` on, none before (told the epoch by `Conv1DTransformer
    .on_epoch_start`). Deliberately not a ScheduledDropout: the dynamic-dropout callback must not rescale it. Whether
    it is on is a variable, so a traced training step sees the change without being retraced."""

    def __init__(self, rate: float, start_epoch: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rate, self.start_epoch = rate, start_epoch
        self.seed_generator = keras.random.SeedGenerator()

    def build(self, input_shape) -> None:
        self.active = self.add_weight(shape=(), initializer="ones" if self.start_epoch <= 0 else "zeros",
                                      trainable=False, name="active")

    def call(self, x, training=None):
        if not training or self.rate == 0:
            return x
        return tf.where(self.active > 0, keras.random.dropout(x, self.rate, seed=self.seed_generator), x)

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "start_epoch": self.start_epoch}


def drop_path(rate: float) -> ScheduledDropout:
    """Stochastic depth: drops a block's whole residual branch per sequence (the notebook's Dropout with noise shape
    (None, 1, 1)). A ScheduledDropout, so `set_dropout` and the dynamic-dropout callback set its rate like any
    other."""
    return ScheduledDropout(rate, noise_shape=(None, 1, 1))


def conv1d_block(x, mask, config: Conv1DTransformerConfig):
    """Expansion with swish → causal depthwise convolution over time → BatchNorm → ECA → projection back →
    drop path, with a residual."""
    h = keras.layers.Dense(config.expand * config.dim, activation="swish")(x)
    h = ZeroPaddedFrames()(h, mask)  # masked frames are read as zeros by the convolution
    h = keras.layers.ZeroPadding1D((config.kernel_size - 1, 0))(h)  # causal: (B, K-1 + T, W)
    h = keras.layers.DepthwiseConv1D(config.kernel_size, use_bias=False)(h)  # (B, T, W)
    h = MaskedBatchNormalization()(h, mask=mask)
    h = EfficientChannelAttention()(h, mask)
    h = drop_path(config.drop_path)(keras.layers.Dense(config.dim)(h))
    return keras.layers.Add()([x, h])


def transformer_block(x, mask, config: Conv1DTransformerConfig):
    """BatchNorm → self-attention → drop path, residual; BatchNorm → Dense(expand * dim, swish) → Dense(dim) → drop
    path, residual (no biases, as in the notebook)."""
    h = MaskedBatchNormalization()(x, mask=mask)
    h = MultiHeadSelfAttention(config.dim, config.num_heads, config.attention_dropout)(h, mask)
    x = keras.layers.Add()([x, drop_path(config.drop_path)(h)])
    h = MaskedBatchNormalization()(x, mask=mask)
    h = keras.layers.Dense(config.expand * config.dim, use_bias=False, activation="swish")(h)
    h = keras.layers.Dense(config.dim, use_bias=False)(h)
    return keras.layers.Add()([x, drop_path(config.drop_path)(h)])


@register(Conv1DTransformerConfig)
class Conv1DTransformer(TFModel):
    """Motion features → Dense + BatchNorm → `blocks` × [`conv_per_block` Conv1DBlocks, one TransformerBlock] →
    Dense(2 * dim) → masked mean → late dropout → logits. `expand` widens both the Conv1DBlocks and the
    transformers' feed-forward networks (2 in the notebook for both)."""

    input_transform = "variable_frames"

    @staticmethod
    def network(values, mask, config: Conv1DTransformerConfig, input_shape: InputShape, num_classes: int):
        features = MotionFeatures(centre_position(config.landmarks))(values, mask)  # (B, T, 6L)
        h = keras.layers.Dense(config.dim, use_bias=False)(features)
        h = MaskedBatchNormalization()(h, mask=mask)  # (B, T, dim)
        for _ in range(config.blocks):
            for _ in range(config.conv_per_block):
                h = conv1d_block(h, mask, config)
            h = transformer_block(h, mask, config)
        pooled = MaskedMean()(keras.layers.Dense(2 * config.dim)(h), mask)  # (B, 2 * dim)
        pooled = LateDropout(config.late_dropout, config.late_dropout_start)(pooled)
        return keras.layers.Dense(num_classes)(pooled)

    def on_epoch_start(self, epoch: int) -> None:
        for layer in self._flatten_layers(include_self=False, recursive=True):
            if isinstance(layer, LateDropout):
                layer.active.assign(float(epoch >= layer.start_epoch))
