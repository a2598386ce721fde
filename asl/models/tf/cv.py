"""CVTransferLearningModel (the seed's tensorflow CVTransferLearningModel): a keras.applications ResNet reads
the sequence as an image.

The seed reshaped (32, 96, 2) into an arbitrary (64, 48, 2) grid; here the image keeps its meaning: rows are
frames, columns are landmarks, channels are the coordinates (padded with zeros to 3). `weights` is null (random
initialisation) or a local weights file for the backbone without its top; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import keras
import tensorflow as tf

from asl.errors import AslError
from asl.models.config import CVTransferLearningConfig, InputShape
from asl.models.tf.base import ScheduledDropout, TFModel, register

BACKBONES = {"resnet50": keras.applications.ResNet50, "resnet101": keras.applications.ResNet101,
             "resnet152": keras.applications.ResNet152}


@keras.saving.register_keras_serializable(package="asl")
class PseudoImage(keras.layers.Layer):
    """(B, T, L, C) → (B, T, L, 3): coordinates as colour channels, zero-padded or cut to three."""

    def call(self, values):
        channels = values.shape[-1]
        if channels >= 3:
            return values[..., :3]
        return tf.concat([values] + [tf.zeros_like(values[..., :1])] * (3 - channels), axis=-1)  # (B, T, L, 3)


def backbone(config: CVTransferLearningConfig, input_shape: InputShape) -> keras.Model:
    """The ResNet without its top, pooled to one feature vector per image."""
    if config.backbone not in BACKBONES:
        raise AslError(f"models.CVTransferLearningModel.backbone {config.backbone!r} is not one of "
                       f"{', '.join(BACKBONES)}")
    if config.weights is not None and not Path(config.weights).is_file():
        raise AslError(f"models.CVTransferLearningModel.weights {config.weights}: file not found "
                       "(give a local weights file or null; nothing is downloaded)")
    resnet = BACKBONES[config.backbone](include_top=False, weights=config.weights, pooling="avg",
                                        input_shape=(input_shape.frames, input_shape.landmarks, 3))
    for layer in resnet.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            # PyTorch's default (momentum 0.1 there). With Keras's 0.99 the moving statistics are still near their
            # initial values after the few hundred steps of a run on the sample, so evaluation stays at chance.
            layer.momentum = 0.9
    return resnet


@register(CVTransferLearningConfig)
class CVTransferLearningModel(TFModel):
    """Pseudo-image (frames × landmarks × 3) → ResNet (global average pooling) → dropout → logits."""

    @staticmethod
    def network(values, mask, config: CVTransferLearningConfig, input_shape: InputShape, num_classes: int):
        features = backbone(config, input_shape)(PseudoImage()(values))  # (B, 2048)
        return keras.layers.Dense(num_classes)(ScheduledDropout(config.dropout)(features))
