"""Classification metrics from labels and predicted probabilities: one definition for training and evaluation."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from asl.errors import AslError
from asl.params import METRIC_MODES, EvaluateConfig

#: Metrics logged every epoch for training and validation, and used by early stopping.
EPOCH_METRICS = tuple(METRIC_MODES)
CONFIDENCE_LEVEL = 0.95


def top_k_accuracy(labels: np.ndarray, probabilities: np.ndarray, k: int) -> float:
    """Share of rows whose label is among the k most probable classes."""
    top = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float((top == np.asarray(labels)[:, None]).any(axis=1).mean())


def classification_metrics(labels: np.ndarray, probabilities: np.ndarray, top_k: int = 5) -> dict[str, float | None]:
    """Loss (cross-entropy), accuracy, top-5 accuracy (and top-`top_k` when `top_k` is not 5), macro
    precision/recall/F1 and one-vs-rest macro AUC.

    Macro averages run over the classes present in `labels`, so the 250-way output layer does not drag the
    scores down with classes that never occur. AUC is None when fewer than two classes occur.
    """
    labels = np.asarray(labels)
    top = {f"top{k}_accuracy": top_k_accuracy(labels, probabilities, k) for k in dict.fromkeys((5, top_k))}
    scores = epoch_scores(labels, probabilities)
    return {"loss": scores["loss"], "accuracy": scores["accuracy"], **top, "f1_macro": scores["f1_macro"],
            "precision_macro": scores["precision_macro"], "recall_macro": scores["recall_macro"],
            "auc_macro": one_vs_rest_auc(labels, probabilities, np.unique(labels))}


def epoch_scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """The metrics logged every epoch (EPOCH_METRICS), as `classification_metrics` defines them; without its
    top-k and AUC, which cost seconds per epoch at 250 classes and tens of thousands of rows."""
    labels = np.asarray(labels)
    return prediction_scores(labels, probabilities.argmax(axis=1), probabilities[np.arange(len(labels)), labels])


def prediction_scores(labels: np.ndarray, predicted: np.ndarray, true_probability: np.ndarray) -> dict[str, float]:
    """`epoch_scores` from what they need of each row: its label, its predicted class and the probability given to
    its label (so a trainer can reduce the probabilities where they are, and copy only these)."""
    precision, recall, f1 = macro_scores(labels, predicted)
    true_probability = np.clip(true_probability, 1e-12, 1.0)
    return {"loss": float(-np.log(true_probability).mean()), "accuracy": float((predicted == labels).mean()),
            "f1_macro": f1, "precision_macro": precision, "recall_macro": recall}


def macro_scores(labels: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """Macro precision, recall and F1 over the classes present in `labels`, from counts: what scikit-learn's
    `precision_recall_fscore_support(labels=np.unique(labels), average="macro", zero_division=0)` returns, in a
    fraction of its time. A present class never predicted has precision 0."""
    classes = np.unique(labels)
    size = int(max(labels.max(initial=0), predicted.max(initial=0))) + 1
    true_count = np.bincount(labels, minlength=size)[classes].astype(np.float64)
    predicted_count = np.bincount(predicted, minlength=size)[classes].astype(np.float64)
    hits = np.bincount(labels[labels == predicted], minlength=size)[classes].astype(np.float64)
    precision = np.divide(hits, predicted_count, out=np.zeros_like(hits), where=predicted_count > 0)
    recall, f1 = hits / true_count, 2 * hits / (true_count + predicted_count)  # each class present: no 0 / 0
    return float(precision.mean()), float(recall.mean()), float(f1.mean())


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


def participant_bootstrap_interval(correct: np.ndarray, participants: np.ndarray, samples: int, seed: int,
                                   level: float = CONFIDENCE_LEVEL) -> list[float] | None:
    """[low, high] percentile interval of accuracy over `samples` resamples of the participants, or None when
    there are fewer than two participants (one signer says nothing about how accuracy varies between signers).

    Recordings of one signer are not independent, so the unit resampled (with replacement) is the participant:
    each resample draws as many participants as there are and pools all their rows.
    """
    if samples < 1:
        raise AslError(f"evaluate.bootstrap_samples must be at least 1, got {samples}")
    _, group = np.unique(np.asarray(participants).astype(str), return_inverse=True)
    if group.max(initial=0) < 1:
        return None
    hits = np.bincount(group, weights=np.asarray(correct, dtype=float))  # correct rows per participant
    rows = np.bincount(group)
    draws = np.random.default_rng(seed).integers(0, len(rows), size=(samples, len(rows)))  # participant indices
    accuracies = hits[draws].sum(axis=1) / rows[draws].sum(axis=1)
    low, high = np.percentile(accuracies, [50 * (1 - level), 50 * (1 + level)])
    return [float(low), float(high)]


def evaluation_metrics(labels: np.ndarray, probabilities: np.ndarray, participants: np.ndarray, config: EvaluateConfig,
                 seed: int) -> dict:
    """The scores of metrics/eval.json: accuracy with its participant-bootstrap interval, top-5 (and top-k),
    loss, macro F1/precision/recall/AUC and accuracy per participant."""
    scores = classification_metrics(labels, probabilities, config.top_k)
    correct = probabilities.argmax(axis=1) == np.asarray(labels)
    interval = participant_bootstrap_interval(correct, participants, config.bootstrap_samples, seed)
    return {
        "accuracy": scores.pop("accuracy"),
        "accuracy_ci95": interval,
        # the same bounds as numbers: DVC's metrics show/diff and exp show leave lists out
        "accuracy_ci95_low": interval[0] if interval else None,
        "accuracy_ci95_high": interval[1] if interval else None,
        **{key: scores.pop(key) for key in list(scores) if key.startswith("top")},
        **scores,
        "per_participant": accuracy_by_group(labels, probabilities, participants),
    }
