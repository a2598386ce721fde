"""Transformer encoder over frames (the seed's tensorflow TransformerEncoderLayer, TransformerSequenceClassifier
and TransformerPredictor), the same architecture as asl.models.torch.transformer.

Fixed from the seed: frames get a learned positional embedding (the seed had none), padded frames are masked out
of attention (Keras `attention_mask` from the frame mask) and of pooling, there is no causal mask, and the
logits are not passed through a softmax before a `from_logits=False` loss.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from asl.models.config import InputShape, TransformerConfig, TransformerLayerConfig
from asl.models.tf.base import FlattenFrames, MaskedMean, ScheduledDropout, TFModel, register


@keras.saving.register_keras_serializable(package="asl")
class FrameEmbedding(keras.layers.Layer):
    """Linear embedding of each frame plus a learned embedding of its position."""

    def __init__(self, frames: int, d_model: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames, self.d_model = frames, d_model
        self.dense = keras.layers.Dense(d_model)

    def build(self, input_shape) -> None:
        self.dense.build(input_shape)
        self.positions = self.add_weight(shape=(self.frames, self.d_model), name="positions",
                                         initializer=keras.initializers.TruncatedNormal(stddev=0.02))

    def call(self, frames):
        length = tf.shape(frames)[1]
        return self.dense(frames) + self.positions[None, :length]  # (B, T, D)

    def get_config(self) -> dict:
        return {**super().get_config(), "frames": self.frames, "d_model": self.d_model}


class ScheduledAttention(keras.layers.MultiHeadAttention):
    """Keras MultiHeadAttention whose dropout of attention weights is a ScheduledDropout (Keras builds a Dropout
    of fixed rate with the attention), so the dynamic-dropout callback reaches it inside a traced step. Keras
    applies it only where the configured `dropout` is above 0."""

    def _build_attention(self, rank: int) -> None:
        super()._build_attention(rank)
        self._dropout_layer = ScheduledDropout(self._dropout, dtype=self.dtype_policy)


@keras.saving.register_keras_serializable(package="asl")
class EncoderBlock(keras.layers.Layer):
    """One encoder layer as torch.nn.TransformerEncoderLayer: self-attention and a ReLU feed-forward, each with
    dropout and a residual, layer norm before (norm_first) or after each."""

    def __init__(self, d_model: int, num_heads: int, dim_feedforward: int, dropout: float, layer_norm_eps: float,
                 norm_first: bool, **kwargs) -> None:
        super().__init__(**kwargs)
        self.settings = dict(d_model=d_model, num_heads=num_heads, dim_feedforward=dim_feedforward, dropout=dropout,
                             layer_norm_eps=layer_norm_eps, norm_first=norm_first)
        self.attention = ScheduledAttention(num_heads, d_model // num_heads, dropout=dropout)
        self.feed_forward = [keras.layers.Dense(dim_feedforward, activation="relu"), ScheduledDropout(dropout),
                             keras.layers.Dense(d_model)]
        self.norm1 = keras.layers.LayerNormalization(epsilon=layer_norm_eps)
        self.norm2 = keras.layers.LayerNormalization(epsilon=layer_norm_eps)
        self.dropout1, self.dropout2 = ScheduledDropout(dropout), ScheduledDropout(dropout)

    def _attend(self, x, attention_mask, training):
        return self.dropout1(self.attention(x, x, attention_mask=attention_mask, training=training),
                             training=training)

    def _feed_forward(self, x, training):
        for layer in self.feed_forward:
            x = layer(x, training=training)
        return self.dropout2(x, training=training)

    def call(self, x, mask, training=None):
        attention_mask = tf.logical_and(mask[:, None, :], tf.ones_like(mask)[:, :, None])  # (B, T, T): keys
        if self.settings["norm_first"]:
            x = x + self._attend(self.norm1(x), attention_mask, training)
            return x + self._feed_forward(self.norm2(x), training)
        x = self.norm1(x + self._attend(x, attention_mask, training))
        return self.norm2(x + self._feed_forward(x, training))

    def get_config(self) -> dict:
        return {**super().get_config(), **self.settings}


def encoder_features(values, mask, config, input_shape: InputShape, num_layers: int):
    """Frames → embedding + positions → `num_layers` encoder blocks → final norm → masked mean (B, d_model)."""
    hidden = FrameEmbedding(input_shape.frames, config.d_model)(FlattenFrames()(values))  # (B, T, D)
    for _ in range(num_layers):
        hidden = EncoderBlock(config.d_model, config.num_heads, config.dim_feedforward, config.dropout,
                              config.layer_norm_eps, config.norm_first)(hidden, mask)
    hidden = keras.layers.LayerNormalization(epsilon=config.layer_norm_eps)(hidden)
    return MaskedMean()(hidden, mask)  # (B, D)


@register(TransformerConfig)
class TransformerSequenceClassifier(TFModel):
    """Frames → embedding + positions → transformer encoder → masked mean pooling → logits."""

    @staticmethod
    def network(values, mask, config: TransformerConfig, input_shape: InputShape, num_classes: int):
        return keras.layers.Dense(num_classes)(encoder_features(values, mask, config, input_shape,
                                                                config.num_layers))


@register(TransformerConfig)
class TransformerPredictor(TransformerSequenceClassifier):
    """The trainable predictor of the seed: the sequence classifier with its optimizer and schedule."""


@register(TransformerLayerConfig)
class TransformerEncoderLayer(TFModel):
    """The seed's encoder layer trained alone: embedding + positions → one encoder layer → pooling → logits."""

    @staticmethod
    def network(values, mask, config: TransformerLayerConfig, input_shape: InputShape, num_classes: int):
        return keras.layers.Dense(num_classes)(encoder_features(values, mask, config, input_shape, 1))
