"""Shared fixtures: the real data in ../shared (required in CI), and small raw datasets written on the fly."""

from __future__ import annotations

import inspect
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def _shared(path: Path) -> Path:
    if not path.exists():
        if os.environ.get("ASL_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing, and ASL_REQUIRE_SHARED is set (CI must test on the real data)")
        pytest.skip(f"{path} is not here (the real data lives in ../shared beside the checkout)")
    return path


#: Modules (or module::function, all parametrisations) whose tests take 5 s or more on a 2-core machine
#: (measured with `-o console_output_style=times` and --durations).
SLOW = {
    "tests/data/test_sample.py",
    "tests/data/test_tf_preprocess.py",
    "tests/evaluation/test_report.py",
    "tests/evaluation/test_visualize.py",
    "tests/inference/test_geometry.py",
    "tests/inference/test_onnx_export.py",
    "tests/inference/test_tflite_export.py",
    "tests/inference/test_video.py",
    "tests/inference/test_video_dataset.py",
    "tests/models/test_conv1d_frameworks_agree.py",
    "tests/models/test_conv1d_transformer.py",
    "tests/models/test_frameworks_agree.py",
    "tests/training/test_determinism.py",
    "tests/training/test_lightning_trainer.py",
    "tests/training/test_tf_training.py",
    "tests/tune/test_search.py",
    "tests/test_dvc.py",
    "tests/test_pipeline.py",
    "tests/models/test_tf_models.py::test_training_steps_lower_the_loss",
    "tests/models/test_tf_models.py::test_the_compiled_model_predicts_as_the_model_does_for_any_batch_size",
    "tests/test_check.py::test_the_check_stage_names_renamed_keys_of_an_older_params_file",
    "tests/test_check.py::test_the_check_stage_fails_with_one_error_line_per_problem_and_writes_nothing",
    "tests/test_faults.py::test_killed_training_is_marked_unfinished_and_resumes_to_the_same_model",
    "tests/test_faults.py::test_pipeline_completes_beside_corrupt_files_and_the_report_names_each",
    "tests/test_faults.py::test_killed_preprocess_leaves_no_output_and_reruns_byte_identical",
    "tests/training/test_dropout.py::test_a_tensorflow_model_trains_with_its_configured_dropout",
    "tests/data/test_augment.py::test_compiled_augmentation_equals_eager_in_one_graph_for_batches_of_any_size",
}
TENSORFLOW_CODE = re.compile(r"^\s*(import|from) (tensorflow|keras)\b|asl\.(models\.tf|training\.tf_trainer|data\.tf_)"
                             r"|tflite", re.MULTILINE)
VIDEO_CODE = re.compile(r"^\s*(import|from) (cv2|mediapipe)\b|asl\.inference\.(extract|live|predict_video)\b"
                        r"|extract_video|HolisticExtractor", re.MULTILINE)


def _source(function) -> str:
    try:
        return inspect.getsource(function)
    except (OSError, TypeError):
        return ""


def pytest_collection_modifyitems(items):
    """Mark each test by what it needs (see pyproject's markers), so `-m "not slow and ..."` picks a quick loop:
    real_data (the ../shared fixtures), tensorflow and video (code or parameters that use them), gpu (a CUDA
    device parameter), slow (SLOW)."""
    modules: dict[Path, str] = {}
    for item in items:
        path = Path(item.fspath)
        module = modules.setdefault(path, "\n".join(line for line in path.read_text().splitlines()
                                                    if line.startswith(("import ", "from "))))  # its imports
        code = module + _source(getattr(item, "function", None))
        params = [str(value) for value in getattr(getattr(item, "callspec", None), "params", {}).values()]
        fixtures = set(item.fixturenames)
        name = f"{path.relative_to(REPO).as_posix()}::{item.originalname}"
        if fixtures & {"gislr_sample", "shared_videos"}:
            item.add_marker(pytest.mark.real_data)
        if TENSORFLOW_CODE.search(code) or "tensorflow" in params:
            item.add_marker(pytest.mark.tensorflow)
        if VIDEO_CODE.search(code) or "shared_videos" in fixtures:
            item.add_marker(pytest.mark.video)
        if any(value.startswith("cuda") for value in params):
            item.add_marker(pytest.mark.gpu)
        if name in SLOW or name.split("::")[0] in SLOW:
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def gislr_sample() -> Path:
    """Real competition files: the full train.csv, the sign map and 267 hello/thankyou recordings."""
    return _shared(SHARED_DATA / "gislr-sample")


@pytest.fixture(scope="session")
def shared_videos() -> Path:
    return _shared(SHARED_DATA / "videos")


def landmark_table(values, first_frame: int = 17):
    """A Kaggle-schema table for raw values (T, 543, 3) (NaN where missing)."""
    import numpy as np
    import pyarrow as pa

    from asl.data.raw import PARQUET_SCHEMA
    from asl.landmarks import ROWS_PER_FRAME, frame_layout

    frames = len(values)
    types, indices = frame_layout()
    frame = np.repeat(np.arange(first_frame, first_frame + frames, dtype=np.int16), ROWS_PER_FRAME)
    type_column = np.tile(types, frames)
    index_column = np.tile(indices, frames)
    row_id = [f"{f}-{t}-{i}" for f, t, i in zip(frame, type_column, index_column)]
    flat = values.reshape(-1, 3).astype(np.float64)
    return pa.table([frame, row_id, type_column.astype(str), index_column, flat[:, 0], flat[:, 1], flat[:, 2]],
                    schema=PARQUET_SCHEMA)


@pytest.fixture
def write_landmarks():
    """Write a landmark parquet file from values (T, 543, 3); returns its path."""
    import pyarrow.parquet as pq

    def write(path: Path, values, first_frame: int = 17) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(landmark_table(values, first_frame), path)
        return path

    return write


@pytest.fixture
def random_landmarks():
    """Random raw values (T, 543, 3) with both hands present in every frame, and a generator for more."""
    import numpy as np

    def make(frames: int, seed: int = 0):
        return np.random.default_rng(seed).uniform(0.2, 0.8, size=(frames, 543, 3))

    return make
