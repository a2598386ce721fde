"""The PyTorch and Keras Conv1DTransformers are one model: given the same weights they give the same logits, with
padding, missing points and z, in eval and in train mode (batch statistics, dropout off)."""

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")
torch_model = pytest.importorskip("asl.models.torch.conv1d_transformer")

from asl.models.config import InputShape  # noqa: E402
from asl.models.registry import get_model_entry  # noqa: E402
from asl.models.tf import conv1d_transformer as keras_model  # noqa: E402
from asl.params import load_params  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
SHAPE = InputShape(64, 118, 3)
CLASSES = 7


def keras_parametrised(model) -> list:
    """The Keras layers with weights, in the order the PyTorch model registers its modules."""
    layers = []
    for layer in model.layers:
        if isinstance(layer, keras_model.MultiHeadSelfAttention):
            layers += [layer.qkv, layer.project]
        elif isinstance(layer, keras_model.EfficientChannelAttention):
            layers.append(layer.conv)
        elif isinstance(layer, (keras.layers.Dense, keras.layers.BatchNormalization, keras.layers.DepthwiseConv1D)):
            layers.append(layer)
    return layers


@torch.no_grad()
def copy_weights(source, target, rng) -> None:
    """Keras layer → PyTorch module; BatchNorm statistics and biases randomised (on both) so they matter."""
    weights = source.get_weights()
    if isinstance(target, torch.nn.BatchNorm1d):
        weights = [rng.uniform(0.5, 1.5, w.shape) if i in (0, 3) else rng.normal(0, 0.2, w.shape)
                   for i, w in enumerate(weights)]
        weights = [w.astype(np.float32) for w in weights]
        for tensor, value in zip((target.weight, target.bias, target.running_mean, target.running_var), weights):
            tensor.copy_(torch.tensor(value))
    elif isinstance(target, torch.nn.Linear):
        if target.bias is not None:
            weights[1] = rng.normal(0, 0.1, weights[1].shape).astype(np.float32)
            target.bias.copy_(torch.tensor(weights[1]))
        target.weight.copy_(torch.tensor(weights[0].T))  # (in, out) → (out, in)
    elif isinstance(source, keras.layers.DepthwiseConv1D):
        target.weight.copy_(torch.tensor(weights[0][:, :, 0].T[:, None, :]))  # (k, W, 1) → (W, 1, k)
    else:  # ECA's convolution across channels
        target.weight.copy_(torch.tensor(weights[0].transpose(2, 1, 0)))  # (k, 1, 1) → (1, 1, k)
    source.set_weights(weights)


def test_same_weights_give_the_same_logits_in_both_frameworks():
    settings = dict(load_params(REPO / "params.yaml").models["Conv1DTransformer"], dim=16, blocks=1,
                    conv_per_block=2, kernel_size=5, num_heads=2)
    config = get_model_entry("tensorflow", "Conv1DTransformer").build_config(settings)
    tf.keras.utils.set_random_seed(0)
    keras_net, torch_net = keras_model.Conv1DTransformer(config, SHAPE, CLASSES), \
        torch_model.Conv1DTransformer(config, SHAPE, CLASSES)
    modules = [m for m in torch_net.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv1d,
                                                                  torch.nn.BatchNorm1d))]
    layers = keras_parametrised(keras_net)
    assert len(layers) == len(modules)
    rng = np.random.default_rng(0)
    for layer, module in zip(layers, modules):
        copy_weights(layer, module, rng)
    x = rng.uniform(0.2, 0.8, (3, 40, 118, 3)).astype(np.float32)
    x[:, :, 40:61] = 0.0  # a hand never seen
    x[0, 5:9, 61:82] = 0.0  # the other missing for a few frames
    mask = np.ones((3, 40), dtype=bool)
    mask[1, 25:], mask[2, 3:] = False, False
    x[~mask] = 0.0
    torch_net.eval()
    np.testing.assert_allclose(keras_net([x, mask], training=False).numpy(),
                               torch_net(torch.tensor(x), torch.tensor(mask)).detach().numpy(), atol=2e-5)
    keras_net.set_dropout(0.0)
    torch_net.set_dropout(0.0)
    torch_net.train()
    np.testing.assert_allclose(keras_net([x, mask], training=True).numpy(),
                               torch_net(torch.tensor(x), torch.tensor(mask)).detach().numpy(), atol=2e-5)
