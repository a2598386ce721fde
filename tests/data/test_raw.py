"""Reading the Kaggle layout, and the bad-input messages."""

import ctypes
import functools
import gc
import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from asl.data import raw
from asl.data.parallel import MALLOC_ARENAS, _imap, map_files_in_order, read_files_ahead
from asl.data.raw import (LandmarkFileError, check_signs_in_map, read_cleaned_values, read_coordinate_table,
                          read_index, read_landmark_table, read_landmarks, read_sign_map, validate_landmark_file)
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


def test_footer_read_alone_and_pyarrows_word_on_a_bad_one(tmp_path, write_landmarks, random_landmarks):
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(2))
    assert raw._footer(path).equals(pq.read_metadata(path))
    data = path.read_bytes()
    length = int.from_bytes(data[-8:-4], "little")
    path.write_bytes(data[:-8 - length] + b"\xff" * length + data[-8:])  # a footer of the right size, garbled
    assert raw._footer(path) is None
    with pytest.raises(OSError) as pyarrow_error:
        pq.ParquetFile(path)
    with pytest.raises(LandmarkFileError, match=re.escape(f"not a readable parquet file ({pyarrow_error.value})")):
        read_landmarks(path)


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


def read_outcome(path, ahead=None):
    """What `read_landmarks` gives for a file (read ahead: from the future of its `read_landmark_table`): its frame
    numbers and values, or its error's reason and message."""
    try:
        sequence = read_landmarks(path, ("x", "y", "z"), None if ahead is None else ahead.result())
    except LandmarkFileError as error:
        return error.reason, str(error)
    return sequence.frame_numbers.tolist(), sequence.values


@pytest.mark.parametrize("workers", [1, 2])
def test_files_read_ahead_parse_as_files_read_by_path(tmp_path, write_landmarks, random_landmarks, workers):
    good = [write_landmarks(tmp_path / f"{i}.parquet", random_landmarks(2 + i, seed=i)) for i in range(5)]
    (tmp_path / "empty.parquet").write_bytes(b"")
    (tmp_path / "corrupt.parquet").write_bytes(b"PAR1 this is not parquet PAR1")
    (tmp_path / "folder.parquet").mkdir()
    paths = [good[0], tmp_path / "absent.parquet", good[1], tmp_path / "corrupt.parquet", good[2],
             tmp_path / "empty.parquet", tmp_path / "folder.parquet", *good[3:]]
    expected = [read_outcome(path) for path in paths]
    assert [outcome[0] for outcome in expected[1:7:2]] == ["missing_file", "unreadable_file", "unreadable_file"]
    read_table = functools.partial(read_landmark_table, coordinates=("x", "y", "z"))
    read = map_files_in_order(read_outcome, paths, read_table, workers, "test", chunk_size=3, read_ahead=2)
    for (first, second), (expected_first, expected_second) in zip(read, expected, strict=True):
        assert first == expected_first
        np.testing.assert_array_equal(second, expected_second)


def test_read_ahead_keeps_order_and_bounds_files_in_flight(tmp_path):
    paths = [tmp_path / f"{i}.bin" for i in range(7)]
    for i, path in enumerate(paths):
        path.write_bytes(bytes([i]) * (i + 1))
    started = []
    reader = read_files_ahead([*paths, tmp_path / "absent.bin"], lambda path: started.append(path) or
                              path.read_bytes(), window=3)
    path, ahead = next(reader)
    assert (path, ahead.result()) == (paths[0], b"\x00")
    assert len(started) <= 3  # the first file, and at most two more read ahead
    rest = list(reader)
    assert [path for path, _ in rest] == [*paths[1:], tmp_path / "absent.bin"]
    assert [ahead.result() for _, ahead in rest[:-1]] == [bytes([i]) * (i + 1) for i in range(1, 7)]
    with pytest.raises(FileNotFoundError):  # the read's error, raised where its result is taken
        rest[-1][1].result()
    assert sorted(started) == sorted([*paths, tmp_path / "absent.bin"])  # each read once


