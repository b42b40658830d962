"""What the data holds and what a trained model gets wrong: top losses, confusions,
Grad-CAM heat maps and likely label errors (:class:`Interpretation`), usable
without a widget."""

from ..model.gradcam import NoFeatureMapError
from .confident import LabelDoubts, find_label_issues, rank_label_issues
from .interpret import Interpretation, LabelIssue, Prediction, label_issues_csv

__all__ = [
    "Interpretation",
    "LabelDoubts",
    "LabelIssue",
    "NoFeatureMapError",
    "Prediction",
    "find_label_issues",
    "label_issues_csv",
    "rank_label_issues",
]
