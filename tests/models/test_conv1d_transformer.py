"""Conv1DTransformer (PyTorch): its size, its in-graph normalisation and motion features, padding that changes
nothing, late dropout, and two epochs on real competition files."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from asl.check import params_problems
from asl.data.clean import scan_recordings
from asl.data.inputs import InputPipeline, StoreInputs
from asl.data.preprocess import open_store, preprocess_dataset
from asl.errors import AslError
from asl.landmarks import LIP_POINTS
from asl.models.config import InputShape
from asl.models.registry import get_model_entry
from asl.models.torch.base import load_model_from_checkpoint, predict_probabilities
from asl.models.torch.conv1d_transformer import motion_features
from asl.params import AwpConfig, load_params
from asl.training import torch_trainer
from asl.training.common import TrainingData

REPO = Path(__file__).resolve().parents[2]
LANDMARKS = 118  # lips, hands, nose, eyes: the model's default groups
CENTRE = list(LIP_POINTS).index(17)  # face-mesh point 17 among the lips, the first group


def build(classes: int = 5, **settings) -> torch.nn.Module:
    torch.manual_seed(0)
    entry = get_model_entry("pytorch", "Conv1DTransformer")
    config = entry.build_config({**load_params(REPO / "params.yaml").models["Conv1DTransformer"], **settings})
    return entry.model_class(config, InputShape(384, LANDMARKS, 2), classes)


def recordings(lengths, seed: int = 0) -> list[torch.Tensor]:
    """Random sequences (T, 118, 2) in [0.2, 0.8] with the left hand missing (0) in their first frames."""
    generator = torch.Generator().manual_seed(seed)
    sequences = [0.2 + 0.6 * torch.rand(length, LANDMARKS, 2, generator=generator) for length in lengths]
    for sequence in sequences:
        sequence[:2, 40:61] = 0.0
    return sequences


def padded(sequences, frames: int, fill: float = 0.0) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch (B, frames, 118, 2) with `fill` in the padded frames, and its frame mask."""
    x = torch.full((len(sequences), frames, LANDMARKS, 2), fill)
    mask = torch.zeros(len(sequences), frames, dtype=torch.bool)
    for i, sequence in enumerate(sequences):
        x[i, :len(sequence)], mask[i, :len(sequence)] = sequence, True
    return x, mask


