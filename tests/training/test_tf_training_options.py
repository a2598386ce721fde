"""The generic TensorFlow training options: cosine schedule with warmup, label smoothing, AWP."""

from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")

from asl.models.config import InputShape, SchedulerConfig  # noqa: E402
from asl.models.registry import get_model_entry  # noqa: E402
from asl.models.tf.base import learning_rate_schedule  # noqa: E402
from asl.params import load_params  # noqa: E402
from asl.training.tf_trainer import make_train_step  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CLASSES = 4


def tiny_model():
    tf.keras.utils.set_random_seed(0)
    entry = get_model_entry("tensorflow", "TransformerPredictor")
    settings = {**load_params(REPO / "params.yaml").models["TransformerPredictor"], "d_model": 8, "num_heads": 2,
                "dim_feedforward": 16, "num_layers": 1}
    model = entry.model_class(entry.build_config(settings), InputShape(6, 4, 2), CLASSES)
    model.set_dropout(0.0)  # deterministic steps
    return model


def batch():
    rng = np.random.default_rng(0)
    return (tf.constant(rng.normal(size=(5, 6, 4, 2)).astype(np.float32)), tf.ones((5, 6), tf.bool),
            tf.constant(np.arange(5) % CLASSES))


def test_cosine_schedule_warms_up_linearly_then_decays_to_the_minimum_at_the_last_epoch():
    settings = SchedulerConfig(name="cosine", warmup_epochs=2, min_learning_rate=1e-5)
    schedule = learning_rate_schedule(1e-3, settings, steps_per_epoch=10, epochs=6)
    rates = np.array([float(schedule(step)) for step in range(70)])
    np.testing.assert_allclose(rates[:21], 1e-3 * (1 + np.arange(21) / 10) / 3, rtol=1e-5)  # linear to the peak
    assert (np.diff(rates[20:50]) < 0).all()
    # at each epoch's start, the PyTorch trainers' per-epoch values: (e + 1) / 3 during warmup, then the cosine
    torch_values = [1e-3 / 3, 2e-3 / 3] + [1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + np.cos(np.pi * k / 3)) for k in range(4)]
    np.testing.assert_allclose(rates[::10][:6], torch_values, rtol=1e-5)
    np.testing.assert_allclose(rates[50:], 1e-5, rtol=1e-5)  # the last epoch at the minimum


def test_label_smoothing_is_in_the_steps_loss():
    model = tiny_model()
    x, mask, labels = batch()
    step = make_train_step(model, keras.optimizers.SGD(0.0), label_smoothing=0.2)
    loss, logits = step(x, mask, labels)
    targets = np.full((5, CLASSES), 0.2 / CLASSES) + 0.8 * np.eye(CLASSES)[labels.numpy()]
    expected = -(targets * tf.nn.log_softmax(logits).numpy()).sum(axis=1).mean()
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    plain, _ = make_train_step(model, keras.optimizers.SGD(0.0))(x, mask, labels)
    assert float(plain) == pytest.approx(float(tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
        labels, logits, from_logits=True))), rel=1e-5)


def gradients(model, x, mask, labels):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(
            labels, model([x, mask], training=True), from_logits=True))
    return tape.gradient(loss, model.trainable_variables)


def test_awp_steps_with_the_gradient_at_the_perturbed_weights_from_the_weights_as_they_were():
    model = tiny_model()
    x, mask, labels = batch()
    weights = [v.numpy() for v in model.trainable_variables]
    plain = gradients(model, x, mask, labels)
    for variable, gradient in zip(model.trainable_variables, plain):
        variable.assign_add(0.5 * gradient / tf.norm(gradient))
    adversarial = gradients(model, x, mask, labels)
    for variable, value in zip(model.trainable_variables, weights):
        variable.assign(value)
    _, logits = make_train_step(model, keras.optimizers.SGD(0.1), awp_strength=0.5)(x, mask, labels)
    for variable, value, gradient in zip(model.trainable_variables, weights, adversarial):
        np.testing.assert_allclose(variable.numpy(), value - 0.1 * gradient.numpy(), rtol=1e-4, atol=1e-6)
    for variable, value in zip(model.trainable_variables, weights):
        variable.assign(value)
    np.testing.assert_allclose(logits.numpy(), model([x, mask], training=True).numpy(), atol=1e-6)  # unperturbed


@pytest.mark.parametrize("name, settings, landmarks, lengths", [
    ("TransformerPredictor", {"d_model": 8, "num_heads": 2, "dim_feedforward": 16, "num_layers": 1}, 4, [6, 6, 6]),
    ("Conv1DTransformer", {"dim": 16, "blocks": 1, "conv_per_block": 1, "kernel_size": 3, "num_heads": 2}, 118,
     [6, 9, 2]),
])
def test_one_traced_step_serves_batches_of_every_size_and_length(name, settings, landmarks, lengths):
    """Batches padded to their longest member differ in shape: a step traced per shape spent most of a CPU epoch
    tracing (benchmarks/scale.py with a `framework=tensorflow` variant: `train_cpu_<NAME>_step_traces`)."""
    tf.keras.utils.set_random_seed(0)
    entry = get_model_entry("tensorflow", name)
    model = entry.model_class(entry.build_config({**load_params(REPO / "params.yaml").models[name], **settings}),
                              InputShape(lengths[0], landmarks, 2), CLASSES)
    step = make_train_step(model, keras.optimizers.SGD(0.01))
    rng = np.random.default_rng(0)
    traces = []
    for size, frames in zip([5, 3, 7], lengths):
        values = tf.constant(rng.normal(size=(size, frames, landmarks, 2)).astype(np.float32))
        loss, logits = step(values, tf.ones((size, frames), tf.bool), tf.constant(np.arange(size) % CLASSES))
        assert logits.shape == (size, CLASSES) and np.isfinite(float(loss))
        traces.append(step.experimental_get_tracing_count())
    assert traces[1:] == traces[:1] * 2
