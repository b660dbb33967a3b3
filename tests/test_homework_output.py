"""Writing a homework folder: staging cleaned up, workers die with their parent, the
folder swapped in without a gap, one run at a time, symlinks followed, spec.yaml safe."""
import dataclasses
import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_cli
from symparams import load
from symparams.homework import output
from symparams.homework.build import load_template, make_variants


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def homework(out, *extra, env=None, variants=3):
    return run_cli("homework", "lenet", "--variants", variants, "--format", "md", "--jobs", "1",
                   "--quiet", "-o", out, *extra, env=env)


def test_a_killed_run_leaves_staging_that_the_next_run_removes(tmp_path):
    out = tmp_path / "hw"
    killed = homework(out, env={"SYMPARAMS_TEST_CRASH": "variant:1"})
    assert killed.returncode == -9
    assert hidden(tmp_path) and not out.exists()
    result = homework(out)
    assert result.returncode == 0, result.stderr
    assert hidden(tmp_path) == [] and (out / "variant-03" / "spec.yaml").is_file()


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text()
        found |= {int(p) for p in text.split()}
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in "ZX"


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="needs /proc/PID/task/TID/children (Linux)")
def test_pool_workers_exit_with_their_parent(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "symparams", "homework", "lenet",
                             "--variants", "40", "--format", "pdf", "--jobs", "2", "--quiet",
                             "-o", tmp_path / "hw"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            workers = _children(proc.pid)
        assert workers, "no pool workers started"
        time.sleep(1)
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 30     # a bound against a hang, not a timing claim
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_running(pid) for pid in workers)


def test_the_folder_exists_at_every_step_of_the_swap(tmp_path, monkeypatch):
    out = tmp_path / "hw"
    assert homework(out).returncode == 0
    if not output.can_exchange(tmp_path):
        pytest.skip("this file system cannot exchange two folders in one step")
    seen = []
    for name in ("replace", "rename"):
        real = getattr(os, name)

        def spy(src, dst, *args, _real=real, **kwargs):
            result = _real(src, dst, *args, **kwargs)
            seen.append(out.is_dir())
            return result
        monkeypatch.setattr(os, name, spy)
    output.write_homework("lenet", 2, 5, out, ["md"], jobs=1, quiet=True)
    assert all(seen)
    assert (out / "variant-02").is_dir() and not (out / "variant-03").exists()
    assert hidden(tmp_path) == []


def test_a_second_run_into_the_same_folder_says_so(tmp_path):
    out = tmp_path / "hw"
    assert homework(out).returncode == 0
    before = (out / "manifest.json").read_bytes()
    with open(output.lock_path(out), "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = homework(out, "--seed", "9")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "another" in result.stderr
    assert (out / "manifest.json").read_bytes() == before
    assert hidden(tmp_path) == [output.lock_path(out).name]     # still the holder's


def test_an_output_symlink_is_followed(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (real / "old.txt").write_text("old", encoding="utf-8")
    link = tmp_path / "link"
    link.symlink_to(real)
    assert homework(link).returncode == 0
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / "manifest.json").is_file() and not (real / "old.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]


# ------------------------------------------------------------------ spec.yaml

HOSTILE = ["hw\ntitle: INJECTED #", "a # b", "it's \"quoted\"", "key: value", "Ünïcödé ✓ 名前",
           "*alias", "&anchor x", "- leading dash", "tab\there", "cr\rlf", "nel\x85line",
           "ls\u2028ps\u2029", "esc\x1b[31mRED", "{flow: [1, 2]}", "!!python/object x", "%YAML"]


@pytest.fixture(scope="module")
def variants():
    template, plan = load_template("lenet")
    return make_variants(template, plan, 2, 1)


@pytest.mark.parametrize("name", HOSTILE)
def test_spec_yaml_reads_back_whatever_the_template_is_called(variants, name, tmp_path):
    for variant in variants:
        text = dataclasses.replace(variant, template=name).spec_yaml()
        header = text.split("\n")[:2]
        assert all(line.startswith("#") and line.isprintable() for line in header)
        body = text.split("\n", 2)[2]
        assert "INJECTED" not in body and not body.startswith("#")
        assert yaml.safe_load(text) == variant.spec
        path = tmp_path / "spec.yaml"
        path.write_text(text, encoding="utf-8")
        assert load(path).total == variant.net.total


@pytest.mark.parametrize("name", ["hw\ntitle: INJECTED #", "*alias & - x: y"])
def test_homework_written_with_a_hostile_template_name(tmp_path, name):
    template = yaml.safe_load((ROOT / "symparams" / "homework" / "presets" / "lenet.yaml")
                              .read_text(encoding="utf-8"))
    template["name"] = name
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(template), encoding="utf-8")
    out, drawn = output.write_homework(str(path), 2, 3, tmp_path / "hw", ["md"], jobs=1,
                                       quiet=True)
    for variant in drawn:
        spec = out / variant.id / "spec.yaml"
        text = spec.read_text(encoding="utf-8")
        assert all(line.startswith("#") for line in text.split("\n")[:2])
        data = yaml.safe_load(text)
        assert data == variant.spec and data["title"] == template["title"]
        assert data["name"].startswith(name)            # the name is a value, quoted
        assert load(spec).total == variant.net.total
