"""Conv1DTransformer: the GISLR 1st-place model (Hoyeol Sohn, `ISLR_1st_place_Hoyeol_Sohn.ipynb` in
hoyso48/Google---Isolated-Sign-Language-Recognition-1st-place-solution), ported from Keras.

Every padded frame is kept out of what real frames see: its features are zero, BatchNorm statistics, ECA and pooling
are masked, attention ignores it as a key, and the depthwise convolutions are causal (padding only follows a
sequence) and read zeros where a frame is masked. Layers are initialised as Keras does (Glorot uniform, zero
biases; BatchNorm momentum 0.95 in Keras terms, epsilon 1e-3).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from asl.errors import AslError
from asl.landmarks import LIP_POINTS, group_positions
from asl.models.config import Conv1DTransformerConfig, InputShape
from asl.models.registry import register_model
from asl.models.torch.base import BaseModel, key_padding, masked_mean

#: The face-mesh point whose mean position centres each sequence (the notebook's landmark 17, on the lower lip).
CENTRE_POINT = 17
#: Features per point and kept coordinate: position, first and second difference.
FEATURE_KINDS = 3
#: Coordinates kept after normalising (x, y; z only contributes to the centre and scale).
KEPT_COORDINATES = 2


def nan_mean(values: torch.Tensor, observed: torch.Tensor, dims: tuple[int, ...]) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean over `dims` of (B, T, L, C) where `observed` (B, T, L) holds, and the count of observed points (keepdim);
    the notebook's tf_nan_mean (NaN where nothing is observed)."""
    weights = observed.unsqueeze(-1).to(values.dtype)
    count = weights.sum(dim=dims, keepdim=True)
    return (values * weights).sum(dim=dims, keepdim=True) / count, count


def motion_features(x: torch.Tensor, mask: torch.Tensor, centre_position: int) -> torch.Tensor:
    """The notebook's Preprocess on (B, T, L, C) with frame mask (B, T) → (B, T, 3 * L * 2): positions normalised by
    the sequence's centre and scale, their first and second differences over time; 0 where a point is missing (all
    its coordinates 0 or its frame masked) or a difference reaches past it.

    Centre: the mean of landmark 17 over the sequence (0.5 where never seen); scale: the root mean square distance
    from that centre of every observed point, per coordinate (the notebook's tf_nan_std over frames and points; the
    issue's table says one scale over all coordinates, the notebook computes one per coordinate)."""
    observed = (x != 0).any(dim=-1) & mask.unsqueeze(-1)  # (B, T, L)
    centre, seen = nan_mean(x[:, :, centre_position:centre_position + 1], observed[:, :, centre_position:
                                                                                     centre_position + 1], (1, 2))
    centre = torch.where(seen > 0, centre, torch.full_like(centre, 0.5))  # (B, 1, 1, C)
    variance, _ = nan_mean((x - centre) ** 2, observed, (1, 2))
    position = (x - centre) / variance.sqrt()  # (B, T, L, C)
    position = torch.where(observed.unsqueeze(-1), position, torch.full_like(position, float("nan")))
    position = position[..., :KEPT_COORDINATES]
    padding = torch.full_like(position[:, :1], float("nan")).expand(-1, 2, -1, -1)  # beyond the sequence: 0 there
    ahead = torch.cat([position, padding], dim=1)  # (B, T + 2, L, 2)
    first, second = ahead[:, 1:-1] - position, ahead[:, 2:] - position
    features = torch.cat([part.flatten(start_dim=2) for part in (position, first, second)], dim=-1)  # (B, T, 6L)
    return torch.nan_to_num(features, nan=0.0, posinf=0.0, neginf=0.0)


class MaskedBatchNorm(nn.BatchNorm1d):
    """BatchNorm over (B, T, D) whose batch statistics count real frames only (the author: "very crucial"), with
    Keras's moving averages (momentum 0.95 = PyTorch's 0.05, biased variance) and epsilon. A batch without a real
    frame leaves the moving averages as they were."""

    def __init__(self, dim: int) -> None:
        super().__init__(dim, eps=1e-3, momentum=0.05)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        if not self.training:
            mean, variance = self.running_mean, self.running_var
        else:
            weights = mask.unsqueeze(-1).float()  # (B, T, 1)
            count = weights.sum()
            values = x.float()
            mean = (values * weights).sum(dim=(0, 1)) / count.clamp(min=1.0)
            variance = (((values - mean) ** 2) * weights).sum(dim=(0, 1)) / count.clamp(min=1.0)
            with torch.no_grad():
                seen = count > 0
                self.running_mean.copy_(torch.where(seen, torch.lerp(self.running_mean, mean, self.momentum),
                                                    self.running_mean))
                self.running_var.copy_(torch.where(seen, torch.lerp(self.running_var, variance, self.momentum),
                                                   self.running_var))
        scale = self.weight * torch.rsqrt(variance + self.eps)
        return (x.float() * scale + (self.bias - mean * scale)).to(x.dtype)


