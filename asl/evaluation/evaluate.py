"""Scoring a trained model on the test split: metrics, per-participant accuracy, predictions, report."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.metrics import classification_report

from asl.data.processed import ProcessedData
from asl.data.splits import assign_splits
from asl.errors import AslError
from asl.evaluation.metrics import accuracy_by_group, classification_metrics
from asl.inference.predictor import Predictor
from asl.params import Params


@dataclass(frozen=True)
class Evaluation:
    metrics: dict  # exactly the keys of metrics/eval.json
    predictions: pd.DataFrame  # sequence_id, participant_id, actual, predicted, probability
    report: str  # scikit-learn's classification report


def evaluate(predictor: Predictor, data: ProcessedData, params: Params) -> Evaluation:
    split = assign_splits(data.meta, params.split, params.seed)
    rows = np.flatnonzero(split == "test")
    if len(rows) == 0:
        raise AslError(f"the {params.split.strategy} split left no test sequences; adjust split.* in params.yaml")
    probabilities = predictor.predict_probabilities(data.values, rows, params.evaluate.batch_size)
    labels = data.labels[rows]
    test = data.meta.iloc[rows]
    scores = classification_metrics(labels, probabilities, params.evaluate.top_k)
    metrics = {
        "accuracy": scores["accuracy"],
        "top5_accuracy": scores[f"top{params.evaluate.top_k}_accuracy"],
        "loss": scores["loss"],
        "f1_macro": scores["f1_macro"],
        "precision_macro": scores["precision_macro"],
        "recall_macro": scores["recall_macro"],
        "auc_macro": scores["auc_macro"],
        "per_participant": accuracy_by_group(labels, probabilities, test["participant_id"].to_numpy()),
        "split_strategy": params.split.strategy,
        "n_test": int(len(rows)),
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
    return Evaluation(metrics, predictions, report)
