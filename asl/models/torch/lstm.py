"""Stacked LSTM over frames (the seed's LSTMClassifier / LSTMPredictor).

The seed read the output at the last time step even when it was padding; here the output at each sequence's
last observed frame is used.
"""

from __future__ import annotations

import torch
from torch import nn

from asl.models.config import InputShape, LSTMConfig, LSTMEncoderConfig
from asl.models.registry import register_model
from asl.models.torch.base import BaseModel, flatten_frames


@register_model("pytorch", LSTMConfig)
class LSTMClassifier(BaseModel):
    """Frames → stacked LSTM → hidden state at the last observed frame → logits.

    Trainable on its own (`models.LSTMClassifier`) and the member of the hybrids, which pass an
    LSTMEncoderConfig (the same layers without an optimizer).
    """

    def __init__(self, config: LSTMConfig | LSTMEncoderConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.lstm = nn.LSTM(input_shape.features, config.hidden_dim, config.num_layers, batch_first=True,
                            dropout=config.dropout if config.num_layers > 1 else 0.0)
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden_dim, num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        outputs, _ = self.lstm(flatten_frames(x))  # (B, T, H)
        frame = torch.arange(mask.shape[1], device=mask.device).expand_as(mask)  # (B, T)
        last = torch.where(mask, frame, torch.zeros_like(frame)).amax(dim=1)  # (B,)
        rows = torch.arange(outputs.shape[0], device=outputs.device)  # not len(): keeps the ONNX export's batch free
        final = outputs[rows, last]  # (B, H)
        return self.head(self.dropout(final))


@register_model("pytorch", LSTMConfig)
class LSTMPredictor(BaseModel):
    """Trainable wrapper of LSTMClassifier."""

    def __init__(self, config: LSTMConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.classifier = LSTMClassifier(config, input_shape, num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.classifier(x, mask)
