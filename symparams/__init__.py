"""symparams: parameter counts of neural networks as exact, symbolic derivations.

>>> from symparams import load
>>> net = load("lenet")
>>> [int(info.params) for info in net if info.params]
[608, 3216, 48120, 10164, 850]
>>> net.total
62958
"""
from .errors import SymparamsError
from .layers import Activation, AvgPool2D, Conv2D, Dense, Dropout, Flatten, Input, Layer, MaxPool2D
from .layerinfo import LayerInfo
from .network import Network, load
from .shapes import conv_output_size
from .spec import parse_expression
from .steps import Step

__version__ = "0.1.0"


def explain(kind: str):
    """Explain a layer kind: letters, formula, why, output shape and a worked example.

    The same text as ``symparams explain KIND`` (see :mod:`symparams.explore.explain`).

    >>> print(explain("dense").splitlines()[0])
    dense: fully connected (also written fc, linear, fully_connected)
    """
    from .explore.explain import explain as _explain
    return _explain(kind)


def report(net, out_dir="reports", formats="all", templates=None):
    """Write a network's worked-solution report, as ``symparams report`` does; returns
    the files written.  ``net`` is a Network, a preset name or a spec file; ``formats``
    a list such as ``["pdf", "html"]``, text such as ``"md,tex"``, or ``"all"``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     [path.name for path in report(load("lenet"), out, formats=["md"])][-1]
    'lenet.md'
    """
    from .render.dispatch import report as _report   # lazily: render sits above the network
    return _report(net, out_dir, formats, templates)


__all__ = ["Network", "LayerInfo", "Step", "Layer", "Conv2D", "MaxPool2D", "AvgPool2D", "Dense",
           "Flatten", "Dropout", "Activation", "Input", "load", "parse_expression",
           "conv_output_size", "SymparamsError", "explain", "report", "__version__"]
