"""Confident learning (Northcutt, Jiang & Chuang, 2021): which given labels the
model's out-of-sample probabilities doubt, without knowing the noise.

Per class j the threshold ``t_j`` is the mean probability of j over the examples
labelled j (what the model says when the label is probably right). An example
counts as truly of class j when ``p_j >= t_j`` (the most probable such class when
several pass); an example counted as another class than its given one is a likely
label error (the off-diagonal of the confident joint). Issues are ranked by the
normalised margin ``p_given - max_{j != given} p_j``, lowest (most doubted) first;
:func:`rank_label_issues` ranks every example by that score, for a review budget of
k examples that may reach beyond the flagged ones.

The probabilities must be out-of-sample (cross-validated): a model's predictions on
the examples it trained on agree with their labels, errors included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelDoubts:
    """The result of :func:`find_label_issues` / :func:`rank_label_issues`, most doubted first."""

    indices: np.ndarray  # examples listed, most doubted first
    suggested: np.ndarray  # the class each probably is (confident learning's count when flagged)
    margin: np.ndarray  # p_given - max other p (negative: another class is more probable)
    self_confidence: np.ndarray  # p_given
    flagged: np.ndarray  # whether confident learning counts the example as another class
    thresholds: np.ndarray  # t_j per class (nan for a class no example is labelled with)


def find_label_issues(labels: np.ndarray, probs: np.ndarray) -> LabelDoubts:
    """Likely label errors among ``labels`` (n,) given out-of-sample ``probs`` (n, k):
    the examples confident learning flags, ranked by margin."""
    doubts = rank_label_issues(labels, probs)
    keep = doubts.flagged
    return LabelDoubts(
        doubts.indices[keep],
        doubts.suggested[keep],
        doubts.margin[keep],
        doubts.self_confidence[keep],
        doubts.flagged[keep],
        doubts.thresholds,
    )


def rank_label_issues(labels: np.ndarray, probs: np.ndarray, k: int | None = None) -> LabelDoubts:
    """Every example (the first ``k`` when given), ranked by how much ``probs`` doubt its
    given label: by margin, lowest first, flagged or not. Beyond the flagged ones the
    suggestion is the most probable other class."""
    labels = np.asarray(labels, np.int64)
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or len(probs) != len(labels):
        raise ValueError(f"probs must be (n, classes) with n = {len(labels)} labels, got {probs.shape}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1):
        raise ValueError(f"k must be a positive integer (how many to rank) or None for all, got {k!r}")
    n, classes = probs.shape
    if n and (labels.min() < 0 or labels.max() >= classes):
        raise ValueError(f"labels must be in 0..{classes - 1}, got {labels.min()}..{labels.max()}")
    thresholds = np.full(classes, np.nan)
    for j in range(classes):
        mine = labels == j
        if mine.any():
            thresholds[j] = probs[mine, j].mean()
    passing = probs >= np.where(np.isnan(thresholds), np.inf, thresholds)[None, :]
    counted = np.argmax(np.where(passing, probs, -np.inf), axis=1)
    flagged = passing.any(axis=1) & (counted != labels)
    rows = np.arange(n)
    given = probs[rows, labels]
    others = probs.copy()
    others[rows, labels] = -np.inf
    margin = given - others.max(axis=1) if classes > 1 else given
    suggested = np.where(flagged, counted, others.argmax(axis=1))
    idx = np.argsort(margin, kind="stable")[:k]
    return LabelDoubts(idx, suggested[idx], margin[idx], given[idx], flagged[idx], thresholds)
