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


def flat(mapping: dict, prefix: str = "") -> dict:
    """{dotted key: value} of a nested mapping."""
    items = {}
    for key, value in mapping.items():
        items.update(flat(value, f"{prefix}{key}.") if isinstance(value, dict) else {f"{prefix}{key}": value})
    return items


def changed_keys(path: Path) -> dict:
    before, after = flat(load_params(REPO / "params.yaml").models), flat(load_params(path).models)
    return {key: after[key] for key in after if before.get(key) != after[key]}


SET = {"TransformerPredictor.num_heads": 4, "TransformerSequenceClassifier.optimizer.learning_rate": 0.01,
       "HybridModel.transformer.num_layers": 3}


def test_shared_blocks_are_written_once_and_merged_into_each_model():
    text = (REPO / "params.yaml").read_text()
    assert text.count("num_heads: 8") == 2  # the transformer's block and YetAnotherTransformer's
    models = load_params(REPO / "params.yaml").models
    assert models["TransformerSequenceClassifier"] == models["TransformerPredictor"]
    assert models["HybridModel"]["transformer"]["num_heads"] == 8 and models["HybridModel"]["lstm"]["num_layers"] == 1


def test_dvc_set_param_on_a_merged_key_changes_that_model_alone(tmp_path):
    hydra = pytest.importorskip("dvc.utils.hydra")
    path = tmp_path / "params.yaml"
    path.write_text((REPO / "params.yaml").read_text())
    hydra.apply_overrides(path, [f"models.{key}={value}" for key, value in SET.items()])  # `dvc exp run -S`
    assert changed_keys(path) == SET


def test_the_tuner_writes_a_merged_key_into_that_model_alone(tmp_path):
    pytest.importorskip("ruamel.yaml")
    from asl.tune.best import apply_params

    path, fragment = tmp_path / "params.yaml", tmp_path / "best.yaml"
    path.write_text((REPO / "params.yaml").read_text())
    fragment.write_text(yaml.safe_dump({f"models.{key}": value for key, value in SET.items()}))
    apply_params(fragment, path)
    assert changed_keys(path) == SET
    assert "<<: &transformer\n" in path.read_text()  # the blocks stay written once
