"""The variable-length store (preprocess_dataset, open_store) and model inputs as transforms of it."""

import numpy as np
import pandas as pd
import pytest
import torch

from asl.data.clean import scan_recordings
from asl.data.torch_dataset import LandmarkDataset, batch_loader
from asl.data.inputs import (FixedFrames, InputPipeline, StoreInputs, VariableFrames, checkpoint_pipeline,
                             model_batch, pad_batch)
from asl.data.preprocess import (StoreLayout, fill_short_gaps, normalize, open_store, preprocess_dataset,
                                 missing, resize_frames, store_sequence, to_model_input)
from asl.data.raw import read_landmarks
from asl.errors import AslError
from asl.landmarks import (EYE_POINTS, HAND_POSITIONS, LANDMARK_GROUPS, LIP_POINTS, NOSE_POINTS, SELECTED_ROWS,
                           group_positions, part_rows, selected_positions)
from asl.params import PreprocessConfig, landmark_problems

ALL_GROUPS = ["lips", "left_hand", "right_hand", "nose", "eyes", "pose"]


def config(**settings) -> PreprocessConfig:
    return PreprocessConfig(**{"frames": 8, "max_gap": 2, "chunk_size": 4, "landmarks": ALL_GROUPS, **settings})


def todays_seed_input(raw: np.ndarray, frames: int, max_gap: int, normalization: str) -> np.ndarray:
    """main's `preprocess_sequence` before the store, compactly: the 96 seed landmarks, hand gaps of at most
    `max_gap` filled, frames without a hand dropped, resized, normalised; all NaN when no hand is seen."""
    selected = raw[:, SELECTED_ROWS].astype(np.float32)
    for hand in ("left_hand", "right_hand"):
        positions = selected_positions(hand)
        selected[:, positions] = fill_short_gaps(selected[:, positions], max_gap)
    kept = selected[~np.isnan(selected[:, HAND_POSITIONS]).all(axis=(1, 2))]
    if len(kept) == 0:
        return np.full((frames, *selected.shape[1:]), np.nan, np.float32)
    return normalize(resize_frames(kept, frames), normalization)


def cleaned(index: pd.DataFrame, raw_dir, coordinates=("x", "y")) -> pd.DataFrame:
    """The clean stage's recordings of an index of "hello" files (what preprocessing reads)."""
    return scan_recordings(index, raw_dir, {"hello": 0}, coordinates, 1).recordings


def write_store(tmp_path, write_landmarks, recordings, settings, coordinates=("x", "y"), workers=1):
    """Write raw recordings, clean and store them; returns (meta, store)."""
    index = pd.DataFrame({"path": [f"train_landmark_files/1/{i}.parquet" for i in range(len(recordings))],
                          "participant_id": "1", "sequence_id": [str(i) for i in range(len(recordings))],
                          "sign": "hello"})
    for path, raw in zip(index["path"], recordings):
        write_landmarks(tmp_path / path, raw)
    meta = preprocess_dataset(cleaned(index, tmp_path, coordinates), tmp_path, {"hello": 0}, settings, coordinates,
                              workers, tmp_path / "out" / "landmarks.npy")
    return meta, open_store(tmp_path / "out" / "landmarks.npy", meta)


@pytest.mark.parametrize("normalization", ["none", "standardize"])
def test_seed_transform_of_the_store_is_todays_preprocessing_on_real_files(gislr_sample, tmp_path, normalization):
    paths = sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[:40]
    index = pd.DataFrame({"path": [str(p.relative_to(gislr_sample)) for p in paths], "participant_id": "1",
                          "sequence_id": [p.stem for p in paths], "sign": "hello"})
    settings = config(frames=32, max_gap=3, normalization=normalization, dtype="float32")
    meta = preprocess_dataset(cleaned(index, gislr_sample), gislr_sample, {"hello": 0}, settings, ("x", "y"), 1,
                              tmp_path / "v.npy")
    inputs = StoreInputs(open_store(tmp_path / "v.npy", meta),
                         InputPipeline(StoreLayout.of(settings, ("x", "y")), FixedFrames(32, normalization)))
    expected = np.stack([todays_seed_input(read_landmarks(p, ("x", "y")).values, 32, 3, normalization)
                         for p in paths])
    np.testing.assert_array_equal(inputs[np.arange(len(paths))], expected)  # exactly, NaN where NaN
    assert inputs.shape == (len(paths), 32, 96, 2)


