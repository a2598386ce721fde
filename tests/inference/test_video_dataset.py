"""Videos as training data: `asl extract --dataset` writes a raw-layout dataset that `data.extra_raw_dirs` adds to
training, never to validation or test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from asl.cli import app
from asl.data.clean import scan_recordings
from asl.data.extra import read_training_index
from asl.data.preprocess import open_store
from asl.data.raw import INDEX_FILE, read_index, read_sign_map, validate_landmark_file
from asl.data.sample import generate_sample
from asl.data.sign_names import GISLR_SIGNS
from asl.data.splits import assign_splits
from asl.errors import AslError
from asl.params import load_params


@pytest.fixture(scope="module")
def video_dataset(shared_videos, tmp_path_factory) -> tuple[Path, object]:
    """`asl extract --dataset` on a folder of two good videos and one whose sign is not in the map."""
    work = tmp_path_factory.mktemp("videos")
    folder = work / "in"
    folder.mkdir()
    for name in ("airplane__msasl_3.mp4", "brother__wlasl_1.mp4"):
        (folder / name).symlink_to(shared_videos / name)
    (folder / "notasign__x.mp4").symlink_to(shared_videos / "airplane__msasl_3.mp4")
    result = CliRunner().invoke(app, ["extract", str(folder), "--dataset", "--out", str(work / "video_signs"),
                                      "--frames", "8"])
    return work / "video_signs", result


def test_extract_dataset_writes_the_raw_layout(video_dataset):
    out, result = video_dataset
    assert result.exit_code == 1  # one video failed, and says why
    assert "'notasign' is not in the sign map" in result.output and "2 of 3 videos written" in result.output
    index = read_index(out)
    assert sorted(index["sign"]) == ["airplane", "brother"]
    assert set(index["participant_id"]) == {"video_signs"}  # one participant id per source
    assert list(read_sign_map(out)) == list(GISLR_SIGNS)  # the official map, labels in order
    for path in index["path"]:
        assert validate_landmark_file(out / path) == 8


def test_labels_csv_names_the_signs(shared_videos, tmp_path):
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"video": [str(shared_videos / "unknown__pose_test_video.mp4")], "sign": ["hello"]}).to_csv(
        labels, index=False)
    result = CliRunner().invoke(app, ["extract", "--labels", str(labels), "--out", str(tmp_path / "ds"),
                                      "--participant", "cam1", "--frames", "6"])
    assert result.exit_code == 0, result.output
    index = read_index(tmp_path / "ds")
    assert index[["participant_id", "sign"]].values.tolist() == [["cam1", "hello"]]


def test_extra_raw_dirs_join_training_only(video_dataset, make_params, tmp_path):
    extra, _ = video_dataset
    params = load_params(make_params(tmp_path / "params.yaml", extra_raw_dirs=[str(extra)]))
    generate_sample(tmp_path / "raw", params.sample, params.seed)
    index = read_training_index(tmp_path / "raw", params.data.extra_raw_dirs)
    extra_rows = index["participant_id"].str.startswith("extra:")
    assert extra_rows.sum() == 2 and set(index[extra_rows]["participant_id"]) == {"extra:video_signs:video_signs"}
    recordings = scan_recordings(index, tmp_path / "raw", read_sign_map(tmp_path / "raw"),
                                 tuple(params.data.coordinates), 1).recordings
    kept = recordings[recordings["problem"] == ""]
    assert kept["participant_id"].str.startswith("extra:").sum() >= 1  # readable through the main raw folder
    is_extra = kept["participant_id"].str.startswith("extra:").to_numpy()
    for strategy in ("participant", "random", "group_kfold"):
        split_config = type(params.split)(**{**params.split.__dict__, "strategy": strategy, "folds": 2})
        splits = assign_splits(kept, split_config, seed=0)
        assert (splits[is_extra] == "train").all()
        assert {"valid", "test"} <= set(splits[~is_extra])
    without = assign_splits(kept[~is_extra], params.split, 0)
    with_extra = assign_splits(kept, params.split, 0)
    np.testing.assert_array_equal(with_extra[~is_extra], without)  # extra data does not move the main data's splits


def test_extra_dir_with_unknown_sign_or_no_index(tmp_path, make_params, video_dataset):
    extra, _ = video_dataset
    params = load_params(make_params(tmp_path / "params.yaml"))
    generate_sample(tmp_path / "raw", params.sample, params.seed)
    with pytest.raises(AslError, match="index file not found"):
        read_training_index(tmp_path / "raw", [str(tmp_path / "nowhere")])
    bad = tmp_path / "bad"
    shutil.copytree(extra, bad)
    read_index(extra).assign(sign="notasign").to_csv(bad / INDEX_FILE, index=False)
    index = read_training_index(tmp_path / "raw", [str(bad)])  # an unknown sign is a recording's problem, not fatal
    recordings = scan_recordings(index, tmp_path / "raw", read_sign_map(tmp_path / "raw"), ("x", "y"), 1).recordings
    extra = recordings[recordings["participant_id"].str.startswith("extra:")]
    assert len(extra) == 2 and set(extra["problem"]) == {"unknown_sign"}
    assert "sign 'notasign' is not in the sign map" in extra["detail"].iat[0]
    assert (recordings["problem"][~recordings.index.isin(extra.index)] == "").all()


def test_clean_and_preprocess_stages_take_the_extra_rows(video_dataset, make_params, tmp_path):
    extra, _ = video_dataset
    params = make_params(tmp_path / "params.yaml", extra_raw_dirs=[str(extra)])
    generate_sample(tmp_path / "raw", load_params(params).sample, 0)
    stages = Path(__file__).resolve().parents[2] / "stages"
    for stage, *arguments in (
        ("clean", "--recordings", tmp_path / "recordings.csv", "--sign-stats", tmp_path / "stats.csv",
         "--landmark-means", tmp_path / "means.csv"),
        ("preprocess", "--recordings", tmp_path / "recordings.csv", "--values", tmp_path / "values.npy", "--meta",
         tmp_path / "meta.csv", "--sign-map", tmp_path / "map.json"),
    ):
        result = subprocess.run([sys.executable, str(stages / f"{stage}.py"), "--params", str(params), "--raw-dir",
                                 str(tmp_path / "raw"), *map(str, arguments)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
    meta = pd.read_csv(tmp_path / "meta.csv", dtype=str)
    extra_meta = meta[meta["participant_id"].str.startswith("extra:")]
    assert len(extra_meta) >= 1 and set(extra_meta["sign"]) <= {"airplane", "brother"}
    store = open_store(tmp_path / "values.npy", pd.read_csv(tmp_path / "meta.csv"))
    assert all(np.isfinite(store.sequence(row)).any() for row in extra_meta.index)
