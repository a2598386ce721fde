"""Every registered PyTorch model gets the same tests (timm's tests/test_models.py): a new model cannot skip them."""

from pathlib import Path

import numpy as np
import pytest
import torch

from asl.errors import AslError
from asl.models.config import InputShape
from asl.models.registry import get_model_entry, model_names
from asl.models.torch.base import BaseModel, freeze_for_inference, load_model_from_checkpoint
from asl.params import load_params

REPO = Path(__file__).resolve().parents[2]

SHAPE = InputShape(frames=8, landmarks=96, coordinates=2)
CLASSES = 5


#: Smaller sizes for the tests (the params.yaml defaults are CPU-trainable but slow for 40 steps of every model).
SMALL = {"d_model": 32, "num_heads": 4, "dim_feedforward": 64, "num_layers": 1, "hidden_dim": 32,
         "expansion_factor": 2, "n_models": 2, "backbone": "resnet18"}

STEPS = {"CVTransferLearningModel": 5}  # a ResNet step is slow on a CPU; its loss falls within two steps


def shrink(settings: dict) -> dict:
    """A params.yaml model entry with the sizes of SMALL, at any depth of nesting."""
    return {key: shrink(value) if isinstance(value, dict) else SMALL.get(key, value)
            for key, value in settings.items()}


def build(name: str):
    torch.manual_seed(0)
    entry = get_model_entry("pytorch", name)
    settings = shrink(load_params(REPO / "params.yaml").models[name])
    return entry.model_class(entry.build_config(settings), SHAPE, CLASSES)


def batch(size: int = 6):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(size, SHAPE.frames, SHAPE.landmarks, SHAPE.coordinates, generator=generator)
    mask = torch.ones(size, SHAPE.frames, dtype=torch.bool)
    mask[0, 5:] = False  # a padded sequence
    return x, mask, torch.arange(size) % CLASSES


@pytest.mark.parametrize("name", model_names("pytorch"))
def test_forward_shape_and_padding_is_ignored(name):
    model = build(name).eval()
    x, mask, _ = batch()
    logits = model(x, mask)
    assert logits.shape == (6, CLASSES) and torch.isfinite(logits).all()
    changed = x.clone()
    changed[0, 5:] = 100.0  # values in padded frames must not matter
    torch.testing.assert_close(model(changed, mask)[0], logits[0])


@pytest.mark.parametrize("name", model_names("pytorch"))
def test_an_all_padding_sequence_gives_finite_logits_in_eval_and_train_mode(name):
    model = build(name)
    x, mask, labels = batch()
    x[1], mask[1] = 0.0, False  # a recording with no observed frame: all padding
    assert torch.isfinite(model.predict_logits(x, mask)).all()  # eval mode, no autograd: torch's fast paths
    logits = model.train()(x, mask)
    assert torch.isfinite(logits).all()
    torch.nn.functional.cross_entropy(logits, labels).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


@pytest.mark.parametrize("name", model_names("pytorch"))
def test_training_steps_lower_the_loss(name):
    model = build(name)
    model.set_dropout(0.0)
    optimizer, _ = model.configure_optimizers()
    x, mask, labels = batch()
    losses = [model.training_step(x, mask, labels, optimizer)[0] for _ in range(STEPS.get(name, 40))]
    assert losses[-1] < losses[0] * 0.7, losses


@pytest.mark.parametrize("name", model_names("pytorch"))
def test_checkpoint_round_trip_gives_identical_outputs(name, tmp_path):
    model = build(name).eval()
    x, mask, _ = batch()
    model.save_checkpoint(tmp_path / "model.pt", {"signs": list("abcde")})
    restored, extras = load_model_from_checkpoint(tmp_path / "model.pt")
    assert type(restored) is type(model) and extras["signs"] == list("abcde")
    torch.testing.assert_close(restored(x, mask), model(x, mask), rtol=0, atol=0)


@pytest.mark.parametrize("name", model_names("pytorch"))
def test_optimizer_trains_every_parameter_heads_included(name):
    model = build(name)
    optimizer, _ = model.configure_optimizers()
    optimized = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert optimized == {id(p) for p in model.parameters() if p.requires_grad}


@pytest.mark.parametrize("name", model_names("pytorch"))
def test_a_frozen_copy_predicts_as_the_model_does_or_is_not_made(name):
    model = build(name).eval()
    frozen = freeze_for_inference(model)
    if name in ("TransformerPredictor", "TransformerSequenceClassifier", "YetAnotherTransformer"):
        assert frozen is not None  # the live loop's speed rests on the transformers freezing
    if frozen is not None:
        x, mask, _ = batch()
        torch.testing.assert_close(frozen.predict_logits(x, mask), model.predict_logits(x, mask),
                                   rtol=1e-3, atol=1e-4)
        assert (frozen.input_shape, frozen.num_classes) == (model.input_shape, model.num_classes)


class BranchesOnItsInput(BaseModel):
    """A forward that a trace cannot hold: which branch runs depends on the mask."""

    def __init__(self) -> None:
        super().__init__(None, SHAPE, CLASSES)
        self.head = torch.nn.Linear(SHAPE.features, CLASSES)

    def forward(self, x, mask):
        frames = x.flatten(start_dim=2)
        if mask.all():
            return self.head(frames.mean(dim=1))
        return self.head(frames[:, :1].mean(dim=1))


def test_a_model_that_branches_on_its_input_stays_eager():
    assert freeze_for_inference(BranchesOnItsInput()) is None


def test_optimizer_and_weight_decay_come_from_params():
    model = build("TransformerPredictor")
    optimizer, scheduler = model.configure_optimizers()
    settings = model.config.optimizer
    assert type(optimizer).__name__ == settings.name
    assert optimizer.param_groups[0]["weight_decay"] == settings.weight_decay
    assert scheduler.gamma == model.config.scheduler.gamma


def test_unknown_model_lists_valid_names():
    with pytest.raises(AslError, match=r"'Foo' does not exist for PyTorch; PyTorch models are: .*TransformerPredictor"):
        get_model_entry("pytorch", "Foo")


def test_misspelt_hyperparameter_is_named():
    entry = get_model_entry("pytorch", "LSTMPredictor")
    settings = dict(load_params(REPO / "params.yaml").models["LSTMPredictor"], hiden_dim=3)
    with pytest.raises(AslError, match=r"models\.LSTMPredictor\.hiden_dim"):
        entry.build_config(settings)


def test_corrupt_checkpoint_is_reported(tmp_path):
    path = tmp_path / "model.pt"
    path.write_bytes(np.arange(10).tobytes())
    with pytest.raises(AslError, match="not a readable PyTorch checkpoint"):
        load_model_from_checkpoint(path)
    with pytest.raises(AslError, match="checkpoint not found"):
        load_model_from_checkpoint(tmp_path / "absent.pt")
