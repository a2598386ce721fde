"""An image network on the landmark sequence laid out as a pseudo-image (the seed's CVTransferLearningModel).

Source: the seed project's CVTransferLearningModel (src/models/pytorch/models.py), which padded the coordinates
and reshaped the whole sequence into a 64 × 48 × 3 image. Here the image keeps the data's own axes: height =
frames, width = landmarks, channels = coordinates plus the frame mask, mapped to the 3 channels a torchvision ResNet
expects by a learned 1 × 1 convolution. Padded frames are zeroed so their values cannot matter. With `weights`
the backbone is frozen (kept in eval mode, so its batch-norm statistics stay those of the weights) and only the
adapter and the head are trained. Nothing is downloaded: weights come from the local torch hub cache or a file.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from asl.errors import AslError
from asl.models.config import CVTransferLearningConfig, InputShape
from asl.models.registry import register_model
from asl.models.torch.base import BaseModel

BACKBONES = ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152")


def weights_file(backbone: str, weights: str) -> Path:
    """The local file of a torchvision weights name (e.g. IMAGENET1K_V1, DEFAULT), or `weights` as a file path."""
    import torchvision

    if Path(weights).suffix in (".pth", ".pt"):
        return Path(weights)
    choices = torchvision.models.get_model_weights(backbone)
    try:
        entry = choices[weights.split(".")[-1]]  # accepts ResNet18_Weights.IMAGENET1K_V1 and IMAGENET1K_V1
    except KeyError:
        raise AslError(f"models.CVTransferLearningModel.weights: {weights!r} is not a weights name of {backbone}; "
                       f"choose from {', '.join(choices.__members__)} or null") from None
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(entry.url).name


def load_pretrained(backbone: str, weights: str) -> dict[str, torch.Tensor]:
    """The pretrained state dict, from local disk only; a missing file says where to put it."""
    path = weights_file(backbone, weights)
    if not path.is_file():
        raise AslError(f"{path}: pretrained weights {weights!r} for {backbone} not found, and nothing is downloaded "
                       f"here; copy the torchvision weights file to this path (or point TORCH_HOME at a folder "
                       f"whose hub/checkpoints holds it), or set models.CVTransferLearningModel.weights: null to "
                       f"train from scratch")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # torch raises many types for a file that is not a state dict
        raise AslError(f"{path}: not a readable PyTorch weights file ({error})") from None


def build_backbone(config: CVTransferLearningConfig, num_classes: int, pretrained: bool) -> nn.Module:
    """A torchvision ResNet, optionally with its pretrained weights, its last layer replaced for `num_classes`."""
    import torchvision

    if config.backbone not in BACKBONES:
        raise AslError(f"models.CVTransferLearningModel.backbone must be one of {', '.join(BACKBONES)}, "
                       f"got {config.backbone!r}")
    backbone = torchvision.models.get_model(config.backbone, weights=None)
    if pretrained and config.weights is not None:
        backbone.load_state_dict(load_pretrained(config.backbone, config.weights))
    if config.weights is not None:
        backbone.requires_grad_(False)
    backbone.fc = nn.Sequential(nn.Dropout(config.dropout), nn.Linear(backbone.fc.in_features, num_classes))
    return backbone


@register_model("pytorch", CVTransferLearningConfig)
class CVTransferLearningModel(BaseModel):
    """(frames × landmarks) pseudo-image with coordinates and mask as channels → 1 × 1 conv → ResNet → logits."""

    def __init__(self, config: CVTransferLearningConfig, input_shape: InputShape, num_classes: int,
                 pretrained: bool = True) -> None:
        super().__init__(config, input_shape, num_classes)
        self.frozen = config.weights is not None
        self.adapter = nn.Conv2d(input_shape.coordinates + 1, 3, kernel_size=1)
        self.backbone = build_backbone(config, num_classes, pretrained)

    @classmethod
    def restore(cls, config: CVTransferLearningConfig, input_shape: InputShape,
                num_classes: int) -> "CVTransferLearningModel":
        """Rebuilt from a checkpoint alone: the checkpoint holds the weights, the pretrained file is not needed."""
        return cls(config, input_shape, num_classes, pretrained=False)

    def train(self, mode: bool = True) -> "CVTransferLearningModel":
        """A frozen backbone stays in eval mode; its new head follows `mode`."""
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
            self.backbone.fc.train(mode)
        return self

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        observed = mask[:, :, None, None].to(x.dtype)  # (B, T, 1, 1)
        image = torch.cat([x * observed, observed.expand(-1, -1, x.shape[2], 1)], dim=-1)  # (B, T, L, C+1)
        image = image.permute(0, 3, 1, 2)  # (B, C+1, T, L): channels first
        return self.backbone(self.adapter(image))  # (B, classes)
