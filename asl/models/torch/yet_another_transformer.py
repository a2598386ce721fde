"""The seed's hand-built transformer: MultiHeadSelfAttention, TransformerBlock, YetAnotherTransformerClassifier.

Source: the seed project's src/models/pytorch/models.py. Fixed from the seed: no causal mask (a classifier sees
the whole sign), padded frames are masked out of attention and pooling, frames are embedded to `d_model` with a
learned positional embedding (the seed fed raw coordinates with no position), the feed-forward width honours
`expansion_factor` (the seed read a key `expand` that the config never set), and the unused `embed_dim` is gone.
"""

from __future__ import annotations

import torch
from torch import nn

from asl.models.config import InputShape, YetAnotherTransformerBlocksConfig, YetAnotherTransformerConfig
from asl.models.registry import register_model
from asl.models.torch.base import BaseModel, flatten_frames, key_padding, masked_mean


class MultiHeadSelfAttention(nn.Module):
    """Multi-head self-attention over frames with a padding mask, optionally layer-normalised after."""

    def __init__(self, dim: int, num_heads: int = 8, dropout: float = 0.1, layer_norm: bool = True) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(dim, num_heads, dropout=dropout, batch_first=True)
        self.layer_norm = nn.LayerNorm(dim) if layer_norm else None

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, D) and frame mask (B, T) → (B, T, D)."""
        output, _ = self.attention(x, x, x, key_padding_mask=key_padding(mask), need_weights=False)
        return self.layer_norm(output) if self.layer_norm is not None else output


class TransformerBlock(nn.Module):
    """Pre-norm attention and a feed-forward network of width `expansion_factor * dim`, each with a residual."""

    def __init__(self, dim: int = 192, num_heads: int = 4, expansion_factor: int = 4,
                 attention_dropout: float = 0.2, dropout: float = 0.2) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attention = MultiHeadSelfAttention(dim, num_heads, dropout=attention_dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.feed_forward = nn.Sequential(
            nn.Linear(dim, expansion_factor * dim), nn.GELU(), nn.Linear(expansion_factor * dim, dim))
        self.dropout = nn.Dropout(dropout)
        self.norm3 = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, D) and frame mask (B, T) → (B, T, D)."""
        x = x + self.dropout(self.attention(self.norm1(x), mask))
        x = x + self.dropout(self.feed_forward(self.norm2(x)))
        return self.norm3(x)


@register_model("pytorch", YetAnotherTransformerConfig)
class YetAnotherTransformerClassifier(BaseModel):
    """Frames → linear embedding + positions → `num_layers` TransformerBlocks → masked mean → logits.

    Trainable on its own and the member of YetAnotherEnsemble (which passes a YetAnotherTransformerBlocksConfig).
    """

    def __init__(self, config: YetAnotherTransformerConfig | YetAnotherTransformerBlocksConfig,
                 input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.embedding = nn.Linear(input_shape.features, config.d_model)
        self.positions = nn.Parameter(torch.zeros(1, input_shape.frames, config.d_model))
        nn.init.normal_(self.positions, std=0.02)
        self.blocks = nn.ModuleList([
            TransformerBlock(config.d_model, config.num_heads, config.expansion_factor,
                             config.attention_dropout, config.dropout)
            for _ in range(config.num_layers)])
        self.head = nn.Linear(config.d_model, num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        frames = flatten_frames(x)  # (B, T, L*C)
        hidden = self.embedding(frames) + self.positions[:, : frames.shape[1]]  # (B, T, D)
        for block in self.blocks:
            hidden = block(hidden, mask)
        return self.head(masked_mean(hidden, mask))  # (B, classes)


@register_model("pytorch", YetAnotherTransformerConfig)
class YetAnotherTransformer(BaseModel):
    """Trainable wrapper of YetAnotherTransformerClassifier (the seed trained it with AdamW)."""

    def __init__(self, config: YetAnotherTransformerConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.classifier = YetAnotherTransformerClassifier(config, input_shape, num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.classifier(x, mask)
