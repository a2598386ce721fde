"""Scoring a trained model on the whole test split: metrics, per-participant accuracy, predictions, report,
the test recordings that could not be scored, and the accuracy under perturbations of the raw recordings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report

from asl.data.clean import MISSING_FILE
from asl.data.inputs import StoreInputs, checkpoint_pipeline
from asl.data.processed import ProcessedData
from asl.errors import AslError
from asl.evaluation.metrics import evaluation_metrics
from asl.evaluation.robustness import robustness_accuracy
from asl.inference.predictor import Predictor
from asl.params import Params

UNSCORABLE_COLUMNS = ("path", "participant_id", "sequence_id", "sign", "reason", "detail")


@dataclass(frozen=True)
class Evaluation:
    metrics: dict  # exactly the keys of metrics/eval.json
    predictions: pd.DataFrame  # sequence_id, participant_id, actual, predicted, probability
    report: str  # scikit-learn's classification report
    unscorable: pd.DataFrame  # test rows whose file exists but cannot be used: UNSCORABLE_COLUMNS


def scored_rows(data: ProcessedData, params: Params) -> np.ndarray:
    """Rows of the processed data in the test split (every usable test recording)."""
    rows = np.flatnonzero(data.split == "test")
    if len(rows) == 0:
        raise AslError(f"the {params.split.strategy} split left no test sequences; adjust split.* in params.yaml")
    return rows


def evaluate(predictor: Predictor, data: ProcessedData, split_table: pd.DataFrame, params: Params) -> Evaluation:
    """Score every usable test recording; count the test rows that could not be (split.csv's `dropped`)."""
    rows = scored_rows(data, params)
    inputs = StoreInputs(data.store, checkpoint_pipeline(predictor.extras))  # the checkpoint's own transform
    probabilities = predictor.predict_probabilities(inputs, rows, params.evaluate.batch_size)
    labels = data.labels[rows]
    test = data.meta.iloc[rows]
    left_out = split_table[(split_table["split"] == "test") & (split_table["dropped"] != "")]
    missing = left_out["dropped"] == MISSING_FILE
    metrics = {
        **evaluation_metrics(labels, probabilities, test["participant_id"].to_numpy(), params.evaluate, params.seed),
        "split_strategy": params.split.strategy,
        "n_test": int(len(rows)),
        "n_unscorable": int((~missing).sum()),
        "n_missing": int(missing.sum()),
    }
    predicted = probabilities.argmax(axis=1)
    signs = np.array(predictor.signs, dtype=object)
    predictions = pd.DataFrame({
        "sequence_id": test["sequence_id"].to_numpy(), "participant_id": test["participant_id"].to_numpy(),
        "actual": signs[labels], "predicted": signs[predicted],
        "probability": probabilities[np.arange(len(rows)), predicted],
    })
    present = np.unique(np.concatenate([labels, predicted]))
    report = classification_report(labels, predicted, labels=present, target_names=list(signs[present]),
                                   zero_division=0)
    unscorable = left_out[~missing].rename(columns={"dropped": "reason"})[list(UNSCORABLE_COLUMNS)]
    return Evaluation(metrics, predictions, report, unscorable)


def evaluate_robustness(predictor: Predictor, data: ProcessedData, raw_dir: Path, params: Params) -> dict[str, float]:
    """Accuracy on the same test rows with the raw recordings perturbed, turned into input as the checkpoint was
    trained (its input pipeline)."""
    rows = scored_rows(data, params)
    paths = [Path(raw_dir) / path for path in data.meta["path"].iloc[rows]]
    return robustness_accuracy(predictor, paths, data.labels[rows], checkpoint_pipeline(predictor.extras),
                               params.seed, params.evaluate.batch_size)