def test_store_holds_every_kept_frame_at_its_own_length(tmp_path, write_landmarks, random_landmarks):
    recordings = [random_landmarks(length, seed=i) for i, length in enumerate([5, 20, 9])]
    recordings[1][3:5, np.concatenate([part_rows("left_hand"), part_rows("right_hand")])] = np.nan  # filled (gap 2)
    recordings[1][10:14, np.concatenate([part_rows("left_hand"), part_rows("right_hand")])] = np.nan  # dropped
    meta, store = write_store(tmp_path, write_landmarks, recordings, config(dtype="float32"), workers=2)
    assert meta["length"].tolist() == [5, 16, 9] and meta["offset"].tolist() == [0, 5, 21]
    assert meta["dropped_frames"].tolist() == [0, 4, 0]
    assert store.values.shape == (30, sum(len(rows) for rows in LANDMARK_GROUPS.values()), 2)
    assert isinstance(store.values, np.memmap)
    np.testing.assert_array_equal(store.sequence(2), recordings[2][:, np.concatenate(
        [LANDMARK_GROUPS[name] for name in ALL_GROUPS]), :2].astype(np.float32))
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["landmarks.npy"]  # no temporary left behind


def test_a_file_changed_since_cleaning_stops_preprocessing_and_writes_nothing(tmp_path, write_landmarks,
                                                                             random_landmarks):
    index = pd.DataFrame({"path": ["train_landmark_files/1/0.parquet"], "participant_id": "1", "sequence_id": "0",
                          "sign": "hello"})
    write_landmarks(tmp_path / index["path"][0], random_landmarks(5))
    recordings = cleaned(index, tmp_path)
    write_landmarks(tmp_path / index["path"][0], random_landmarks(7))  # replaced after cleaning
    with pytest.raises(AslError, match=r"0\.parquet: 7 frames, but the clean stage read 5: the file changed since"):
        preprocess_dataset(recordings, tmp_path, {"hello": 0}, config(), ("x", "y"), 1, tmp_path / "out.npy")
    assert list(tmp_path.glob("out*")) == []
    with pytest.raises(AslError, match="needs the clean stage's recordings"):
        preprocess_dataset(index, tmp_path, {"hello": 0}, config(), ("x", "y"), 1, tmp_path / "out.npy")


def test_landmark_groups_come_from_the_layout():
    face = part_rows("face")
    assert len(LANDMARK_GROUPS["lips"]) == 40 and len(LANDMARK_GROUPS["eyes"]) == 32
    np.testing.assert_array_equal(LANDMARK_GROUPS["nose"], face[NOSE_POINTS])
    np.testing.assert_array_equal(LANDMARK_GROUPS["eyes"], face[EYE_POINTS])
    np.testing.assert_array_equal(LANDMARK_GROUPS["pose"], part_rows("pose")[11:25])
    assert sum(len(LANDMARK_GROUPS[name]) for name in ALL_GROUPS if name != "pose") == 118  # the 1st place's
    np.testing.assert_array_equal(LANDMARK_GROUPS["lips"], face[LIP_POINTS])
    np.testing.assert_array_equal(group_positions(["nose", "right_hand"], "right_hand"), np.arange(4, 25))


def test_groups_and_coordinates_choose_what_is_stored(random_landmarks):
    raw = random_landmarks(6)
    layout = StoreLayout(("right_hand", "nose"), ("x", "y", "z"))
    stored = store_sequence(raw, layout).values
    expected = raw[:, np.concatenate([part_rows("right_hand"), LANDMARK_GROUPS["nose"]])].astype(np.float32)
    np.testing.assert_array_equal(stored, expected)
    assert landmark_problems(config(landmarks=["lips", "ears"]))[0].startswith("preprocess.landmarks: unknown group")
    assert landmark_problems(config(landmarks=["lips", "pose"]))  # without_hands with no hand stored
    assert not landmark_problems(config(landmarks=["lips", "pose"], drop_frames="empty"))


