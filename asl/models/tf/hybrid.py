"""HybridModel (the seed's tensorflow HybridModel): an LSTM and a transformer read the same frames; their pooled
features are joined and one trained head maps them to logits.

Fixed from the seed: the head reads features, not the two sub-models' class logits, and the transformer part has
positions and a padding mask (see asl.models.tf.transformer).
"""

from __future__ import annotations

import keras

from asl.models.config import HybridConfig, InputShape
from asl.models.tf.base import TFModel, register
from asl.models.tf.lstm import lstm_features
from asl.models.tf.transformer import encoder_features


@register(HybridConfig)
class HybridModel(TFModel):
    """[LSTM features (B, H) ; transformer features (B, D)] → dropout → logits."""

    @staticmethod
    def network(values, mask, config: HybridConfig, input_shape: InputShape, num_classes: int):
        lstm = lstm_features(values, mask, config.lstm, input_shape)
        transformer = encoder_features(values, mask, config.transformer, input_shape, config.transformer.num_layers)
        joined = keras.layers.Concatenate()([lstm, transformer])  # (B, H + D)
        return keras.layers.Dense(num_classes)(keras.layers.Dropout(config.transformer.dropout)(joined))
