"""The report stage: figures are real PNGs, report.md says what eval.json says, bad inputs name the file."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from asl.errors import AslError
from asl.evaluation import plots
from asl.evaluation.report import load_eval_metrics, load_report_inputs, load_training_history, write_report
from asl.landmarks import group_rows
from asl.params import load_params

REPO = Path(__file__).resolve().parents[2]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
METRICS = ("loss", "accuracy", "f1_macro", "precision_macro", "recall_macro")


def eval_metrics(strategy: str = "participant") -> dict:
    return {
        "accuracy": 0.8125,
        "accuracy_ci95": [0.7512, 0.8743],
        "top5_accuracy": 0.9375,
        "loss": 0.6931,
        "f1_macro": 0.7777,
        "precision_macro": 0.7891,
        "recall_macro": 0.7654,
        "auc_macro": None,
        "per_participant": {"16069": 0.75, "2044": 0.875},
        "split_strategy": strategy,
        "n_test": 16,
        "n_unscorable": 2,
        "n_missing": 3,
    }


ROBUSTNESS = {"clean": 0.8125, "frame_drop_25": 0.75, "frame_drop_50": 0.625, "speed_0.5x": 0.8125,
              "speed_2x": 0.6875, "noise_1pct": 0.8125, "mirrored": 0.5, "lips_missing": 0.75}


def clean_report(dropped: dict[str, dict[str, int]], examples: dict | None = None) -> dict:
    """A split stage report with the given drop counts per split."""
    splits = {name: {"rows": 40 + sum(reasons.values()), "kept": 40, "dropped": reasons,
                     "examples": (examples or {}).get(name, {})} for name, reasons in dropped.items()}
    total: dict[str, int] = {}
    for reasons in dropped.values():
        for reason, count in reasons.items():
            total[reason] = total.get(reason, 0) + count
    return {"n_index_rows": sum(s["rows"] for s in splits.values()), "n_kept": 40 * len(splits),
            "dropped": total, "splits": splits}


def write_inputs(folder: Path, n_signs: int, strategy: str = "participant") -> dict[str, Path]:
    """Small files in every input format of the report; recall_macro is absent from the training log."""
    rng = np.random.default_rng(0)
    signs = [f"sign{i:03d}" for i in range(n_signs)] + ["null"]  # "null" must stay a sign name, not NaN
    log = folder / "dvclive" / "plots" / "metrics"
    for split in ("train", "valid"):
        for name in METRICS[:-1]:
            (log / split).mkdir(parents=True, exist_ok=True)
            values = rng.random(5)
            rows = "".join(f"{1700000000000 + step}\t{step}\t{v:.4f}\n" for step, v in enumerate(values))
            (log / split / f"{name}.tsv").write_text(f"timestamp\tstep\t{name}\n{rows}")
    (log / "learning_rate.tsv").write_text("timestamp\tstep\tlearning_rate\n1\t0\t0.001\n2\t1\t0.0009\n")
    meta = pd.DataFrame({"sign": rng.choice(signs, size=6 * len(signs))})
    meta["sequence_id"] = [str(1000 + i) for i in range(len(meta))]
    meta["participant_id"] = rng.choice(["2044", "16069", "26734"], size=len(meta))
    meta["label"] = meta["sign"].map({s: i for i, s in enumerate(signs)})
    meta["path"] = "data/processed/sequences.npy"
    meta["original_frames"] = rng.integers(8, 120, size=len(meta))
    meta["usable_frames"] = meta["dropped_frames"] = meta["original_frames"]
    test = meta.head(16)
    predictions = test[["sequence_id", "participant_id"]].assign(
        actual=test["sign"], predicted=np.where(np.arange(16) % 4 == 0, "null", test["sign"]), probability=0.5
    )
    clean = clean_report(
        {"train": {"too_short": 7}, "valid": {}, "test": {"missing_file": 3, "unreadable_file": 2}},
        {"train": {"too_short": [{"path": "a/b.parquet", "participant_id": "2044", "sign": "null", "detail": "3|8"}]}},
    )
    paths = {
        "eval": folder / "eval.json",
        "predictions": folder / "predictions.csv",
        "train_log": folder / "dvclive",
        "meta": folder / "meta.csv",
        "clean_report": folder / "clean_report.json",
        "robustness": folder / "robustness.json",
    }
    paths["robustness"].write_text(json.dumps(ROBUSTNESS))
    paths["eval"].write_text(json.dumps(eval_metrics(strategy)))
    predictions.to_csv(paths["predictions"], index=False)
    meta.to_csv(paths["meta"], index=False)
    paths["clean_report"].write_text(json.dumps(clean))
    return paths


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, path
    assert len(data) > 2000, path


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """One full report over 250 signs, shared by the tests that only read it."""
    folder = tmp_path_factory.mktemp("report")
    paths = write_inputs(folder, n_signs=250)
    inputs = load_report_inputs(
        paths["eval"], paths["predictions"], paths["train_log"], paths["meta"], paths["clean_report"],
        paths["robustness"],
    )
    return write_report(
        inputs.eval_metrics,
        inputs.predictions,
        inputs.history,
        inputs.meta,
        inputs.clean_report,
        inputs.robustness,
        folder / "out",
        "Test report: LSTMPredictor (pytorch)",
    )


def test_every_figure_is_a_png_and_linked(report):
    text = report.read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    names = ("data_distribution", "clean_drops", "training_curves", "confusion_matrix", "accuracy_per_sign")
    assert sorted(links) == sorted(f"figures/{name}.png" for name in names)
    for link in links:
        assert_png(report.parent / link)
    assert not list(report.parent.rglob(".*tmp*")), "temporary files left behind"


def test_report_states_metrics_split_and_data(report):
    text = report.read_text()
    assert text.startswith("# Test report: LSTMPredictor (pytorch)")
    for value in ("0.8125", "0.9375", "0.6931", "0.7777", "0.7891", "0.7654", "| n_test | 16 |", "| auc_macro | n/a |"):
        assert value in text
    assert "**participant**" in text
    assert "overstates accuracy" not in text
    assert "| 2044 |" in text and "| 16069 |" in text and "0.8750" in text
    assert "1506 preprocessed sequences of 251 signs by 3 participants" in text
    assert "120 of 132 index rows used, 12 not" in text
    assert "| split | rows | used | missing_file | too_short | unreadable_file |" in text
    assert "| train | 47 | 40 | 0 | 7 | 0 |" in text and "| test | 45 | 40 | 3 | 0 | 2 |" in text
    assert "| train | too_short | a/b.parquet |" in text and "3\\|8" in text
    assert "| accuracy_ci95 | [0.7512, 0.8743] (bootstrap over test participants) |" in text
    assert "16 test recordings scored; 2 could not be used (file unreadable or malformed) and 3 are missing" in text


def test_report_has_the_robustness_table(report):
    text = report.read_text()
    assert "| perturbation | accuracy | change |" in text
    assert "| clean | 0.8125 | 0.0000 |" in text and "| mirrored | 0.5000 | -0.3125 |" in text


def test_random_split_warns(tmp_path):
    paths = write_inputs(tmp_path, n_signs=4, strategy="random")
    metrics = load_eval_metrics(paths["eval"])
    predictions = pd.DataFrame(
        {"sequence_id": ["1", "2"], "participant_id": ["2044"] * 2, "actual": ["a", "b"], "predicted": ["a", "a"]}
    )
    meta = pd.DataFrame({"sign": ["a"], "participant_id": ["2044"], "original_frames": [10]})
    clean = clean_report({"train": {}, "valid": {}, "test": {}})
    report = write_report(metrics, predictions, {}, meta, clean, ROBUSTNESS, tmp_path / "out", "t")
    text = report.read_text()
    assert "**random**" in text
    assert "overstates accuracy on GISLR by about ten points" in text
    for name in ("training_curves.png", "clean_drops.png"):  # the empty cases still give a figure
        assert_png(tmp_path / "out" / "figures" / name)


def test_one_test_participant_gives_no_interval_and_says_why(tmp_path):
    paths = write_inputs(tmp_path, n_signs=4)
    metrics = {**load_eval_metrics(paths["eval"]), "accuracy_ci95": None, "accuracy_ci95_low": None,
               "accuracy_ci95_high": None}
    predictions = pd.DataFrame(
        {"sequence_id": ["1", "2"], "participant_id": ["2044"] * 2, "actual": ["a", "b"], "predicted": ["a", "a"]}
    )
    meta = pd.DataFrame({"sign": ["a"], "participant_id": ["2044"], "original_frames": [10]})
    clean = clean_report({"train": {}, "valid": {}, "test": {}})
    text = write_report(metrics, predictions, {}, meta, clean, ROBUSTNESS, tmp_path / "out", "t").read_text()
    assert "| accuracy_ci95 | none: one test participant (the bootstrap resamples participants) |" in text


def test_training_history_skips_missing_metrics(tmp_path):
    paths = write_inputs(tmp_path, n_signs=2)
    history = load_training_history(paths["train_log"])
    assert "train/recall_macro" not in history
    assert {"train/loss", "valid/accuracy", "learning_rate"} <= set(history)
    assert list(history["valid/loss"]["step"]) == [0, 1, 2, 3, 4]
    assert_png(plots.plot_training_curves(history, tmp_path / "curves.png"))


def test_confusion_matrix_few_signs(tmp_path):
    path = plots.plot_confusion_matrix(["a", "b", "b"], ["a", "a", "b"], tmp_path / "sub" / "cm.png")
    assert_png(path)


def test_missing_eval_names_the_file(tmp_path):
    with pytest.raises(AslError, match=re.escape(str(tmp_path / "eval.json"))):
        load_eval_metrics(tmp_path / "eval.json")


def test_eval_missing_key_names_file_and_key(tmp_path):
    metrics = eval_metrics()
    del metrics["f1_macro"]
    (tmp_path / "eval.json").write_text(json.dumps(metrics))
    with pytest.raises(AslError, match=r"eval\.json: missing key 'f1_macro'"):
        load_eval_metrics(tmp_path / "eval.json")


def stage_command(paths: dict[str, Path], out: Path) -> list[str]:
    command = [sys.executable, str(REPO / "stages" / "report.py"), "--params", str(REPO / "params.yaml")]
    for option, path in paths.items():
        command += [f"--{option.replace('_', '-')}", str(path)]
    return command + ["--out", str(out)]


def test_stage_writes_report_titled_from_params(tmp_path):
    paths = write_inputs(tmp_path, n_signs=3)
    result = subprocess.run(stage_command(paths, tmp_path / "out"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "report.md").read_text()
    params = load_params(REPO / "params.yaml")
    assert re.match(rf"# .*{params.model} \({params.framework}\)", text)


def test_stage_with_values_animates_the_most_frequent_sign(tmp_path):
    from PIL import Image

    paths = write_inputs(tmp_path, n_signs=3)
    meta = pd.read_csv(paths["meta"], dtype=str, keep_default_na=False)
    paths["values"] = tmp_path / "landmarks.npy"  # a store of params.yaml's groups: 7 frames of each recording
    meta["offset"], meta["length"] = np.arange(len(meta)) * 7, 7
    meta.to_csv(paths["meta"], index=False)
    landmarks = len(group_rows(load_params(REPO / "params.yaml").preprocess.landmarks))
    np.save(paths["values"], np.random.default_rng(0).uniform(0.2, 0.8, (len(meta) * 7, landmarks, 2)).astype(np.float32))
    result = subprocess.run(stage_command(paths, tmp_path / "out"), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "out" / "report.md").read_text()
    sign = sorted(meta["sign"].value_counts().pipe(lambda c: c[c == c.max()]).index)[0]
    assert f"### One sign: {sign}" in text and f"![{sign} animated](figures/sign_animation.gif)" in text
    assert "![Data distribution](figures/data_distribution.png)" in text
    with Image.open(tmp_path / "out" / "figures" / "sign_animation.gif") as gif:
        assert gif.n_frames == load_params(REPO / "params.yaml").preprocess.frames  # the seed models' input


def test_stage_with_missing_input_exits_cleanly(tmp_path):
    paths = write_inputs(tmp_path, n_signs=2)
    paths["meta"].unlink()
    result = subprocess.run(stage_command(paths, tmp_path / "out"), capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert str(paths["meta"]) in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "report.md").exists()


def test_training_history_reads_what_dvclive_writes(tmp_path):
    from dvclive import Live

    live = Live(dir=str(tmp_path / "dvclive"), dvcyaml=None, save_dvc_exp=False, report=None)
    for epoch in range(3):
        for split in ("train", "valid"):
            live.log_metric(f"{split}/loss", 1.0 / (epoch + 1))
        live.log_metric("learning_rate", 0.001)
        live.next_step()
    live.end()
    history = load_training_history(tmp_path / "dvclive")
    assert set(history) == {"train/loss", "valid/loss", "learning_rate"}
    assert history["valid/loss"]["loss"].tolist() == pytest.approx([1.0, 0.5, 1 / 3])