def test_drop_policies(random_landmarks):
    raw = random_landmarks(6)[..., :2]
    hands = np.concatenate([part_rows("left_hand"), part_rows("right_hand")])
    raw[1, hands] = np.nan  # a one-frame hand gap: filled by without_hands, kept as missing by empty
    raw[4:, hands] = np.nan  # no hand in the last two frames
    raw[5] = np.nan  # nothing at all in the last frame
    without_hands = store_sequence(raw, StoreLayout(tuple(ALL_GROUPS), ("x", "y"), "without_hands", 1))
    empty = store_sequence(raw, StoreLayout(tuple(ALL_GROUPS), ("x", "y"), "empty", 1))
    assert (len(without_hands.values), without_hands.dropped_frames) == (4, 2)
    assert not np.isnan(without_hands.values[1, group_positions(ALL_GROUPS, "left_hand")]).any()
    assert (len(empty.values), empty.dropped_frames) == (5, 1)
    assert np.isnan(empty.values[1, group_positions(ALL_GROUPS, "left_hand")]).all()


def test_float16_store_halves_the_size_and_rounds_like_float16(tmp_path, write_landmarks, random_landmarks):
    recordings = [random_landmarks(7, seed=1)]
    _, full = write_store(tmp_path / "a", write_landmarks, recordings, config(dtype="float32"))
    _, half = write_store(tmp_path / "b", write_landmarks, recordings, config(dtype="float16"))
    assert half.values.dtype == np.float16 and half.values.nbytes * 2 == full.values.nbytes
    np.testing.assert_array_equal(half.sequence(0), full.sequence(0).astype(np.float16).astype(np.float32))


def test_a_recording_without_a_usable_frame_has_length_zero_and_an_all_padding_input(
        tmp_path, write_landmarks, random_landmarks):
    empty = random_landmarks(4)
    empty[:, np.concatenate([part_rows("left_hand"), part_rows("right_hand")])] = np.nan
    meta, store = write_store(tmp_path, write_landmarks, [random_landmarks(6), empty], config())
    assert meta["length"].tolist() == [6, 0]
    layout = StoreLayout.of(config(), ("x", "y"))
    fixed = StoreInputs(store, InputPipeline(layout, FixedFrames(8)))
    variable = StoreInputs(store, InputPipeline(layout, VariableFrames(16)))
    assert np.isnan(fixed[1]).all() and fixed[1].shape == (8, 96, 2)
    assert variable[1].shape == (1, 132, 2) and np.isnan(variable[1]).all()


def test_variable_frames_truncate_at_max_frames_and_pad_batches_with_a_mask(
        tmp_path, write_landmarks, random_landmarks):
    meta, store = write_store(tmp_path, write_landmarks, [random_landmarks(n, seed=n) for n in (3, 12, 7)],
                              config(dtype="float32"))
    pipeline = InputPipeline(StoreLayout.of(config(), ("x", "y")), VariableFrames(10, groups=("left_hand", "nose")))
    inputs = StoreInputs(store, pipeline)
    assert inputs.shape == (3, 10, 25, 2) and [len(inputs[row]) for row in range(3)] == [3, 10, 7]
    np.testing.assert_array_equal(inputs[1], store.sequence(1)[:10, pipeline.layout.positions(("left_hand", "nose"))])
    batch = inputs[np.array([0, 2])]
    assert batch.shape == (2, 7, 25, 2) and np.isnan(batch[0, 3:]).all()
    # the torch dataset's batches: padded to the longest member, the mask False on padding
    dataset = LandmarkDataset(inputs, meta["label"].to_numpy(), np.array([0, 2]))
    values, mask, labels = next(iter(batch_loader(dataset, batch_size=2)))
    assert values.shape == (2, 7, 25, 2) and mask.sum(axis=1).tolist() == [3, 7] and labels.tolist() == [0, 0]
    assert torch.all(values[0, 3:] == 0)
    np.testing.assert_array_equal(values[1].numpy(), np.nan_to_num(inputs[2]))
    item_values, item_mask, label = dataset[0]  # one item: the batch of one
    assert item_values.shape == (3, 25, 2) and item_mask.all() and label == 0


def test_tf_batches_pad_variable_length_inputs(tmp_path, write_landmarks, random_landmarks):
    from asl.data.tf_data import LandmarkBatches

    meta, store = write_store(tmp_path, write_landmarks, [random_landmarks(n, seed=n) for n in (3, 12, 7)], config())
    inputs = StoreInputs(store, InputPipeline(StoreLayout.of(config(), ("x", "y")), VariableFrames(10)))
    (values, mask), labels = next(iter(LandmarkBatches(inputs, meta["label"].to_numpy(), np.arange(3), 3,
                                                       shuffle=False).epoch(0)))
    assert tuple(values.shape) == (3, 10, 132, 2) and mask.numpy().sum(axis=1).tolist() == [3, 10, 7]


