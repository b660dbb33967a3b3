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


def from_torch(module, input_shape=(3, 224, 224), *, allow_unknown=False, name=None):
    """A PyTorch module as a Network, read by walking its graph with torch.fx (no
    weights read): leaf modules and functional calls mapped to layer families, names
    from the module paths (``layer1.0.conv1``), the count checked against the sum of
    its unique parameters' ``numel()``.

    ``input_shape`` is the input in PyTorch's order without the batch axis
    (``(3, 224, 224)``, ``("T",)`` for token ids of a dynamic length).  A module that
    holds parameters and has no family is an error, unless ``allow_unknown`` counts it
    as an opaque layer (the framework's number, no formula, a warning in every output).
    ``name`` names the network (default: the module's class).  Needs torch; importing
    symparams does not import it.
    """
    from .importers.sources import torch_module_source
    from .spec import spec_from_data
    data, source = torch_module_source(module, input_shape, allow_unknown=allow_unknown,
                                       name=name)
    return Network.from_spec(spec_from_data(data, source=source))


def from_onnx(path, *, input_shape=None, allow_unknown=False):
    """An ONNX file as a Network, read with the onnx package (no runtime, nothing run):
    nodes mapped to layer families, initializers as the parameters, the count checked
    against the initializers' sizes.  ``input_shape`` (ONNX's order, no batch axis)
    fills in sizes the graph leaves dynamic; ``allow_unknown`` as for :func:`from_torch`.
    """
    from .importers.sources import file_source
    from .spec import spec_from_data
    data, source = file_source(path, "onnx", input_shape=input_shape,
                               allow_unknown=allow_unknown)
    return Network.from_spec(spec_from_data(data, source=source))


def from_keras(path, *, input_shape=None, allow_unknown=False):
    """A Keras model as a Network, read from a ``.keras`` archive's config.json or a
    ``model.to_json()`` file without importing Keras or TensorFlow (Keras' convention).
    ``input_shape`` (channels last, no batch axis) fills in sizes the config leaves
    dynamic; ``allow_unknown`` as for :func:`from_torch`.
    """
    from .importers.sources import file_source
    from .spec import spec_from_data
    data, source = file_source(path, "keras", input_shape=input_shape,
                               allow_unknown=allow_unknown)
    return Network.from_spec(spec_from_data(data, source=source))


__all__ = ["Network", "LayerInfo", "Step", "Layer", "Conv2D", "MaxPool2D", "AvgPool2D", "Dense",
           "Flatten", "Dropout", "Activation", "Input", "load", "parse_expression",
           "conv_output_size", "SymparamsError", "explain", "report", "from_torch", "from_onnx",
           "from_keras", "__version__"]