def test_size_is_the_first_places_at_the_defaults():
    model = build(classes=250)
    parameters = sum(p.numel() for p in model.parameters())
    assert parameters == pytest.approx(1.84e6, rel=0.01)
    # Keras counts BatchNorm's moving averages as parameters: its model summary's total, exactly.
    moving = sum(b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    assert parameters + moving == 1_836_568


def test_positions_are_centred_on_the_lip_and_scaled_per_coordinate_and_differences_stop_at_the_end():
    sequence = recordings([6])[0]
    x, mask = padded([sequence], 9)
    features = motion_features(x, mask, CENTRE)[0]  # (9, 6 * 118)
    assert features.shape == (9, 6 * LANDMARKS)
    position = features[:, :2 * LANDMARKS].reshape(9, LANDMARKS, 2)
    observed = (x[0] != 0).any(-1) & mask[0, :, None]
    torch.testing.assert_close(position[:6, CENTRE].mean(dim=0), torch.zeros(2), atol=1e-5, rtol=0)
    rms = (position[observed] ** 2).mean(dim=0).sqrt()  # about the centre, over every observed point
    torch.testing.assert_close(rms, torch.ones(2))
    first = features[:, 2 * LANDMARKS:4 * LANDMARKS].reshape(9, LANDMARKS, 2)
    second = features[:, 4 * LANDMARKS:].reshape(9, LANDMARKS, 2)
    torch.testing.assert_close(first[2, 70], position[3, 70] - position[2, 70])
    torch.testing.assert_close(second[2, 70], position[4, 70] - position[2, 70])
    assert (first[5] == 0).all() and (second[4:] == 0).all()  # beyond the sequence's last frame
    assert (features[6:] == 0).all() and (position[:2, 40:61] == 0).all()  # padding and missing points
    assert (first[1, 40:61] == 0).all()  # the hand appears at frame 2: no difference from a missing point


def test_centre_is_half_where_the_lip_is_never_seen_and_z_only_normalises():
    sequence = recordings([5])[0]
    sequence[:, CENTRE] = 0.0
    x, mask = padded([sequence], 5)
    observed = (x[0] != 0).any(-1)
    with_z = torch.cat([x, torch.rand(1, 5, LANDMARKS, 1) * observed[..., None]], dim=-1)  # missing: 0 in z too
    features = motion_features(with_z, mask, CENTRE)
    assert features.shape == (1, 5, 6 * LANDMARKS)  # x and y kept after normalising
    raw = x[0][observed]
    expected = (raw - 0.5) / ((raw - 0.5) ** 2).mean(dim=0).sqrt()
    torch.testing.assert_close(features[0, :, :2 * LANDMARKS].reshape(5, LANDMARKS, 2)[observed], expected)


def trained_a_little(model: torch.nn.Module) -> torch.nn.Module:
    """A few steps, so that BatchNorm's moving averages are not their initial 0 and 1."""
    model.set_dropout(0.0)
    optimizer, _ = model.configure_optimizers()
    x, mask = padded(recordings([12, 7, 20, 3], seed=1), 20)
    for _ in range(3):
        model.training_step(x, mask, torch.tensor([0, 1, 2, 3]), optimizer)
    return model


@pytest.mark.parametrize("mode", ["eval", "train"])
def test_appended_padding_changes_no_output(mode):
    model = trained_a_little(build())
    sequences = recordings([10, 4, 15], seed=2)
    x, mask = padded(sequences, 15)
    longer, longer_mask = padded(sequences, 23, fill=7.0)  # padded frames hold garbage: the mask alone counts
    model.train(mode == "train")  # train: BatchNorm's batch statistics (dropouts are 0, late dropout not yet on)
    with torch.no_grad():
        torch.testing.assert_close(model(longer, longer_mask), model(x, mask))
    if mode == "eval":
        alone, alone_mask = padded(sequences[1:2], 4)
        torch.testing.assert_close(model(alone, alone_mask)[0], model(x, mask)[1])
        one_frame, one_mask = padded([sequences[0][:1]], 1)  # a batch of one frame: nothing to difference
        torch.testing.assert_close(model(one_frame, one_mask)[0], model(*padded([sequences[0][:1]], 5))[0])


def test_an_all_padding_recording_gives_finite_logits_and_gradients():
    model = build()
    x, mask = padded(recordings([6, 9]), 9)
    x[1], mask[1] = 0.0, False
    assert torch.isfinite(model.eval()(x, mask)).all()
    logits = model.train()(x, mask)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1])).backward()
    assert torch.isfinite(logits).all() and all(torch.isfinite(p.grad).all() for p in model.parameters())


def test_compiled_for_training_the_model_takes_batches_of_any_length_without_compiling_again():
    """`train.compile` (length buckets give each batch its own number of frames): once a second length has made the
    graphs' lengths symbolic, other lengths compile nothing more. (Compiled, the depthwise convolution's backward
    would fix the graph to one length, and torch.compile gives up on a function after eight.)"""
    from torch._dynamo.utils import counters

    model = build(blocks=1, conv_per_block=1, dim=32).train()
    model.compile()

    def step(frames: int) -> None:
        logits = model(*padded(recordings([frames, 3]), frames))
        torch.nn.functional.cross_entropy(logits, torch.tensor([0, 1])).backward()

    step(12)
    step(9)
    graphs = counters["stats"]["unique_graphs"]
    for frames in (7, 15, 20):
        step(frames)
    assert counters["stats"]["unique_graphs"] == graphs


