"""The built-in sample: Kaggle layout and schema, realistic gaps, determinism, atomic writing, learnable signs."""

from __future__ import annotations

import dataclasses
import importlib.util
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import yaml
from sklearn.linear_model import LogisticRegression
from typer.testing import CliRunner

import asl.data.sample as sample_module
from asl.data.raw import (
    INDEX_COLUMNS, PARQUET_SCHEMA, check_signs_in_map, read_index, read_landmarks, read_sign_map,
    validate_landmark_file,
)
from asl.data.sample import generate_sample
from asl.data.sign_names import GISLR_SIGNS
from asl.errors import AslError
from asl.landmarks import SELECTED_ROWS, mirror_permutation, part_rows, selected_positions
from asl.params import SampleConfig, load_params

REPO = Path(__file__).resolve().parents[2]
TINY = SampleConfig(participants=3, signs=["hello", "bye", "yes"], sequences_per_sign=6, min_frames=4, max_frames=100)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tiny") / "sample"
    generate_sample(out, TINY, seed=0)
    return out


def _sequences(root: Path):
    index = read_index(root)
    return index, [read_landmarks(root / path, ("x", "y", "z")) for path in index["path"]]


def test_index_and_sign_map_follow_the_kaggle_layout(tiny):
    index = read_index(tiny)
    assert tuple(index.columns) == INDEX_COLUMNS
    assert len(index) == 3 * 3 * 2
    assert sorted(index.groupby("participant_id").size()) == [6, 6, 6]
    assert all(len(pid) == 5 and pid.isdigit() for pid in index["participant_id"])
    assert index["sequence_id"].is_unique
    assert (index["path"] == "train_landmark_files/" + index["participant_id"] + "/"
            + index["sequence_id"] + ".parquet").all()
    sign_map = read_sign_map(tiny)
    assert sign_map == {sign: label for label, sign in enumerate(GISLR_SIGNS)}
    assert len(sign_map) == 250 and sign_map["TV"] == 0 and sign_map["zipper"] == 249
    check_signs_in_map(index, sign_map, tiny / "train.csv")
    assert sorted(index["sign"].unique()) == sorted(TINY.signs)


def test_every_file_has_the_competition_schema_and_layout(tiny):
    index = read_index(tiny)
    for path in index["path"]:
        frames = validate_landmark_file(tiny / path)  # types, 543 rows per frame in Holistic order
        table = pq.read_table(tiny / path)
        assert table.schema.remove_metadata() == PARQUET_SCHEMA
        assert table.num_rows == frames * 543
        frame = table.column("frame").to_numpy()
        assert frame[0] != 0
        assert np.array_equal(np.unique(frame), np.arange(frame[0], frame[0] + frames))
        row = table.slice(543 + 470, 1).to_pylist()[0]  # second frame, left hand point 2
        assert row["row_id"] == f"{frame[0] + 1}-left_hand-2" and row["type"] == "left_hand"


def test_files_have_the_schema_of_real_competition_files(tiny, gislr_sample):
    real = next((gislr_sample / "train_landmark_files").glob("*/*.parquet"))
    ours = next(tiny.glob("train_landmark_files/*/*.parquet"))
    assert pq.read_schema(ours).remove_metadata() == pq.read_schema(real).remove_metadata()
    assert set(read_sign_map(tiny).items()) == set(read_sign_map(gislr_sample).items())


def test_lengths_vary_within_the_configured_range(tiny):
    _, sequences = _sequences(tiny)
    lengths = [len(s.frame_numbers) for s in sequences]
    assert min(lengths) >= TINY.min_frames and max(lengths) <= TINY.max_frames
    assert len(set(lengths)) >= 6


def test_hands_go_missing_while_face_and_pose_stay(tiny):
    _, sequences = _sequences(tiny)
    missing_hand_frames, absent_hands = 0, 0
    for sequence in sequences:
        values = sequence.values
        assert not np.isnan(values[:, part_rows("face")]).any()
        assert not np.isnan(values[:, part_rows("pose")]).any()
        seen = [np.isfinite(values[:, part_rows(hand), 0]).all(axis=1) for hand in ("left_hand", "right_hand")]
        assert (seen[0] | seen[1]).any()  # the signing hand is in view somewhere
        missing_hand_frames += sum(int((~s).sum()) for s in seen)
        absent_hands += sum(not s.any() for s in seen)
    assert missing_hand_frames > 0 and absent_hands > 0
    table = pq.read_table(next(tiny.glob("train_landmark_files/*/*.parquet")))
    assert table.column("x").null_count > 0  # missing values are nulls, as pandas wrote Kaggle's files