class DropPath(nn.Dropout):
    """Stochastic depth: drops a block's whole residual branch per sequence (the notebook's Dropout with noise shape
    (None, 1, 1)). An nn.Dropout, so `set_dropout` and the dynamic-dropout callback set its rate like any other."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        keep = torch.empty(x.shape[0], *([1] * (x.dim() - 1)), device=x.device, dtype=x.dtype).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


class LateDropout(nn.Module):
    """Dropout at `rate` from epoch `start_epoch` on, none before (told the epoch by `Conv1DTransformer
    .on_epoch_start`). Deliberately not an nn.Dropout: the dynamic-dropout callback must not rescale it."""

    def __init__(self, rate: float, start_epoch: int) -> None:
        super().__init__()
        self.rate, self.start_epoch = rate, start_epoch
        self.active = start_epoch <= 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.dropout(x, self.rate, training=self.training and self.active)


class EfficientChannelAttention(nn.Module):
    """ECA: channels reweighted by a sigmoid of a 1-D convolution across the channels of their masked time mean."""

    def __init__(self, kernel_size: int = 5) -> None:
        super().__init__()
        self.conv = nn.Conv1d(1, 1, kernel_size, padding=kernel_size // 2, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pooled = masked_mean(x, mask).unsqueeze(1)  # (B, 1, D)
        return x * torch.sigmoid(self.conv(pooled)).to(x.dtype)  # (B, 1, D): one weight per channel


class Conv1DBlock(nn.Module):
    """Expansion with swish → causal depthwise convolution over time → BatchNorm → ECA → projection back →
    drop path, with a residual."""

    def __init__(self, dim: int, kernel_size: int, expand: int, drop_path: float) -> None:
        super().__init__()
        width = dim * expand
        self.expand = nn.Linear(dim, width)
        self.depthwise = nn.Conv1d(width, width, kernel_size, groups=width, bias=False)
        self.norm = MaskedBatchNorm(width)
        self.attention = EfficientChannelAttention()
        self.project = nn.Linear(width, dim)
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.expand(x))
        h = h * mask.unsqueeze(-1).to(h.dtype)  # masked frames are read as zeros by the convolution
        h = self.causal_convolution(h)
        h = self.attention(self.norm(h, mask), mask)
        return x + self.drop_path(self.project(h))

    def causal_convolution(self, h: torch.Tensor) -> torch.Tensor:
        """The depthwise convolution over time of (B, T, W), each frame reading itself and the K-1 before it
        (eager under `Conv1DTransformer.compile`)."""
        h = F.pad(h.transpose(1, 2), (self.depthwise.kernel_size[0] - 1, 0))  # (B, W, K-1 + T): causal
        return self.depthwise(h).transpose(1, 2)  # (B, T, W)


class MultiHeadSelfAttention(nn.Module):
    """The notebook's attention: no biases, queries, keys and values split per head from one projection, scores
    scaled by dim^-0.5 (the whole width, as the notebook does, not the head's), padded keys ignored."""

    def __init__(self, dim: int, num_heads: int, dropout: float) -> None:
        super().__init__()
        if dim % num_heads:
            raise AslError(f"models.Conv1DTransformer: dim ({dim}) must be a multiple of num_heads ({num_heads})")
        self.num_heads, self.scale = num_heads, dim ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.dropout = nn.Dropout(dropout)  # applied by the attention kernel; here so the dropout callbacks see it
        self.project = nn.Linear(dim, dim, bias=False)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        batch, frames, dim = x.shape
        qkv = self.qkv(x).view(batch, frames, self.num_heads, -1).transpose(1, 2)  # (B, H, T, 3 * D/H)
        q, k, v = qkv.chunk(3, dim=-1)
        attend = ~key_padding(mask)[:, None, None, :]  # (B, 1, 1, T): True where a key takes part
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=attend, scale=self.scale,
                                             dropout_p=self.dropout.p if self.training else 0.0)
        return self.project(out.transpose(1, 2).reshape(batch, frames, dim))


