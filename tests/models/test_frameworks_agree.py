"""A model registered in both frameworks is one architecture: its params.yaml entry gives the same parameters in
PyTorch and in Keras (HybridModel joined features in Keras and logits in PyTorch before they were made one)."""

import re
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tensorflow")

from asl.models.config import InputShape  # noqa: E402
from asl.models.registry import get_model_entry, model_names  # noqa: E402
from asl.params import load_params  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHAPE = InputShape(frames=32, landmarks=96, coordinates=2)
CLASSES = 10
#: keras.applications' ResNets and torchvision's are the same backbone name, not the same layers (Keras' convolutions
#: have biases), so only the models of asl's own layers are compared.
OWN_BACKBONES = {"CVTransferLearningModel"}
BOTH = sorted(set(model_names("pytorch")) & set(model_names("tensorflow")) - OWN_BACKBONES)


def torch_parameters(model) -> int:
    """Trainable values, less each LSTM layer's second bias (b_hh: PyTorch adds b_ih + b_hh at every step, Keras keeps
    the sum as one bias)."""
    return sum(p.numel() for name, p in model.named_parameters()
               if p.requires_grad and not re.search(r"\.bias_hh_l\d+$", name))


def keras_parameters(model) -> int:
    """Trainable values (BatchNorm's moving statistics are state, as PyTorch's buffers are)."""
    return sum(int(np.prod(weight.shape)) for weight in model.trainable_weights)


def build(framework: str, name: str):
    entry = get_model_entry(framework, name)
    return entry.model_class(entry.build_config(load_params(REPO / "params.yaml").models[name]), SHAPE, CLASSES)


def test_hybrid_model_is_compared():
    assert "HybridModel" in BOTH


@pytest.mark.parametrize("name", BOTH)
def test_a_model_has_the_same_parameters_in_both_frameworks(name):
    assert torch_parameters(build("pytorch", name)) == keras_parameters(build("tensorflow", name))
