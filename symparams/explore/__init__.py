"""Asking questions of a network's formulas: sweeps over sizes (and more).

``Network.sweep`` is the way in; the module :mod:`symparams.explore.sweep`
holds the machinery (the rows' class :class:`Sweep`, the ``--vary`` parser).
"""
from .sweep import Sweep, parse_vary
from .solve import NoUniqueAnswer, Solution, max_value_for, solve_for
from .growth import Growth
from .diff import NetworkDiff
from .explain import Explanation