def test_coordinates_look_like_mediapipe(tiny):
    _, sequences = _sequences(tiny)
    for sequence in sequences:
        face = sequence.values[:, part_rows("face")]
        assert (face[..., :2] > 0).all() and (face[..., :2] < 1).all()
        assert np.abs(face[..., 2]).max() < 0.3
        hands = sequence.values[:, np.concatenate([part_rows("left_hand"), part_rows("right_hand")])]
        assert 0 < np.nanmedian(hands[..., 0]) < 1 and 0 < np.nanmedian(hands[..., 1]) < 1.1
        shoulders = sequence.values[:, part_rows("pose")[[11, 12]]]
        assert (shoulders[:, 0, 0] > shoulders[:, 1, 0]).all()  # the signer's left is on the image's right


def test_same_config_and_seed_give_identical_bytes_whatever_the_workers(tiny, tmp_path):
    again = tmp_path / "again"
    generate_sample(again, TINY, seed=0, workers=2)
    files = sorted(p.relative_to(tiny) for p in tiny.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    for file in files:
        assert (tiny / file).read_bytes() == (again / file).read_bytes(), file


def test_another_seed_gives_other_participants(tiny, tmp_path):
    generate_sample(tmp_path / "other", TINY, seed=1)
    assert set(read_index(tmp_path / "other")["participant_id"]).isdisjoint(read_index(tiny)["participant_id"])


def test_adding_a_sign_leaves_the_other_recordings_unchanged(tmp_path):
    small = SampleConfig(participants=1, signs=["hello", "bye"], sequences_per_sign=1, min_frames=4, max_frames=100)
    generate_sample(tmp_path / "two", small, seed=3)
    generate_sample(tmp_path / "three", dataclasses.replace(small, signs=["hello", "yes", "bye"]), seed=3)
    for path in read_index(tmp_path / "two")["path"]:
        assert (tmp_path / "two" / path).read_bytes() == (tmp_path / "three" / path).read_bytes()


def test_a_number_of_signs_takes_the_first_signs_of_the_map_and_spreads_recordings_over_participants(tmp_path):
    config = SampleConfig(participants=3, signs=4, sequences_per_sign=5, min_frames=4, max_frames=100)
    generate_sample(tmp_path / "sample", config, seed=0)
    index = read_index(tmp_path / "sample")
    assert sorted(index["sign"].unique()) == sorted(GISLR_SIGNS[:4])
    assert (index.groupby("sign").size() == 5).all()
    assert sorted(index.groupby("participant_id").size()) == [6, 7, 7]  # 5 per sign: 2, 2, 1 in turn


def test_lengths_have_the_competitions_long_tail(tmp_path):
    config = SampleConfig(participants=2, signs=8, sequences_per_sign=60, min_frames=1, max_frames=500)
    generate_sample(tmp_path / "sample", config, seed=0, workers=2)
    index = read_index(tmp_path / "sample")
    lengths = np.array([pq.ParquetFile(tmp_path / "sample" / path).metadata.num_rows // 543 for path in index["path"]])
    assert lengths.min() <= 5 and lengths.max() > 150  # a few cut short, a few idle long
    assert 15 <= np.median(lengths) <= 60 and np.mean(lengths > 100) < 0.05


@pytest.mark.parametrize("signs", [0, 251])
def test_a_bad_number_of_signs_is_an_error(tmp_path, signs):
    with pytest.raises(AslError, match=f"sample.signs: a number of signs must be 1 to 250, got {signs}"):
        generate_sample(tmp_path / "sample", dataclasses.replace(TINY, signs=signs), seed=0)


def test_signs_that_are_neither_a_list_nor_a_number_are_an_error(tmp_path):
    with pytest.raises(AslError, match=r"sample.signs must be a list.* or sample.signs must be of type int"):
        load_params(_params_file(tmp_path, signs="hello"))


def test_unknown_sign_is_an_error_naming_it(tmp_path):
    config = dataclasses.replace(TINY, signs=["hello", "eat"])
    with pytest.raises(AslError, match=r"'eat'.*sign_to_prediction_index_map\.json"):
        generate_sample(tmp_path / "sample", config, seed=0)
    assert not (tmp_path / "sample").exists()


def test_impossible_lengths_are_an_error(tmp_path):
    with pytest.raises(AslError, match="sample.max_frames"):
        generate_sample(tmp_path / "sample", dataclasses.replace(TINY, min_frames=50, max_frames=10), seed=0)


def test_existing_output_is_replaced(tmp_path):
    out = tmp_path / "sample"
    out.mkdir()
    (out / "stale.txt").write_text("old")
    config = dataclasses.replace(TINY, participants=1, signs=["hello"], sequences_per_sign=1)
    generate_sample(out, config, seed=0)
    assert not (out / "stale.txt").exists()
    assert len(read_index(out)) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]


def test_interrupted_run_keeps_the_old_dataset_and_leaves_no_half_one(tmp_path, monkeypatch):
    out = tmp_path / "sample"
    out.mkdir()
    (out / "train.csv").write_text("old")
    calls = []
    real_table = sample_module._landmark_table

    def table_then_interrupt(*args):
        calls.append(1)
        if len(calls) > 3:
            raise KeyboardInterrupt
        return real_table(*args)

    monkeypatch.setattr(sample_module, "_landmark_table", table_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        generate_sample(out, TINY, seed=0)
    assert (out / "train.csv").read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sample"]


def _features(values: np.ndarray, frames: int = 16) -> np.ndarray:
    """Both hands and the pose, signing hand first (left-handed signers mirrored), resampled to `frames` frames."""
    points = values[:, SELECTED_ROWS, :2]
    left, right = (np.isfinite(values[:, part_rows(hand), 0]).sum() for hand in ("left_hand", "right_hand"))
    if left > right:
        points = points[:, mirror_permutation()]
        points[..., 0] = 1 - points[..., 0]
    keep = np.concatenate([selected_positions(part) for part in ("right_hand", "left_hand", "pose")])
    points = np.nan_to_num(points[:, keep]).reshape(len(values), -1)
    position = np.linspace(0, len(values) - 1, frames)
    low = np.floor(position).astype(int)
    high = np.minimum(low + 1, len(values) - 1)
    weight = (position - low)[:, None]
    return ((1 - weight) * points[low] + weight * points[high]).ravel()


def test_signs_are_learnable_across_participants(tmp_path):
    config = SampleConfig(participants=6, signs=["hello", "thankyou", "bye", "yes"], sequences_per_sign=24,
                          min_frames=4, max_frames=100)
    generate_sample(tmp_path / "sample", config, seed=0)
    index, sequences = _sequences(tmp_path / "sample")
    features = np.stack([_features(s.values) for s in sequences])
    test = index["participant_id"].isin(sorted(index["participant_id"].unique())[4:]).to_numpy()
    model = LogisticRegression(max_iter=3000).fit(features[~test], index["sign"][~test])
    assert model.score(features[test], index["sign"][test]) >= 0.8  # chance is 0.25


def _stage():
    spec = importlib.util.spec_from_file_location("sample_stage", REPO / "stages" / "sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _params_file(tmp_path: Path, **sample) -> Path:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    raw["sample"].update(sample)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_stage_writes_the_sample(tmp_path):
    params = _params_file(tmp_path, participants=1, signs=["hello"], sequences_per_sign=2)
    result = CliRunner().invoke(_stage().app, ["--params", str(params), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert len(read_index(tmp_path / "out")) == 2


def test_stage_reports_a_bad_sign_without_a_traceback(tmp_path):
    params = _params_file(tmp_path, signs=["hello", "nosuchsign"])
    result = CliRunner().invoke(_stage().app, ["--params", str(params), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "nosuchsign" in result.output and "Traceback" not in result.output


def test_default_params_describe_a_valid_sample():
    sample_module.check_sample_config(load_params(REPO / "params.yaml").sample)
