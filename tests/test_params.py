from pathlib import Path

import pytest
import yaml

from asl.errors import AslError
from asl.params import load_params

REPO = Path(__file__).resolve().parents[1]


def write_params(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load((REPO / "params.yaml").read_text())
    change(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def test_repository_params_load():
    params = load_params(REPO / "params.yaml")
    assert params.preprocess.frames == 32
    assert params.split.strategy == "participant"
    assert params.model in params.models


def test_misspelt_key_names_it_and_the_valid_keys(tmp_path):
    path = write_params(tmp_path, lambda raw: raw["train"].update(epocs=3))
    with pytest.raises(AslError, match=r"train\.epocs.*valid keys are .*epochs"):
        load_params(path)


def test_wrong_type_names_key_and_value(tmp_path):
    path = write_params(tmp_path, lambda raw: raw["preprocess"].update(frames="thirty"))
    with pytest.raises(AslError, match=r"preprocess\.frames must be of type int, got 'thirty'"):
        load_params(path)


def test_bad_choice_lists_choices(tmp_path):
    path = write_params(tmp_path, lambda raw: raw["split"].update(strategy="signer"))
    with pytest.raises(AslError, match=r"split\.strategy must be one of participant, random"):
        load_params(path)


def test_missing_key_and_missing_file(tmp_path):
    path = write_params(tmp_path, lambda raw: raw["clean"].pop("min_frames"))
    with pytest.raises(AslError, match=r"missing key 'clean\.min_frames'"):
        load_params(path)
    with pytest.raises(AslError, match="params file not found"):
        load_params(tmp_path / "nope.yaml")
