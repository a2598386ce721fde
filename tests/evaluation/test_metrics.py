"""asl.evaluation.metrics against cases computed by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import precision_recall_fscore_support

from asl.errors import AslError
from asl.evaluation.metrics import (classification_metrics, evaluation_metrics, macro_scores,
                                    participant_bootstrap_interval)
from asl.params import EvaluateConfig

# Four rows, six classes. Predicted (argmax): 0, 1, 1, 3; labels 0, 1, 2, 2.
PROBABILITIES = np.array([
    [0.50, 0.20, 0.10, 0.10, 0.05, 0.05],
    [0.10, 0.60, 0.05, 0.05, 0.10, 0.10],
    [0.30, 0.31, 0.00, 0.20, 0.10, 0.09],  # label 2 ranks last: outside the top 5
    [0.05, 0.05, 0.30, 0.40, 0.10, 0.10],  # label 2 ranks second
])
LABELS = np.array([0, 1, 2, 2])


def test_accuracy_top_k_and_macro_scores_by_hand():
    scores = classification_metrics(LABELS, PROBABILITIES)
    assert scores["accuracy"] == 0.5  # rows 0 and 1
    assert scores["top5_accuracy"] == 0.75  # row 2's label is the least likely of six
    # per present class (0, 1, 2): precision 1, 1/2, 0 (never predicted); recall 1, 1, 0; F1 1, 2/3, 0
    assert scores["precision_macro"] == pytest.approx(0.5)
    assert scores["recall_macro"] == pytest.approx(2 / 3)
    assert scores["f1_macro"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert scores["loss"] == pytest.approx(-np.mean(np.log([0.5, 0.6, 1e-12, 0.3])))


@pytest.mark.parametrize("seed", range(3))
def test_macro_scores_from_counts_equal_scikit_learns(seed):
    """250 classes, some never occurring and some occurring but never predicted, predictions of absent classes."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 200, 3000)
    predicted = np.where(rng.random(3000) < 0.4, labels, rng.integers(0, 250, 3000))
    predicted[np.isin(predicted, [3, 7, 11])] = 12  # present classes never predicted
    expected = precision_recall_fscore_support(labels, predicted, labels=np.unique(labels), average="macro",
                                               zero_division=0)[:3]
    assert macro_scores(labels, predicted) == expected  # the same sums in the same order: equal to the bit


def test_top5_is_always_top_5_and_another_k_adds_its_own_key():
    scores = classification_metrics(LABELS, PROBABILITIES, top_k=2)
    assert scores["top5_accuracy"] == 0.75  # not top-2
    assert scores["top2_accuracy"] == 0.75  # rows 0, 1 and 3 (label 2 second)
    assert classification_metrics(LABELS, PROBABILITIES, top_k=1)["top1_accuracy"] == 0.5
    assert "top2_accuracy" not in classification_metrics(LABELS, PROBABILITIES)


def test_eval_metrics_keep_top5_whatever_evaluate_top_k():
    """eval.json's top5_accuracy held top-`evaluate.top_k` (issue 10): with top_k 1 it read 0.5."""
    metrics = evaluation_metrics(LABELS, PROBABILITIES, np.array(["a", "a", "b", "b"]),
                                 EvaluateConfig(batch_size=8, top_k=1, bootstrap_samples=50), seed=0)
    assert metrics["top5_accuracy"] == 0.75 and metrics["top1_accuracy"] == 0.5
    assert metrics["per_participant"] == {"a": 1.0, "b": 0.0}
    assert list(metrics)[:6] == ["accuracy", "accuracy_ci95", "accuracy_ci95_low", "accuracy_ci95_high",
                                 "top5_accuracy", "top1_accuracy"]
    assert metrics["accuracy_ci95"] == [metrics["accuracy_ci95_low"], metrics["accuracy_ci95_high"]]


def test_bootstrap_resamples_participants_by_hand():
    # Participant a: 3 of 4 correct, b: 1 of 4. Two participants drawn with replacement: (a, a) 0.75 with
    # probability 1/4, a mixed pair 0.5 with probability 1/2, (b, b) 0.25 with probability 1/4.
    correct = np.array([1, 1, 1, 0, 1, 0, 0, 0], dtype=bool)
    participants = np.array(["a"] * 4 + ["b"] * 4)
    assert participant_bootstrap_interval(correct, participants, 2000, seed=0) == [0.25, 0.75]
    assert participant_bootstrap_interval(correct, participants, 2000, seed=1) == [0.25, 0.75]


def test_bootstrap_does_not_resample_rows():
    # Two participants, each half right: a row bootstrap would give a wide interval; the participant is the unit.
    correct = np.arange(40) % 2 == 0
    participants = np.repeat(["p", "q"], 20)
    assert participant_bootstrap_interval(correct, participants, 500, seed=0) == [0.5, 0.5]


def test_one_participant_gives_no_interval():
    correct = np.arange(40) % 2 == 0
    assert participant_bootstrap_interval(correct, np.full(40, "p"), 500, seed=0) is None


def test_bootstrap_is_seeded_and_checks_its_samples():
    rng = np.random.default_rng(3)
    correct, participants = rng.random(200) < 0.7, rng.integers(0, 12, 200).astype(str)
    first = participant_bootstrap_interval(correct, participants, 300, seed=5)
    assert first == participant_bootstrap_interval(correct, participants, 300, seed=5)
    assert first != participant_bootstrap_interval(correct, participants, 300, seed=6)
    assert first[0] < correct.mean() < first[1]
    with pytest.raises(AslError, match="evaluate.bootstrap_samples must be at least 1, got 0"):
        participant_bootstrap_interval(correct, participants, 0, seed=5)
