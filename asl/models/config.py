"""Configuration pieces shared by every model's params.yaml entry, in both frameworks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class OptimizerConfig:
    name: Literal["Adam", "AdamW", "SGD"]
    learning_rate: float
    weight_decay: float


@dataclass(frozen=True)
class SchedulerConfig:
    """The learning-rate schedule: `exponential` (multiplied by gamma after every epoch) or `cosine` (a linear
    warmup over `warmup_epochs`, then a cosine decay to `min_learning_rate` at the last of train.epochs)."""

    gamma: float = 1.0
    name: Literal["exponential", "cosine"] = "exponential"
    warmup_epochs: int = 0
    min_learning_rate: float = 0.0


@dataclass(frozen=True)
class InputShape:
    """What one model input looks like: (frames, landmarks, coordinates)."""

    frames: int
    landmarks: int
    coordinates: int

    @property
    def features(self) -> int:
        """Values per frame once landmarks and coordinates are flattened."""
        return self.landmarks * self.coordinates


@dataclass(frozen=True)
class LSTMEncoderConfig:
    """An LSTM's layers: the LSTM part of the hybrids (`lstm:`)."""

    hidden_dim: int
    num_layers: int
    dropout: float


@dataclass(frozen=True)
class TransformerEncoderConfig:
    """A transformer encoder's layers: the transformer part of the hybrids and ensembles (`transformer:`)."""

    d_model: int
    num_heads: int
    dim_feedforward: int
    dropout: float
    layer_norm_eps: float
    norm_first: bool
    num_layers: int


@dataclass(frozen=True)
class YetAnotherTransformerBlocksConfig:
    """The seed's YetAnotherTransformerClassifier's blocks: the members of YetAnotherEnsemble (`transformer:`); the
    seed's unused `embed_dim` is gone."""

    d_model: int
    num_heads: int
    expansion_factor: int  # feed-forward width = expansion_factor * d_model
    dropout: float
    attention_dropout: float
    num_layers: int


@dataclass(frozen=True)
class LSTMConfig(LSTMEncoderConfig):
    """`models.LSTMPredictor`: the LSTM's layers and its own optimizer (the same entry serves both frameworks)."""

    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class TransformerConfig(TransformerEncoderConfig):
    """`models.TransformerPredictor`: the encoder's layers and its own optimizer (the same entry serves both
    frameworks)."""

    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class YetAnotherTransformerConfig(YetAnotherTransformerBlocksConfig):
    """`models.YetAnotherTransformer` and `models.YetAnotherTransformerClassifier`: the blocks and their own
    optimizer."""

    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class TransformerLayerConfig:
    """`models.TransformerEncoderLayer`: the seed's encoder layer, trained alone as a one-layer classifier."""

    d_model: int
    num_heads: int
    dim_feedforward: int
    dropout: float
    layer_norm_eps: float
    norm_first: bool
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class HybridConfig:
    """`models.HybridModel`: an LSTM and a transformer classifier over the same frames, their logits joined by one
    trained head (the same architecture in both frameworks)."""

    transformer: TransformerEncoderConfig
    lstm: LSTMEncoderConfig
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class CVTransferLearningConfig:
    """`models.CVTransferLearningModel`: an image ResNet on the sequence seen as a (frames × landmarks) image."""

    backbone: str  # resnet50, resnet101 or resnet152 (keras.applications)
    weights: str | None  # null: random init; or a local weights file (no download)
    dropout: float
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class TransformerEnsembleConfig:
    """`models.TransformerEnsemble`: `n_models` transformers of growing depth (num_layers, num_layers + 1, ...)."""

    transformer: TransformerEncoderConfig  # num_layers: depth of the first member
    n_models: int
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class HybridEnsembleConfig:
    """`models.HybridEnsembleModel`: `n_models` LSTMs and `n_models` transformers of growing depth, one head."""

    transformer: TransformerEncoderConfig  # num_layers: depth of the first transformer
    lstm: LSTMEncoderConfig
    n_models: int
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class YetAnotherEnsembleConfig:
    """`models.YetAnotherEnsemble`: `n_models` YetAnotherTransformerClassifiers of growing depth, one head."""

    transformer: YetAnotherTransformerBlocksConfig  # num_layers: depth of the first member
    n_models: int
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class PooledFramesConfig:
    """`models.LightningBaseModel`: frames → MLP → masked mean → head, trained through PyTorch Lightning."""

    hidden_dim: int
    dropout: float
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig


@dataclass(frozen=True)
class Conv1DTransformerConfig:
    """`models.Conv1DTransformer`: the GISLR 1st-place model (hoyso48): `blocks` × [`conv_per_block` Conv1DBlocks
    (expansion `expand`, causal depthwise kernel `kernel_size`, ECA) and one TransformerBlock (`num_heads`)] of
    width `dim`, masked pooling, late dropout, over up to `max_frames` frames of the `landmarks` groups."""

    max_frames: int
    landmarks: list[str]
    dim: int
    blocks: int
    conv_per_block: int
    kernel_size: int
    expand: int
    num_heads: int
    attention_dropout: float
    drop_path: float
    late_dropout: float
    late_dropout_start: int  # epoch from which late dropout is on (0 before)
    optimizer: OptimizerConfig
    scheduler: SchedulerConfig
