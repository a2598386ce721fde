"""Ensembles and hybrids: several classifiers over the same frames, their logits concatenated into a linear head.

Source: the seed project's HybridModel, TransformerEnsemble, HybridEnsembleModel (src/models/pytorch/models.py) and
YetAnotherEnsemble. Fixed from the seed: the head is trained with everything else (the seed's ensembles gave only
the members to their optimizer, so the head stayed at its random init), members get padding masks and positions
(see their modules), and the configured optimizer, weight decay and gamma are honoured (the seed hard-coded some).
Members of the ensembles grow in depth: member i has `num_layers + i` layers, as in the seed.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from asl.models.config import (HybridConfig, HybridEnsembleConfig, InputShape, TransformerEnsembleConfig,
                               YetAnotherEnsembleConfig)
from asl.models.registry import register_model
from asl.models.torch.base import BaseModel
from asl.models.torch.lstm import LSTMClassifier
from asl.models.torch.transformer import TransformerSequenceClassifier
from asl.models.torch.yet_another_transformer import YetAnotherTransformerClassifier


class ConcatenatedHead(nn.Module):
    """Runs every member on the same input and maps their concatenated logits to the classes."""

    def __init__(self, members: list[nn.Module], num_classes: int) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)
        self.head = nn.Linear(num_classes * len(members), num_classes)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        logits = torch.cat([member(x, mask) for member in self.members], dim=1)  # (B, members*classes)
        return self.head(logits)


class EnsembleModel(BaseModel):
    """A model whose network is one `ConcatenatedHead` in `self.ensemble` (set by the subclass)."""

    ensemble: ConcatenatedHead

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.ensemble(x, mask)


def growing(config, n_models: int) -> list:
    """`n_models` copies of a layers config, member i with `num_layers + i` layers."""
    return [dataclasses.replace(config, num_layers=config.num_layers + i) for i in range(n_models)]


@register_model("pytorch", HybridConfig)
class HybridModel(EnsembleModel):
    """An LSTMClassifier and a TransformerSequenceClassifier side by side, combined by a trained linear head."""

    def __init__(self, config: HybridConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.ensemble = ConcatenatedHead([
            LSTMClassifier(config.lstm, input_shape, num_classes),
            TransformerSequenceClassifier(config.transformer, input_shape, num_classes)], num_classes)


@register_model("pytorch", HybridEnsembleConfig)
class HybridEnsembleModel(EnsembleModel):
    """`n_models` LSTMClassifiers and `n_models` TransformerSequenceClassifiers of growing depth, one trained head."""

    def __init__(self, config: HybridEnsembleConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        lstms = [LSTMClassifier(config.lstm, input_shape, num_classes) for _ in range(config.n_models)]
        transformers = [TransformerSequenceClassifier(member, input_shape, num_classes)
                        for member in growing(config.transformer, config.n_models)]
        self.ensemble = ConcatenatedHead(lstms + transformers, num_classes)


@register_model("pytorch", TransformerEnsembleConfig)
class TransformerEnsemble(EnsembleModel):
    """`n_models` TransformerSequenceClassifiers of growing depth, combined by a trained linear head."""

    def __init__(self, config: TransformerEnsembleConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.ensemble = ConcatenatedHead([TransformerSequenceClassifier(member, input_shape, num_classes)
                                          for member in growing(config.transformer, config.n_models)], num_classes)


@register_model("pytorch", YetAnotherEnsembleConfig)
class YetAnotherEnsemble(EnsembleModel):
    """`n_models` YetAnotherTransformerClassifiers of growing depth, combined by a trained linear head."""

    def __init__(self, config: YetAnotherEnsembleConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.ensemble = ConcatenatedHead([YetAnotherTransformerClassifier(member, input_shape, num_classes)
                                          for member in growing(config.transformer, config.n_models)], num_classes)
