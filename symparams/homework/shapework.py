"""The worked output shape of one layer, for the feedback of shape questions.

The layers work their output shapes out themselves (``LayerInfo.shape_steps``,
the same steps the reports show); this is the one place the homework reads them.
"""
from __future__ import annotations

from ..steps import Step


def shape_steps(info) -> list[Step]:
    """How ``info``'s output shape is worked out: one step per worked size
    (none for a layer that hands its input's shape on)."""
    return list(info.shape_steps)
