"""Reading the Kaggle layout, and the bad-input messages."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from asl.data.raw import (LandmarkFileError, check_signs_in_map, read_index, read_landmarks, read_sign_map,
                          validate_landmark_file)
from asl.errors import AslError


def test_reads_only_coordinates_reshaped_per_frame(tmp_path, write_landmarks, random_landmarks):
    values = random_landmarks(5)
    path = write_landmarks(tmp_path / "a.parquet", values, first_frame=40)
    sequence = read_landmarks(path, ["x", "y"])
    assert sequence.values.shape == (5, 543, 2) and sequence.values.dtype == np.float32
    assert sequence.frame_numbers.tolist() == [40, 41, 42, 43, 44]
    np.testing.assert_allclose(sequence.values, values[..., :2], rtol=1e-6)
    assert validate_landmark_file(path) == 5


def test_file_without_x_column(tmp_path, write_landmarks, random_landmarks):
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(2))
    pq.write_table(pq.read_table(path).drop_columns(["x"]), path)
    with pytest.raises(LandmarkFileError, match=r"a\.parquet: missing column\(s\) x"):
        read_landmarks(path)


def test_row_count_not_a_multiple_of_543(tmp_path, write_landmarks, random_landmarks):
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(2))
    pq.write_table(pq.read_table(path).slice(0, 1000), path)
    with pytest.raises(LandmarkFileError, match=r"a\.parquet: 1000 rows is not a positive multiple of 543"):
        read_landmarks(path)


def test_empty_and_corrupt_files(tmp_path):
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    with pytest.raises(LandmarkFileError, match=r"empty\.parquet: not a readable parquet file"):
        read_landmarks(empty)
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet PAR1")
    with pytest.raises(LandmarkFileError, match=r"corrupt\.parquet: not a readable parquet file"):
        read_landmarks(corrupt)
    with pytest.raises(LandmarkFileError, match="file not found"):
        read_landmarks(tmp_path / "absent.parquet")


def test_validation_catches_rows_out_of_layout(tmp_path, write_landmarks, random_landmarks):
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(2))
    table = pq.read_table(path)
    swapped = table.set_column(2, "type", pa.array(["pose"] * table.num_rows))
    pq.write_table(swapped, path)
    with pytest.raises(LandmarkFileError, match="not in the Holistic layout"):
        validate_landmark_file(path)


def test_index_without_sign_column(tmp_path):
    pd.DataFrame({"path": ["a"], "participant_id": [1], "sequence_id": [2]}).to_csv(tmp_path / "train.csv",
                                                                                   index=False)
    with pytest.raises(AslError, match=r"train\.csv: missing column\(s\) sign"):
        read_index(tmp_path)


def test_sign_missing_from_map(tmp_path):
    index = pd.DataFrame({"path": ["a", "b"], "participant_id": ["1", "1"], "sequence_id": ["2", "3"],
                          "sign": ["hello", "snorkel"]})
    (tmp_path / "sign_to_prediction_index_map.json").write_text(json.dumps({"hello": 0, "bye": 1}))
    with pytest.raises(AslError, match=r"sign\(s\) not in sign_to_prediction_index_map\.json: 'snorkel'"):
        check_signs_in_map(index, read_sign_map(tmp_path), tmp_path / "train.csv")


def test_real_competition_files(gislr_sample):
    index = read_index(gislr_sample)
    assert len(index) == 94477 and index["sign"].nunique() == 250
    sign_map = read_sign_map(gislr_sample)
    assert sign_map["TV"] == 0 and sign_map["zipper"] == 249
    check_signs_in_map(index, sign_map, gislr_sample / "train.csv")
    files = sorted((gislr_sample / "train_landmark_files").glob("*/*.parquet"))[:5]
    for path in files:
        frames = validate_landmark_file(path)
        sequence = read_landmarks(path, ["x", "y", "z"])
        assert sequence.values.shape == (frames, 543, 3)
        assert sequence.frame_numbers[0] != 0 or frames == 1
