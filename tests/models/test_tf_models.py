"""Every registered TensorFlow model gets the same tests as the PyTorch ones: a new model cannot skip them."""

import functools
from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from asl.errors import AslError  # noqa: E402
from asl.models import registry  # noqa: E402
from asl.models.config import InputShape  # noqa: E402
from asl.models.registry import get_model_entry, model_names  # noqa: E402
from asl.models.tf.base import CompiledModel, load_model_from_checkpoint  # noqa: E402
from asl.params import load_params  # noqa: E402
from asl.training.tf_trainer import make_train_step  # noqa: E402

REPO = Path(__file__).resolve().parents[2]

SHAPE = InputShape(frames=32, landmarks=96, coordinates=2)  # 32 frames: the ResNet's smallest image side
CLASSES = 5
TINY = {"d_model": 16, "num_heads": 2, "dim_feedforward": 32, "num_layers": 1, "hidden_dim": 16}


def tiny(settings: dict) -> dict:
    """A model's params.yaml entry with its sizes shrunk, so every model trains in a second."""
    return {key: tiny(value) if isinstance(value, dict) else TINY.get(key, value) for key, value in settings.items()}


@functools.lru_cache(maxsize=None)
def built(name: str):
    """One model per name for the tests that do not train it (building a ResNet takes seconds)."""
    return build(name)


def build(name: str):
    tf.keras.utils.set_random_seed(0)
    entry = get_model_entry("tensorflow", name)
    settings = tiny(load_params(REPO / "params.yaml").models[name])
    return entry.model_class(entry.build_config(settings), SHAPE, CLASSES)


def batch(size: int = 6):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(size, SHAPE.frames, SHAPE.landmarks, SHAPE.coordinates)).astype(np.float32)
    mask = np.ones((size, SHAPE.frames), dtype=bool)
    mask[0, 20:] = False  # a padded sequence
    return x, mask, np.arange(size) % CLASSES


@pytest.mark.parametrize("name", model_names("tensorflow"))
def test_the_compiled_model_predicts_as_the_model_does_for_any_batch_size(name):
    model = built(name)
    compiled = CompiledModel(model)
    x, mask, _ = batch()
    for rows in (slice(0, 1), slice(0, 6)):
        np.testing.assert_allclose(compiled.predict_logits(x[rows], mask[rows]).numpy(),
                                   model.predict_logits(x[rows], mask[rows]).numpy(), rtol=1e-4, atol=1e-5)
    assert (compiled.input_shape, compiled.num_classes) == (model.input_shape, model.num_classes)


@pytest.mark.parametrize("name", model_names("tensorflow"))
def test_forward_shape_and_padding_is_ignored(name):
    model = built(name)
    x, mask, _ = batch()
    logits = model([x, mask], training=False).numpy()
    assert logits.shape == (6, CLASSES) and np.isfinite(logits).all()
    changed = x.copy()
    changed[0, 20:] = 100.0  # values in padded frames must not matter
    np.testing.assert_allclose(model([changed, mask], training=False).numpy()[0], logits[0], atol=1e-5)


@pytest.mark.parametrize("name", model_names("tensorflow"))
def test_an_all_padding_sequence_gives_finite_logits_in_eval_and_train_mode(name):
    model = built(name)
    x, mask, labels = batch()
    x[1], mask[1] = 0.0, False  # a recording with no observed frame: all padding
    assert np.isfinite(model.predict_logits(tf.constant(x), tf.constant(mask)).numpy()).all()
    with tf.GradientTape() as tape:
        logits = model([x, mask], training=True)
        loss = tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    assert np.isfinite(logits.numpy()).all()
    assert all(np.isfinite(g.numpy()).all() for g in tape.gradient(loss, model.trainable_variables) if g is not None)


