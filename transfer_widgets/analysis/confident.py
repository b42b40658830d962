"""Confident learning (Northcutt, Jiang & Chuang, 2021): which given labels the
model's out-of-sample probabilities doubt, without knowing the noise.

Per class j the threshold ``t_j`` is the mean probability of j over the examples
labelled j (what the model says when the label is probably right). An example
counts as truly of class j when ``p_j >= t_j`` (the most probable such class when
several pass); an example counted as another class than its given one is a likely
label error (the off-diagonal of the confident joint). Issues are ranked by the
normalised margin ``p_given - max_{j != given} p_j``, lowest (most doubted) first.

The probabilities must be out-of-sample (cross-validated): a model's predictions on
the examples it trained on agree with their labels, errors included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LabelDoubts:
    """The result of :func:`find_label_issues`, ranked most doubted first."""

    indices: np.ndarray  # examples flagged, most doubted first
    suggested: np.ndarray  # the class confident learning counts each as
    margin: np.ndarray  # p_given - max other p (negative: another class is more probable)
    self_confidence: np.ndarray  # p_given
    thresholds: np.ndarray  # t_j per class (nan for a class no example is labelled with)


def find_label_issues(labels: np.ndarray, probs: np.ndarray) -> LabelDoubts:
    """Likely label errors among ``labels`` (n,) given out-of-sample ``probs`` (n, k)."""
    labels = np.asarray(labels, np.int64)
    probs = np.asarray(probs, np.float64)
    if probs.ndim != 2 or len(probs) != len(labels):
        raise ValueError(f"probs must be (n, classes) with n = {len(labels)} labels, got {probs.shape}")
    n, k = probs.shape
    if n and (labels.min() < 0 or labels.max() >= k):
        raise ValueError(f"labels must be in 0..{k - 1}, got {labels.min()}..{labels.max()}")
    thresholds = np.full(k, np.nan)
    for j in range(k):
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
    margin = given - others.max(axis=1) if k > 1 else given
    idx = np.flatnonzero(flagged)
    idx = idx[np.argsort(margin[idx], kind="stable")]
    return LabelDoubts(idx, counted[idx], margin[idx], given[idx], thresholds)
