import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() == "true"

# The source document's network, written out here so that the tests do not
# trust the shipped preset to be right.
DOCUMENT_COUNTS = {"CONV1": 608, "CONV2": 3216, "FC3": 48120, "FC4": 10164, "SOFTMAX": 850}
DOCUMENT_TOTAL = 62958


def import_torch():
    """(torch, torch.nn) from the optional test extra, or (None, None) without it; with
    CI=true a missing torch is a failure, not a skip."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import torch
            from torch import nn
        except ImportError:
            if IN_CI:
                raise
            return None, None
    return torch, nn


def run_cli(*args, cwd=None, env=None):
    """Run ``python -m symparams`` in a subprocess and return the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "symparams", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT,
                          env={**os.environ, **(env or {})}, timeout=300)


def require_tool(name: str) -> str:
    """Path of an external program; skip outside CI when it is missing, fail in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed (make test installs it through apt)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)
    return path


@pytest.fixture
def write_spec(tmp_path):
    def write(text: str, name: str = "net.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path
    return write
