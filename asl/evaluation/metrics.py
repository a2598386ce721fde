"""Classification metrics from labels and predicted probabilities: one definition for training and evaluation."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import precision_recall_fscore_support, roc_auc_score

from asl.params import METRIC_MODES

#: Metrics logged every epoch for training and validation, and used by early stopping.
EPOCH_METRICS = tuple(METRIC_MODES)


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray, top_k: int = 5) -> dict[str, float | None]:
    """Loss (cross-entropy), accuracy, top-k accuracy, macro precision/recall/F1 and one-vs-rest macro AUC.

    Macro averages run over the classes present in `labels`, so the 250-way output layer does not drag the
    scores down with classes that never occur. AUC is None when fewer than two classes occur.
    """
    labels = np.asarray(labels)
    predicted = probabilities.argmax(axis=1)
    present = np.unique(labels)
    precision, recall, f1, _ = precision_recall_fscore_support(
        labels, predicted, labels=present, average="macro", zero_division=0)
    true_probability = np.clip(probabilities[np.arange(len(labels)), labels], 1e-12, 1.0)
    top = np.argsort(-probabilities, axis=1)[:, :top_k]
    return {
        "loss": float(-np.log(true_probability).mean()),
        "accuracy": float((predicted == labels).mean()),
        f"top{top_k}_accuracy": float((top == labels[:, None]).any(axis=1).mean()),
        "f1_macro": float(f1),
        "precision_macro": float(precision),
        "recall_macro": float(recall),
        "auc_macro": one_vs_rest_auc(labels, probabilities, present),
    }


def one_vs_rest_auc(labels: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> float | None:
    """Mean over the present classes of the AUC of that class's probability against all other rows."""
    if len(classes) < 2:
        return None
    return float(np.mean([roc_auc_score(labels == c, probabilities[:, c]) for c in classes]))


def accuracy_by_group(labels: np.ndarray, probabilities: np.ndarray, groups: np.ndarray) -> dict[str, float]:
    """Accuracy within each group (e.g. participant), keyed by the group's name."""
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    groups = np.asarray(groups).astype(str)
    return {group: float(correct[groups == group].mean()) for group in sorted(set(groups))}
