"""ScheduledDropout, the dropout of every TensorFlow model: keras Dropout's behaviour with a rate that a traced
step reads at each call."""

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

from asl.errors import AslError  # noqa: E402
from asl.models.tf.base import ScheduledDropout  # noqa: E402


def test_it_drops_the_rate_and_rescales_the_rest_in_training_only():
    tf.keras.utils.set_random_seed(0)
    layer = ScheduledDropout(0.3)
    x = np.ones((400, 50), np.float32)
    out = layer(x, training=True).numpy()
    assert abs((out == 0).mean() - 0.3) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


def test_noise_shape_drops_whole_rows_as_stochastic_depth_does():
    tf.keras.utils.set_random_seed(0)
    out = ScheduledDropout(0.5, noise_shape=(None, 1, 1))(np.ones((200, 7, 3), np.float32), training=True).numpy()
    per_sequence = out.reshape(200, -1)
    assert (per_sequence.min(axis=1) == per_sequence.max(axis=1)).all()  # each sequence kept or dropped whole
    assert 0.35 < (per_sequence[:, 0] == 0).mean() < 0.65


def test_a_traced_call_follows_the_rate_without_retracing():
    tf.keras.utils.set_random_seed(0)
    layer = ScheduledDropout(0.0)
    forward = tf.function(lambda x: layer(x, training=True))
    x = tf.ones((100, 20))
    np.testing.assert_array_equal(forward(x).numpy(), x.numpy())  # rate 0: the input itself
    layer.set_rate(0.5)
    assert 0.4 < (forward(x).numpy() == 0).mean() < 0.6
    layer.set_rate(1.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = forward(x)
    np.testing.assert_array_equal(out.numpy(), 0.0)  # everything dropped, with a finite gradient
    assert np.isfinite(tape.gradient(out, x).numpy()).all()
    assert forward.experimental_get_tracing_count() == 1
    assert layer.rate == 1.0 and layer.configured_rate == 0.0


def test_a_rate_outside_zero_to_one_is_refused():
    with pytest.raises(AslError, match="dropout rate 1.5"):
        ScheduledDropout(1.5)
