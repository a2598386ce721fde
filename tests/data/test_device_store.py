"""`train.store_on_device`: batches gathered on the training device from a copy of the store are the loader's
batches (here on the CPU, the device every machine has; the CUDA case runs in tests/training/test_determinism.py
with `pytest -m gpu`)."""

import dataclasses

import numpy as np
import pytest
import torch

from asl.check import params_problems
from asl.data.inputs import FixedFrames, InputPipeline, StoreInputs, VariableFrames
from asl.data.preprocess import StoreLayout
from asl.data.torch_dataset import LandmarkDataset, batch_loader, device_batches
from asl.errors import AslError
from asl.params import load_params
from tests.data.test_store import config, write_store
from tests.training.test_lightning_trainer import REPO


def store_inputs(tmp_path, write_landmarks, random_landmarks, transform, dtype="float16"):
    """A store of 13 recordings of 1 to 30 frames: lost hands, frames with nothing observed, an empty one."""
    recordings = [random_landmarks(n, seed=n) for n in (3, 30, 7, 1, 12, 5, 22, 9, 2, 16, 4, 27, 6)]
    recordings[1][2:5, :468] = recordings[1][2:5, 522:] = np.nan  # 3 frames with no face and no right hand
    recordings[2][:, 522:] = np.nan  # the right hand lost throughout
    recordings[3][:] = np.nan  # nothing at all: stored with no frame
    meta, store = write_store(tmp_path, write_landmarks, recordings, config(dtype=dtype, drop_frames="empty"))
    return StoreInputs(store, InputPipeline(StoreLayout.of(config(), ("x", "y")), transform)), np.arange(len(meta))


@pytest.mark.parametrize("bucket_by_length", [False, True])
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_batches_gathered_on_the_device_are_the_loaders(tmp_path, write_landmarks, random_landmarks,
                                                         bucket_by_length, dtype):
    inputs, rows = store_inputs(tmp_path, write_landmarks, random_landmarks,
                                VariableFrames(20, groups=("lips", "right_hand")), dtype)
    dataset = LandmarkDataset(inputs, rows % 3, rows)
    on_host = batch_loader(dataset, 4, shuffle=True, generator=torch.Generator().manual_seed(5),
                           bucket_by_length=bucket_by_length)
    on_device = device_batches(dataset, 4, torch.device("cpu"), shuffle=True,
                               generator=torch.Generator().manual_seed(5), bucket_by_length=bucket_by_length)
    assert len(on_device) == len(on_host) == 4
    for _ in range(2):  # two epochs: each draws its own order
        pairs = list(zip(on_host, on_device, strict=True))
        for (values, mask, labels), (device_values, device_mask, device_labels) in pairs:
            assert device_values.dtype == torch.float32 and device_values.shape == values.shape
            torch.testing.assert_close(device_values, values, rtol=0, atol=0)
            assert torch.equal(device_mask, mask) and torch.equal(device_labels, labels)
    longest = {int(mask.sum(axis=1).max()) for _, mask, _ in on_device}
    assert max(longest) == 20  # truncated at max_frames


def test_the_device_copy_holds_only_the_kept_frames_of_the_models_landmarks(tmp_path, write_landmarks,
                                                                             random_landmarks):
    inputs, rows = store_inputs(tmp_path, write_landmarks, random_landmarks,
                                VariableFrames(20, groups=("lips", "right_hand")))
    batches = device_batches(LandmarkDataset(inputs, rows % 3, rows), 4, torch.device("cpu"))
    kept = sum(min(n, 20) for n in (3, 30 - 3, 7, 0, 12, 5, 22, 9, 2, 16, 4, 27, 6))
    assert tuple(batches.store.frames.shape) == (kept, inputs.shape[2], 2) == (kept, 40 + 21, 2)
    assert batches.store.frames.dtype == torch.float16


def test_a_fixed_frames_input_cannot_go_to_the_device(tmp_path, write_landmarks, random_landmarks):
    inputs, rows = store_inputs(tmp_path, write_landmarks, random_landmarks, FixedFrames(8))
    with pytest.raises(AslError, match="train.store_on_device: true needs a model of variable-length input"):
        device_batches(LandmarkDataset(inputs, rows % 3, rows), 4, torch.device("cpu"))


def test_the_check_refuses_store_on_device_where_it_cannot_apply():
    params = load_params(REPO / "params.yaml")
    on_device = dataclasses.replace(params, train=dataclasses.replace(params.train, store_on_device=True))
    assert params_problems(on_device) == []
    lightning = dataclasses.replace(on_device, train=dataclasses.replace(on_device.train, engine="lightning"))
    assert any(problem.startswith("train.store_on_device: true works with the native PyTorch trainer only")
               for problem in params_problems(lightning))
    seed_model = dataclasses.replace(on_device, model="TransformerPredictor")
    assert params_problems(seed_model) == [
        "train.store_on_device: true needs a model of variable-length input and preprocess.normalization: none "
        "(TransformerPredictor, none); set train.store_on_device: false"]
