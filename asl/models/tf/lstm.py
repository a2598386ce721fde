"""Stacked LSTM over frames (the seed's tensorflow LSTMClassifier / LSTMPredictor), as asl.models.torch.lstm.

The seed read the output at the last time step even when it was padding; here the frame mask is passed to the
LSTM, so its final state is the one at the sequence's last observed frame.
"""

from __future__ import annotations

import keras

from asl.models.config import InputShape, LSTMConfig
from asl.models.tf.base import FlattenFrames, ScheduledDropout, TFModel, register


def lstm_features(values, mask, config, input_shape: InputShape):
    """Frames → `num_layers` LSTM layers (dropout between them, as torch) → state at the last observed frame."""
    hidden = FlattenFrames()(values)  # (B, T, L*C)
    for layer in range(config.num_layers):
        last = layer == config.num_layers - 1
        hidden = keras.layers.LSTM(config.hidden_dim, return_sequences=not last)(hidden, mask=mask)
        if not last:
            hidden = ScheduledDropout(config.dropout)(hidden)  # (B, T, H)
    return hidden  # (B, H)


@register(LSTMConfig)
class LSTMClassifier(TFModel):
    """Frames → stacked LSTM → state at the last observed frame → dropout → logits."""

    @staticmethod
    def network(values, mask, config: LSTMConfig, input_shape: InputShape, num_classes: int):
        features = lstm_features(values, mask, config, input_shape)
        return keras.layers.Dense(num_classes)(ScheduledDropout(config.dropout)(features))


@register(LSTMConfig)
class LSTMPredictor(LSTMClassifier):
    """The trainable predictor of the seed: the LSTM classifier with its optimizer and schedule."""
