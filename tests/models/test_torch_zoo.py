"""The zoo's building blocks and model-specific behaviour: attention masks, expansion factor, trained ensemble heads,
growing depth, the ResNet's local weights, and which engine trains the Lightning models."""

import dataclasses
from pathlib import Path

import pytest
import torch

from asl.errors import AslError
from asl.models.registry import get_model_entry
from asl.models.torch.base import load_model_from_checkpoint
from asl.models.torch.yet_another_transformer import MultiHeadSelfAttention, TransformerBlock
from asl.params import load_params
from asl.training.run import uses_lightning
from tests.models.test_torch_models import SHAPE, batch, build, shrink

REPO = Path(__file__).resolve().parents[2]


def frames(size=3, length=6, dim=16):
    x = torch.randn(size, length, dim, generator=torch.Generator().manual_seed(2))
    mask = torch.ones(size, length, dtype=torch.bool)
    mask[0, 4:] = False
    return x, mask


@pytest.mark.parametrize("layer_norm", [True, False])
def test_self_attention_ignores_padded_frames_and_is_not_causal(layer_norm):
    attention = MultiHeadSelfAttention(16, num_heads=4, dropout=0.0, layer_norm=layer_norm).eval()
    assert (attention.layer_norm is not None) == layer_norm
    x, mask = frames()
    output = attention(x, mask)
    assert output.shape == x.shape
    padded = x.clone()
    padded[0, 4:] = 50.0
    torch.testing.assert_close(attention(padded, mask)[0, :4], output[0, :4])
    later = x.clone()
    later[1, 5] += 1.0  # a change in the last frame reaches the first: no causal mask
    assert not torch.allclose(attention(later, mask)[1, 0], output[1, 0])


def test_transformer_block_honours_expansion_factor_and_padding():
    block = TransformerBlock(16, num_heads=4, expansion_factor=3, attention_dropout=0.0, dropout=0.0).eval()
    assert block.feed_forward[0].out_features == 48 and block.feed_forward[2].in_features == 48
    x, mask = frames()
    output = block(x, mask)
    assert output.shape == x.shape and torch.isfinite(output).all()
    padded = x.clone()
    padded[0, 4:] = -50.0
    torch.testing.assert_close(block(padded, mask)[0, :4], output[0, :4])


@pytest.mark.parametrize("name", ["HybridModel", "HybridEnsembleModel", "TransformerEnsemble", "YetAnotherEnsemble"])
def test_ensemble_head_is_trained(name):
    model = build(name)
    head = model.ensemble.head.weight.detach().clone()
    optimizer, _ = model.configure_optimizers()
    x, mask, labels = batch()
    model.training_step(x, mask, labels, optimizer)
    assert not torch.equal(model.ensemble.head.weight, head)


def test_ensemble_members_grow_in_depth():
    model = build("TransformerEnsemble")
    depths = [len(member.encoder.layers) for member in model.ensemble.members]
    assert depths == [1, 2]
    model = build("YetAnotherEnsemble")
    assert [len(member.blocks) for member in model.ensemble.members] == [1, 2]
    model = build("HybridEnsembleModel")
    assert [type(m).__name__ for m in model.ensemble.members] == ["LSTMClassifier"] * 2 + [
        "TransformerSequenceClassifier"] * 2


def cv_model(weights, pretrained=True):
    entry = get_model_entry("pytorch", "CVTransferLearningModel")
    settings = dict(shrink(load_params(REPO / "params.yaml").models["CVTransferLearningModel"]), weights=weights)
    return entry.model_class(entry.build_config(settings), SHAPE, 5, pretrained=pretrained)


def test_resnet_weights_absent_names_the_file_to_provide(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    expected = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    with pytest.raises(AslError, match=rf"{expected}: pretrained weights 'IMAGENET1K_V1' for resnet18 not found"):
        cv_model("IMAGENET1K_V1")
    with pytest.raises(AslError, match=r"'IMAGENET9' is not a weights name of resnet18; choose from IMAGENET1K_V1"):
        cv_model("IMAGENET9")


def test_resnet_with_local_weights_freezes_the_backbone_and_restores_without_them(tmp_path, monkeypatch):
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = torchvision.models.resnet18()
    weights = tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    weights.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), weights)
    model = cv_model("ResNet18_Weights.IMAGENET1K_V1")
    torch.testing.assert_close(model.backbone.conv1.weight, reference.conv1.weight)
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"adapter.weight", "adapter.bias", "backbone.fc.1.weight", "backbone.fc.1.bias"}
    model.train()
    assert not model.backbone.training and model.backbone.fc.training  # frozen batch-norm statistics
    model.eval()
    x, mask, _ = batch()
    model.save_checkpoint(tmp_path / "model.pt", {"signs": list("abcde")})
    weights.unlink()
    restored, _ = load_model_from_checkpoint(tmp_path / "model.pt")
    torch.testing.assert_close(restored(x, mask), model(x, mask), rtol=0, atol=0)


def test_unknown_backbone_is_reported():
    entry = get_model_entry("pytorch", "CVTransferLearningModel")
    settings = dict(load_params(REPO / "params.yaml").models["CVTransferLearningModel"], backbone="vgg16")
    with pytest.raises(AslError, match=r"backbone must be one of resnet18, resnet34, resnet50, resnet101, resnet152"):
        entry.model_class(entry.build_config(settings), SHAPE, 5)


def test_lightning_models_and_the_engine_setting_choose_lightning():
    params = load_params(REPO / "params.yaml")
    assert params.train.engine == "native"
    for name, expected in [("TransformerPredictor", False), ("LightningTransformerPredictor", True),
                           ("LightningBaseModel", True), ("LightningTransformerSequenceClassifier", True)]:
        assert uses_lightning(dataclasses.replace(params, model=name)) is expected
    lightning = dataclasses.replace(params, train=dataclasses.replace(params.train, engine="lightning"))
    assert uses_lightning(lightning)
