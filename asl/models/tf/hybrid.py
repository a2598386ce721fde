"""HybridModel (the seed's HybridModel): an LSTMClassifier and a TransformerSequenceClassifier read the same frames;
their logits are joined and one trained linear head maps them to the classes, as asl.models.torch.ensembles'
HybridModel: one architecture, with the same parameters, in both frameworks.

Fixed from the seed: the head is trained with the members, and the transformer member has positions and a padding
mask (see asl.models.tf.transformer).
"""

from __future__ import annotations

import keras

from asl.models.config import HybridConfig, InputShape
from asl.models.tf.base import TFModel, register
from asl.models.tf.lstm import LSTMClassifier
from asl.models.tf.transformer import TransformerSequenceClassifier


@register(HybridConfig)
class HybridModel(TFModel):
    """[LSTMClassifier logits ; TransformerSequenceClassifier logits] (B, 2 * classes) → linear head → logits."""

    @staticmethod
    def network(values, mask, config: HybridConfig, input_shape: InputShape, num_classes: int):
        members = [LSTMClassifier.network(values, mask, config.lstm, input_shape, num_classes),
                   TransformerSequenceClassifier.network(values, mask, config.transformer, input_shape, num_classes)]
        return keras.layers.Dense(num_classes)(keras.layers.Concatenate()(members))  # (B, classes)
