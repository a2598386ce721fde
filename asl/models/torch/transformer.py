"""Transformer encoder over frames (the seed's TransformerSequenceClassifier / TransformerPredictor).

Fixed from the seed: frames get a learned positional embedding (the seed had none, so frame order was
invisible), padded frames are masked out of attention and pooling, and there is no causal mask.
"""

from __future__ import annotations

import torch
from torch import nn

from asl.models.config import InputShape, TransformerConfig, TransformerEncoderConfig
from asl.models.registry import register_model
from asl.models.torch.base import BaseModel, flatten_frames, key_padding, masked_mean


@register_model("pytorch", TransformerConfig)
class TransformerSequenceClassifier(BaseModel):
    """Frames → linear embedding + positions → transformer encoder → masked mean pooling → logits.

    Trainable on its own (`models.TransformerSequenceClassifier`) and the member of the ensembles and hybrids,
    which pass a TransformerEncoderConfig (the same layers without an optimizer).
    """

    def __init__(self, config: TransformerConfig | TransformerEncoderConfig, input_shape: InputShape,
                 num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.embedding = nn.Linear(input_shape.features, config.d_model)
        self.positions = nn.Parameter(torch.zeros(1, input_shape.frames, config.d_model))
        nn.init.normal_(self.positions, std=0.02)
        layer = nn.TransformerEncoderLayer(
            config.d_model, config.num_heads, config.dim_feedforward, config.dropout,
            layer_norm_eps=config.layer_norm_eps, norm_first=config.norm_first, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, config.num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(config.d_model, eps=config.layer_norm_eps)
        self.head = nn.Linear(config.d_model, num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        frames = flatten_frames(x)  # (B, T, L*C)
        hidden = self.embedding(frames) + self.positions[:, : frames.shape[1]]  # (B, T, D)
        hidden = self.encoder(hidden, src_key_padding_mask=key_padding(mask))  # (B, T, D)
        return self.head(masked_mean(self.norm(hidden), mask))  # (B, classes)


@register_model("pytorch", TransformerConfig)
class TransformerPredictor(BaseModel):
    """Trainable wrapper of TransformerSequenceClassifier."""

    def __init__(self, config: TransformerConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.classifier = TransformerSequenceClassifier(config, input_shape, num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.classifier(x, mask)
