"""Import torchvision's model definitions beside a CPU torch when its compiled ops cannot load.

The torchvision wheel on the package registry is a CUDA build, while many
setups (this project's tests among them) use the CPU torch. Its compiled ops
(``torchvision/_C.so``) link against ``libtorch_cuda.so`` and cannot load,
which torchvision tolerates everywhere except in ``_meta_registrations``: that
module registers fake (shape-only) kernels for ``torchvision::nms`` and
``torchvision::qnms`` without first asking whether the ops exist, so
``import torchvision`` stops with "operator torchvision::nms does not exist"
(pytorch/vision issue 9085). transformers imports torchvision whenever it is
installed, so it stops the same way. The model definitions use none of the
compiled ops.

:func:`prepare_torchvision` therefore tries torchvision's own extension first,
exactly as ``torchvision.extension`` does, and only when it cannot load
declares the two op schemas (no kernels) so that the fake-kernel registration
has something to attach to. Calling ``nms`` would still fail ("no kernel"),
the models are untouched, and a torchvision whose extension does load (a real
CPU build) is imported as it is.
"""
from __future__ import annotations

import importlib.machinery
import importlib.util
import sys

# The error `import torchvision` stops with when its compiled ops did not load.
NMS_ERROR = "operator torchvision::nms does not exist"
NOTE = ("torchvision's compiled ops could not load (a CUDA build of torchvision beside a CPU "
        "torch): symparams declared the nms and qnms op schemas so that its model "
        "definitions import; the models need none of those ops")

# torchvision's ops whose fake kernels are registered without checking that
# the compiled extension loaded (torchvision/_meta_registrations.py).
_UNGUARDED_OPS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_schema_library = None   # kept alive: dropping a torch.library.Library unregisters its ops


def is_nms_error(error: BaseException) -> bool:
    """True for the error of a torchvision whose compiled ops did not load, also when
    another library wraps it (transformers: "Could not import module 'BertModel'",
    raised from the RuntimeError)."""
    seen = 0
    while error is not None and seen < 10:
        if NMS_ERROR in str(error):
            return True
        error, seen = error.__cause__ or error.__context__, seen + 1
    return False


def _extension_path(package_dir: str) -> str | None:
    """Where torchvision keeps ``_C`` (found as torchvision's own loader finds it)."""
    finder = importlib.machinery.FileFinder(
        package_dir, (importlib.machinery.ExtensionFileLoader,
                      importlib.machinery.EXTENSION_SUFFIXES))
    spec = finder.find_spec("_C")
    return spec.origin if spec else None


def prepare_torchvision() -> bool:
    """Make ``import torchvision`` work beside the CPU torch (see the module docstring).

    Returns True when it declared the op schemas (torchvision's own ops could not
    load), False when nothing was needed. Idempotent; a no-op once torchvision is
    imported or when it (or torch) is absent.
    """
    global _schema_library
    if _schema_library is not None:
        return True
    if "torchvision" in sys.modules:
        return False
    spec = importlib.util.find_spec("torchvision")
    if spec is None or not spec.submodule_search_locations:
        return False
    try:
        import torch
    except ImportError:
        return False
    path = _extension_path(spec.submodule_search_locations[0])
    if path is not None:
        try:
            torch.ops.load_library(path)   # what torchvision.extension does on import
            return False                   # the real ops are there: nothing to declare
        except (ImportError, OSError):
            pass
    library = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _UNGUARDED_OPS:
        if not hasattr(torch.ops.torchvision, schema.split("(")[0]):  # declared elsewhere: keep it
            library.define(schema)
    _schema_library = library
    return True


def forget_failed_import() -> None:
    """Drop the torchvision modules a failed ``import torchvision`` left behind, so that
    the next import starts afresh."""
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
