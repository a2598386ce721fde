"""The seed's PyTorch Lightning models (src/models/pytorch/lightning_models.py), trained by the Lightning engine.

Selecting one of these names trains through PyTorch Lightning (asl/training/lightning_trainer.py) whatever
`train.engine` says; any other model goes through Lightning with `train.engine: lightning`. They are ordinary
models of the zoo otherwise, so evaluation, checkpoints and inference treat them like the rest. The seed's
LightningBaseModel was an abstract training base; here the training lives in the engine, and LightningBaseModel is
the smallest model that runs it: a per-frame MLP over frames with their position, masked mean pooling and a linear
head (the position lets the pooled features tell the order of movements apart).
Lightning itself is imported only by the engine, so listing the models never pays for it.
"""

from __future__ import annotations

import torch
from torch import nn

from asl.models.config import InputShape, PooledFramesConfig, TransformerConfig
from asl.models.registry import register_model
from asl.models.torch.base import BaseModel, flatten_frames, masked_mean
from asl.models.torch.transformer import TransformerPredictor, TransformerSequenceClassifier


@register_model("pytorch", PooledFramesConfig)
class LightningBaseModel(BaseModel):
    """Frames → linear embedding + positions → MLP → masked mean over frames → logits; trained through Lightning."""

    engine = "lightning"

    def __init__(self, config: PooledFramesConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.embedding = nn.Linear(input_shape.features, config.hidden_dim)
        self.positions = nn.Parameter(torch.zeros(1, input_shape.frames, config.hidden_dim))
        nn.init.normal_(self.positions, std=0.02)
        self.frame_mlp = nn.Sequential(
            nn.GELU(), nn.Dropout(config.dropout), nn.Linear(config.hidden_dim, config.hidden_dim), nn.GELU())
        self.head = nn.Linear(config.hidden_dim, num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        frames = flatten_frames(x)  # (B, T, L*C)
        hidden = self.frame_mlp(self.embedding(frames) + self.positions[:, : frames.shape[1]])  # (B, T, H)
        return self.head(masked_mean(hidden, mask))  # (B, classes)


@register_model("pytorch", TransformerConfig)
class LightningTransformerSequenceClassifier(TransformerSequenceClassifier):
    """TransformerSequenceClassifier trained through PyTorch Lightning."""

    engine = "lightning"


@register_model("pytorch", TransformerConfig)
class LightningTransformerPredictor(TransformerPredictor):
    """TransformerPredictor trained through PyTorch Lightning."""

    engine = "lightning"