@pytest.mark.parametrize("name", model_names("tensorflow"))
def test_training_steps_lower_the_loss(name):
    model = build(name)
    model.set_dropout(0.0)
    step = make_train_step(model, model.configure_optimizers(steps_per_epoch=100))
    x, mask, labels = batch()
    steps = 8 if name == "CVTransferLearningModel" else 25  # a ResNet-50 step takes seconds on a CPU
    losses = [float(step(x, mask, labels)[0]) for _ in range(steps)]
    assert losses[-1] < losses[0] * 0.7, losses


@pytest.mark.parametrize("name", model_names("tensorflow"))
def test_a_dropout_rate_set_after_tracing_reaches_every_dropout_of_the_traced_step(name):
    """The dynamic-dropout callback changes the rates between epochs: a traced training step must drop at the new
    rates, keras MultiHeadAttention's dropout of attention weights included, without being traced again."""
    model = build(name)
    forward = tf.function(lambda values, mask: model([values, mask], training=True))
    x, mask, _ = batch()
    model.set_dropout(0.5)
    assert not np.allclose(forward(x, mask).numpy(), forward(x, mask).numpy())
    model.set_dropout(0.0)
    np.testing.assert_array_equal(forward(x, mask).numpy(), forward(x, mask).numpy())  # nothing random is left
    assert forward.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("name", model_names("tensorflow"))
def test_checkpoint_round_trip_gives_identical_outputs(name, tmp_path):
    model = built(name)
    x, mask, _ = batch()
    model.save_checkpoint(tmp_path / "model.keras", {"signs": list("abcde")})
    restored, extras = load_model_from_checkpoint(tmp_path / "model.keras")
    assert type(restored) is type(model) and extras["signs"] == list("abcde") and extras["name"] == name
    np.testing.assert_array_equal(restored([x, mask], training=False).numpy(), model([x, mask], training=False).numpy())
    assert sorted(path.name for path in tmp_path.iterdir()) == ["extras.json", "model.keras"]  # no temporary left


def test_optimizer_weight_decay_and_decay_per_epoch_come_from_params():
    model = built("TransformerPredictor")
    optimizer = model.configure_optimizers(steps_per_epoch=4)
    settings, gamma = model.model_config.optimizer, model.model_config.scheduler.gamma
    assert type(optimizer).__name__ == settings.name
    optimizer.iterations.assign(3)
    assert float(optimizer.learning_rate) == pytest.approx(settings.learning_rate)  # constant within an epoch
    optimizer.iterations.assign(4)
    assert float(optimizer.learning_rate) == pytest.approx(settings.learning_rate * gamma)  # × gamma per epoch


def test_a_pytorch_only_model_names_the_tensorflow_models(monkeypatch):
    monkeypatch.setitem(registry._REGISTRY["pytorch"], "TorchOnlyNet",
                        registry.ModelEntry("TorchOnlyNet", "pytorch", object, dict))
    monkeypatch.setattr(registry, "model_names", lambda framework: sorted(registry._REGISTRY[framework]))
    with pytest.raises(AslError) as error:
        get_model_entry("tensorflow", "TorchOnlyNet")
    message = str(error.value)
    assert "'TorchOnlyNet' does not exist for TensorFlow (TorchOnlyNet exists for PyTorch)" in message
    assert message.endswith("TensorFlow models are: " + ", ".join(sorted(registry._REGISTRY["tensorflow"])))
    assert "HybridModel" in message and "CVTransferLearningModel" in message


def test_cv_model_refuses_a_missing_weights_file():
    entry = get_model_entry("tensorflow", "CVTransferLearningModel")
    settings = dict(load_params(REPO / "params.yaml").models["CVTransferLearningModel"], weights="absent.h5")
    with pytest.raises(AslError, match="weights absent.h5: file not found"):
        entry.model_class(entry.build_config(settings), SHAPE, CLASSES)


def test_unreadable_checkpoint_is_reported(tmp_path):
    path = tmp_path / "model.keras"
    path.write_bytes(b"not a zip")
    with pytest.raises(AslError, match="not a readable Keras model"):
        load_model_from_checkpoint(path)