def test_pipeline_is_recorded_and_rebuilt():
    pipeline = InputPipeline(StoreLayout(("lips", "left_hand"), ("x",), "empty", 1),
                             VariableFrames(64, "minmax", ("left_hand",)))
    assert InputPipeline.from_record(pipeline.record()) == pipeline
    old = {"params": {"preprocess": {"frames": 32, "max_gap": 3, "chunk_size": 64}, "data": {"coordinates": ["x"]}}}
    rebuilt = checkpoint_pipeline(old)  # a checkpoint from before the store: the seed's landmarks and frames
    assert rebuilt.transform == FixedFrames(32) and rebuilt.layout.landmarks == ("lips", "left_hand", "right_hand",
                                                                                 "pose")


def test_pad_batch():
    batch = pad_batch([np.ones((2, 3, 2), np.float32), np.ones((4, 3, 2), np.float32)])
    assert batch.shape == (2, 4, 3, 2) and np.isnan(batch[0, 2:]).all() and not np.isnan(batch[1]).any()


def test_check_names_the_groups_a_model_input_needs_that_the_store_lacks():
    import dataclasses
    from pathlib import Path

    from asl.check import params_problems
    from asl.params import load_params

    params = load_params(Path(__file__).resolve().parents[2] / "params.yaml")
    hands_only = dataclasses.replace(params.preprocess, landmarks=["left_hand", "right_hand"])
    seed_model = dataclasses.replace(params, model="TransformerPredictor", preprocess=hands_only)
    assert params_problems(seed_model) == ["preprocess.landmarks (left_hand, right_hand) lacks lips, pose, which the "
                                           "model's input needs"]
    first_place = dataclasses.replace(params, model="Conv1DTransformer", preprocess=hands_only)
    assert params_problems(first_place) == ["models.Conv1DTransformer.landmarks: lips, nose, eyes not in the store; "
                                            "add them to preprocess.landmarks (left_hand, right_hand)"]


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("normalization", ["none", "minmax"])
def test_batches_gathered_from_the_store_equal_the_items_padded(tmp_path, write_landmarks, random_landmarks, dtype,
                                                                normalization):
    """`inputs[rows]` and `model_batch` (one gather for a whole batch) give what each row's own input, padded,
    gives: missing points (a lost hand, a frame with nothing of the model's groups), truncation and an empty
    recording included."""
    recordings = [random_landmarks(n, seed=n) for n in (3, 12, 7, 1)]
    recordings[1][2:5, :468] = recordings[1][2:5, 522:] = np.nan  # 3 frames with no face and no right hand
    recordings[2][:, 522:] = np.nan  # the right hand lost throughout
    recordings[3][:] = np.nan  # nothing at all: stored with no frame
    meta, store = write_store(tmp_path, write_landmarks, recordings, config(dtype=dtype, drop_frames="empty"))
    pipeline = InputPipeline(StoreLayout.of(config(), ("x", "y")),
                             VariableFrames(8, normalization, groups=("lips", "right_hand")))
    inputs = StoreInputs(store, pipeline)
    rows = np.array([2, 0, 1, 3, 1])
    expected = pad_batch([inputs[int(row)] for row in rows])
    np.testing.assert_array_equal(inputs[rows], expected)
    values, mask = model_batch(inputs, rows)
    expected_values, expected_mask = to_model_input(expected)
    np.testing.assert_array_equal(mask, expected_mask)
    np.testing.assert_array_equal(values.astype(np.float32), expected_values)
    assert values.dtype == (np.float16 if dtype == "float16" and normalization == "none" else np.float32)
    assert mask.sum(axis=1).tolist() == [7, 3, 8, 0, 8]  # 12 frames, 3 with nothing of lips or right hand: 9, cut


def test_missing_is_isnan_for_every_float16():
    every = np.arange(2**16, dtype=np.uint32).astype(np.uint16).view(np.float16)
    np.testing.assert_array_equal(missing(every), np.isnan(every))