def test_importing_the_models_leaves_torch_compile_unloaded():
    """Every stage that checks params or loads a model imports the registry: torch.compile's machinery costs seconds
    there, so it loads only when something is compiled."""
    code = ("import sys; from asl.models.registry import model_names; model_names('pytorch'); "
            "assert 'torch._dynamo' not in sys.modules, 'torch._dynamo was imported'")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def test_late_dropout_is_off_before_its_start_epoch_and_on_from_it():
    model = build(late_dropout_start=3)
    model.set_dropout(0.0)  # every other dropout; late dropout keeps its own rate
    assert model.late_dropout.rate == 0.8
    x, mask = padded(recordings([8, 5]), 8)
    model.on_epoch_start(2)
    model.train()
    with torch.no_grad():
        torch.testing.assert_close(model(x, mask), model(x, mask))  # deterministic: nothing dropped
        model.on_epoch_start(3)
        assert not torch.allclose(model(x, mask), model(x, mask))
        model.eval()
        torch.testing.assert_close(model(x, mask), model(x, mask))  # never in evaluation


def test_landmarks_without_lips_are_refused():
    with pytest.raises(AslError, match=r"models\.Conv1DTransformer\.landmarks must include lips"):
        build(landmarks=["left_hand", "right_hand"])


def test_its_params_entry_passes_the_check_and_rates_are_checked():
    params = dataclasses.replace(load_params(REPO / "params.yaml"), model="Conv1DTransformer")
    assert params_problems(params) == []  # late_dropout_start is an epoch, not a rate
    entry = {**params.models["Conv1DTransformer"], "drop_path": 1.5, "late_dropout": -0.1}
    assert params_problems(dataclasses.replace(params, models={"Conv1DTransformer": entry})) == [
        "models.Conv1DTransformer.drop_path must be a probability in [0, 1], got 1.5",
        "models.Conv1DTransformer.late_dropout must be a probability in [0, 1], got -0.1"]


def test_trains_two_epochs_on_real_competition_files(gislr_sample, tmp_path):
    params = load_params(REPO / "params.yaml")
    index = pd.read_csv(gislr_sample / "train.csv", dtype=str)
    index = index[[(gislr_sample / path).is_file() for path in index["path"]]].iloc[:48]
    signs = sorted(index["sign"].unique())
    sign_map = {sign: i for i, sign in enumerate(signs)}
    coordinates = tuple(params.data.coordinates)
    recordings = scan_recordings(index, gislr_sample, sign_map, coordinates, 1).recordings
    meta = preprocess_dataset(recordings[recordings["problem"] == ""], gislr_sample, sign_map, params.preprocess,
                              coordinates, 1, tmp_path / "values.npy")
    small = {**params.models["Conv1DTransformer"], "dim": 32, "blocks": 1, "conv_per_block": 1, "num_heads": 2,
             "late_dropout_start": 1}
    train = dataclasses.replace(params.train, epochs=2, batch_size=16, device="cpu", label_smoothing=0.1,
                                awp=AwpConfig(strength=0.2, start_epoch=1))  # the recipe's options, from epoch 1
    augment = dataclasses.replace(params.augment, methods=[])  # the model's own path; augmentation has its tests
    params = dataclasses.replace(params, model="Conv1DTransformer", train=train, augment=augment,
                                 models={"Conv1DTransformer": small})
    inputs = StoreInputs(open_store(tmp_path / "values.npy", meta), InputPipeline.of(params))
    assert inputs.shape[1:] == (384, LANDMARKS, 2)
    data = TrainingData(inputs, meta["label"].to_numpy(), np.arange(32), np.arange(32, 48), signs)
    summary = torch_trainer.train(params, data, tmp_path / "model.pt", tmp_path / "live", tmp_path / "tb")
    assert summary["epochs_run"] == 2 and 0 <= summary["best_valid_accuracy"] <= 1
    model, extras = load_model_from_checkpoint(tmp_path / "model.pt")
    assert extras["inputs"]["transform"]["name"] == "variable_frames" and extras["signs"] == signs
    probabilities = predict_probabilities(model, inputs, np.arange(48), 16, torch.device("cpu"))
    assert probabilities.shape == (48, len(signs)) and np.isfinite(probabilities).all()
