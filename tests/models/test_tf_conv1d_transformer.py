"""The Keras Conv1DTransformer: its size, its masking of padded frames, its late dropout."""

from pathlib import Path

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from asl.models.config import InputShape  # noqa: E402
from asl.models.registry import get_model_entry  # noqa: E402
from asl.params import load_params  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SMALL = {"dim": 16, "blocks": 1, "conv_per_block": 1, "kernel_size": 5, "num_heads": 2}


def build(classes: int = 5, **settings):
    tf.keras.utils.set_random_seed(0)
    entry = get_model_entry("tensorflow", "Conv1DTransformer")
    config = entry.build_config({**load_params(REPO / "params.yaml").models["Conv1DTransformer"], **settings})
    return entry.model_class(config, InputShape(384, 118, 2), classes)


def sequences(frames: int = 24):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.2, 0.8, size=(3, frames, 118, 2)).astype(np.float32)
    x[:, :, 40:61] = 0.0  # a hand never seen
    mask = np.ones((3, frames), dtype=bool)
    mask[1, 15:] = False
    return x, mask


def test_the_default_model_has_the_notebooks_size():
    assert build(250).count_params() == pytest.approx(1.84e6, rel=0.01)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("length", [1, 2, 15])
def test_appended_padding_changes_nothing(training, length):
    model = build(**SMALL)
    model.set_dropout(0.0)  # drop path and attention dropout; late dropout is off before its start epoch
    x, mask = sequences()
    mask[1, length:] = False
    short = model([x[1:2, :length], mask[1:2, :length]], training=training).numpy()
    padded_x = x[1:2].copy()
    padded_x[:, length:] = 7.0  # whatever the padded frames hold
    padded = model([padded_x, mask[1:2]], training=training).numpy()
    np.testing.assert_allclose(padded, short, atol=1e-5)


def test_late_dropout_starts_at_its_epoch_inside_a_traced_step_and_ignores_the_dropout_callback():
    model = build(**SMALL, late_dropout=0.5, late_dropout_start=1)
    model.set_dropout(0.0)
    x, mask = sequences()
    forward = tf.function(lambda values, frames: model([values, frames], training=True))
    model.on_epoch_start(0)
    np.testing.assert_allclose(forward(x, mask).numpy(), forward(x, mask).numpy(), atol=1e-6)  # deterministic
    before = forward(x, mask).numpy()
    model.on_epoch_start(1)
    assert not np.allclose(forward(x, mask).numpy(), before, atol=1e-4)  # the same trace now drops
    late = [layer for layer in model._flatten_layers() if type(layer).__name__ == "LateDropout"]
    assert [layer.rate for layer in late] == [0.5]  # set_dropout(0) left it alone
    np.testing.assert_allclose(model([x, mask], training=False).numpy(),
                               model([x, mask], training=False).numpy())  # never in inference