def test_landmark_table_holds_only_the_columns_read(tmp_path, write_landmarks, random_landmarks):
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(3))
    table = read_landmark_table(path, ("x", "y"))
    assert table.column_names == ["frame", "type", "landmark_index", "x", "y"]
    assert pa.types.is_dictionary(table.schema.field("type").type)
    by_path, from_table = read_landmarks(path, ("x", "y")), read_landmarks(path, ("x", "y"), table)
    np.testing.assert_array_equal(by_path.values, from_table.values)
    np.testing.assert_array_equal(by_path.frame_numbers, from_table.frame_numbers)


def test_a_cleaned_file_is_read_again_by_its_coordinates_alone(tmp_path, write_landmarks, random_landmarks):
    """What preprocessing reads of a file cleaning validated: the same values, from the coordinate columns only,
    still checked for whole frames and values in range."""
    path = write_landmarks(tmp_path / "a.parquet", random_landmarks(4))
    table = read_coordinate_table(path, ("x", "z"))
    assert table.column_names == ["x", "z"]
    np.testing.assert_array_equal(read_cleaned_values(path, ("x", "z"), table),
                                  read_landmarks(path, ("x", "z")).values)
    garbage = random_landmarks(4)
    garbage[2, 7, 0] = 1e30
    with pytest.raises(LandmarkFileError, match=r"b\.parquet: coordinate out of range .* x = 1e\+30 at frame 2"):
        read_cleaned_values(write_landmarks(tmp_path / "b.parquet", garbage))
    half = pq.read_table(path).slice(0, 600)  # a frame and a part
    pq.write_table(half, tmp_path / "c.parquet")
    with pytest.raises(LandmarkFileError, match=r"c\.parquet: 600 rows is not a positive multiple of 543"):
        read_cleaned_values(tmp_path / "c.parquet")


def frozen_objects(_) -> int:
    return gc.get_freeze_count()


def test_objects_from_before_the_fork_stay_out_of_every_collection_while_the_pool_lives():
    """Workers and parent leave the objects that exist at the fork out of their garbage collections (which would write
    to them, copying every page they share) until the pool is gone, whether it ran to its end or was left early."""
    results = _imap(frozen_objects, range(4), workers=2, chunk_size=1)
    assert next(results) > 0 and gc.get_freeze_count() > 0
    assert all(count > 0 for count in results)
    assert gc.get_freeze_count() == 0
    left_early = _imap(frozen_objects, range(4), workers=2, chunk_size=1)
    next(left_early)
    left_early.close()
    assert gc.get_freeze_count() == 0


def malloc_arenas(threads: int) -> int:
    """The malloc arenas (glibc's `malloc_info` heaps) of this process once `threads` threads have each allocated."""
    started = threading.Barrier(threads + 1)
    done = threading.Event()

    def allocate() -> None:
        held = bytearray(1 << 16)  # past Python's small-object allocator: a malloc in this thread
        started.wait()
        done.wait()
        del held

    workers = [threading.Thread(target=allocate) for _ in range(threads)]
    for worker in workers:
        worker.start()
    started.wait()
    libc = ctypes.CDLL(None)
    libc.open_memstream.restype = ctypes.c_void_p
    buffer, size = ctypes.c_char_p(), ctypes.c_size_t()
    stream = libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
    libc.malloc_info(0, ctypes.c_void_p(stream))
    libc.fclose(ctypes.c_void_p(stream))
    report = buffer.value.decode()
    libc.free(buffer)
    done.set()
    for worker in workers:
        worker.join()
    return report.count("<heap nr=")


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "malloc_info"), reason="glibc's malloc only")
def test_pool_workers_allocate_from_two_malloc_arenas_whatever_their_threads():
    """In a fresh process, as a stage runs its pool (one that has made more arenas before keeps them)."""
    count_in_workers = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); "
                        "from test_raw import malloc_arenas; from asl.data.parallel import _imap; "
                        "print(*_imap(malloc_arenas, [8, 8], workers=2, chunk_size=1))")
    run = subprocess.run([sys.executable, "-c", count_in_workers], capture_output=True, text=True, check=True)
    assert run.stdout.split() == [str(MALLOC_ARENAS)] * 2