class TransformerBlock(nn.Module):
    """BatchNorm → self-attention → drop path, residual; BatchNorm → Linear(expand * dim, swish) → Linear(dim) →
    drop path, residual (no biases, as in the notebook)."""

    def __init__(self, dim: int, num_heads: int, expand: int, attention_dropout: float, drop_path: float) -> None:
        super().__init__()
        self.norm1 = MaskedBatchNorm(dim)
        self.attention = MultiHeadSelfAttention(dim, num_heads, attention_dropout)
        self.norm2 = MaskedBatchNorm(dim)
        self.feed_forward = nn.Sequential(nn.Linear(dim, expand * dim, bias=False), nn.SiLU(),
                                          nn.Linear(expand * dim, dim, bias=False))
        self.drop_path = DropPath(drop_path)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attention(self.norm1(x, mask), mask))
        return x + self.drop_path(self.feed_forward(self.norm2(x, mask)))


def centre_position(landmarks: list[str]) -> int:
    """Position of face-mesh point 17 among the points of the `landmarks` groups (it is a lip point)."""
    if "lips" not in landmarks:
        raise AslError(f"models.Conv1DTransformer.landmarks must include lips: its point {CENTRE_POINT} centres "
                       f"every sequence (got {', '.join(landmarks)})")
    return int(group_positions(landmarks, "lips")[list(LIP_POINTS).index(CENTRE_POINT)])


@register_model("pytorch", Conv1DTransformerConfig)
class Conv1DTransformer(BaseModel):
    """Motion features → Linear + BatchNorm → `blocks` × [`conv_per_block` Conv1DBlocks, one TransformerBlock] →
    Linear(2 * dim) → masked mean → late dropout → logits. `expand` widens both the Conv1DBlocks and the
    transformers' feed-forward networks (2 in the notebook for both)."""

    input_transform = "variable_frames"

    def __init__(self, config: Conv1DTransformerConfig, input_shape: InputShape, num_classes: int) -> None:
        super().__init__(config, input_shape, num_classes)
        self.centre_position = centre_position(config.landmarks)
        dim = config.dim
        self.stem = nn.Linear(FEATURE_KINDS * KEPT_COORDINATES * input_shape.landmarks, dim, bias=False)
        self.stem_norm = MaskedBatchNorm(dim)
        layers: list[nn.Module] = []
        for _ in range(config.blocks):
            layers += [Conv1DBlock(dim, config.kernel_size, config.expand, config.drop_path)
                       for _ in range(config.conv_per_block)]
            layers.append(TransformerBlock(dim, config.num_heads, config.expand, config.attention_dropout,
                                           config.drop_path))
        self.body = nn.ModuleList(layers)
        self.top = nn.Linear(dim, 2 * dim)
        self.late_dropout = LateDropout(config.late_dropout, config.late_dropout_start)
        self.classifier = nn.Linear(2 * dim, num_classes)
        self.apply(keras_initialisation)

    def on_epoch_start(self, epoch: int) -> None:
        self.late_dropout.active = epoch >= self.late_dropout.start_epoch

    def compile(self, *args, **kwargs) -> None:
        """nn.Module.compile, with each depthwise convolution left eager, outside the graphs: compiled, its backward
        fixes a graph to one number of frames, so batches of each other length would compile again. (Wrapped here,
        not where it is defined, so that importing the model does not import torch.compile's machinery: seconds.)"""
        for block in self.body:
            if isinstance(block, Conv1DBlock):
                block.causal_convolution = torch.compiler.disable(Conv1DBlock.causal_convolution.__get__(block))
        super().compile(*args, **kwargs)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """(B, T, L, C) with missing points as 0 and frame mask (B, T) → logits (B, classes)."""
        h = self.stem_norm(self.stem(motion_features(x, mask, self.centre_position)), mask)  # (B, T, dim)
        for layer in self.body:
            h = layer(h, mask)
        pooled = masked_mean(self.top(h), mask)  # (B, 2 * dim)
        return self.classifier(self.late_dropout(pooled))


def keras_initialisation(module: nn.Module) -> None:
    """Keras's defaults, which the recipe was tuned with: Glorot-uniform weights and zero biases."""
    if isinstance(module, (nn.Linear, nn.Conv1d)):
        nn.init.xavier_uniform_(module.weight)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
