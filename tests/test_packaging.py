"""The project as a user gets it: a real (non-editable) pip install into a fresh venv.

Slow: it builds a wheel with hatchling and installs every dependency into a new
environment (from the machine's configured index or wheel mirror).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import DOCUMENT_COUNTS, DOCUMENT_TOTAL, ROOT

pytestmark = pytest.mark.slow

INSTALL_TIMEOUT = 1800  # seconds: building the wheel and installing WeasyPrint & co.


def clean_env() -> dict[str, str]:
    """The environment without anything that would let the repository's code leak in."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def run(args, cwd, timeout=300):
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=clean_env(),
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, (args, result.stdout[-4000:], result.stderr[-4000:])
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, an unrelated working folder) with symparams pip-installed from ROOT."""
    base = tmp_path_factory.mktemp("packaging")
    venv = base / "venv"
    run([sys.executable, "-m", "venv", venv], cwd=base)
    python = venv / "bin" / "python"
    run([python, "-m", "pip", "install", "--no-input", ROOT], cwd=base, timeout=INSTALL_TIMEOUT)
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    return python, elsewhere


def test_console_script_counts_lenet(installed):
    python, elsewhere = installed
    script = python.parent / "symparams"
    assert script.is_file(), "the symparams console script was not installed"
    result = run([script, "count", "lenet", "--json"], cwd=elsewhere)
    data = json.loads(result.stdout)
    assert data["total"] == DOCUMENT_TOTAL == 62958
    params = [layer["params"] for layer in data["layers"] if layer["params"]]
    assert params == [608, 3216, 48120, 10164, 850]
    assert {layer["name"]: layer["params"] for layer in data["layers"]
            if layer["name"] in DOCUMENT_COUNTS} == DOCUMENT_COUNTS


def test_module_version(installed):
    python, elsewhere = installed
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = run([python, "-m", "symparams", "--version"], cwd=elsewhere)
    assert result.stdout.strip() == f"symparams {version}"


def test_installed_package_is_a_real_copy_with_templates(installed):
    python, elsewhere = installed
    probe = run([python, "-c", "import json, symparams, sysconfig; print(json.dumps("
                 "[symparams.__file__, sysconfig.get_paths()['purelib'], symparams.__version__]))"],
                cwd=elsewhere)
    init_file, purelib, version = json.loads(probe.stdout)
    package = Path(init_file).resolve().parent
    venv = python.parent.parent.resolve()
    # Imported from the new venv's site-packages, not from the repository.
    assert package == Path(purelib).resolve() / "symparams"
    assert venv in package.parents and ROOT.resolve() not in package.parents
    assert version == tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    # The templates folder at the top of the repository ships as symparams/templates.
    templates = package / "templates"
    assert templates.is_dir(), f"{templates} missing from the installed package"
    shipped = {p.relative_to(ROOT / "templates") for p in (ROOT / "templates").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert shipped, "the repository has no templates to ship"
    installed_files = {p.relative_to(templates) for p in templates.rglob("*") if p.is_file()}
    assert shipped <= installed_files, shipped - installed_files
    # The presets ship too (count lenet above depends on them).
    assert (package / "presets" / "lenet.yaml").is_file()
    # Not an editable install: no .pth pointing back at the repository.
    site = Path(purelib)
    for pth in site.glob("*.pth"):
        assert str(ROOT.resolve()) not in pth.read_text(), pth
