"""Writing output files: regular files atomically, FIFOs, devices and ``-`` directly,
folders refused before anything is written, a report run all or nothing.

Never the real /dev/null: as root, a wrong os.replace would replace the device.
"""
import os
import subprocess
import sys
import stat
import threading
from pathlib import Path

import pytest

from conftest import DOCUMENT_TOTAL, ROOT, run_cli
from symparams import load
from symparams.errors import SymparamsError
from symparams.render.common import atomic_write

SPEC = (ROOT / "examples" / "lenet.yaml").read_text(encoding="utf-8")


def reader(path: Path):
    """Read a FIFO to its end in a thread; returns (thread, list that gets the bytes)."""
    got: list[bytes] = []

    def read():
        with open(path, "rb") as handle:
            got.append(handle.read())
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def one_clean_line(result) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture(scope="module")
def homework_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hw") / "hw"
    result = run_cli("homework", "lenet", "--variants", "2", "--format", "md", "--jobs", "1",
                     "--quiet", "-o", folder)
    assert result.returncode == 0, result.stderr
    responses = folder.parent / "responses.csv"
    responses.write_text("student,variant,question,answer\nAda,variant-01,params.total,1\n",
                         encoding="utf-8")
    return folder, responses


# ------------------------------------------------------------ count -o without --json

def test_count_output_without_json_writes_the_table(tmp_path):
    out = tmp_path / "x.txt"
    result = run_cli("count", "lenet", "-o", out)
    assert result.returncode == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    assert "CONV1" in text and "62,958" in text and "\x1b" not in text
    assert "CONV1" not in result.stdout     # the table went to the file, not the terminal


def test_count_output_named_json_writes_json(tmp_path):
    import json
    out = tmp_path / "x.json"
    result = run_cli("count", "lenet", "-o", out)
    assert result.returncode == 0, result.stderr
    assert json.loads(out.read_text(encoding="utf-8"))["total"] == DOCUMENT_TOTAL


def test_same_file_for_csv_and_plot_is_refused(tmp_path):
    out = tmp_path / "same.svg"
    line = one_clean_line(run_cli("sweep", "lenet", "--vary", "CONV1.filters=4:8:4",
                                  "--csv", out, "--plot", out))
    assert "same.svg" in line
    assert not out.exists()


def test_a_size_set_twice_is_refused():
    line = one_clean_line(run_cli("count", "lenet", "--set", "k_1=8", "k_1=16"))
    assert "k_1" in line and "twice" in line


@pytest.mark.parametrize("command", [["report", "lenet", "--format", "md"],
                                     ["homework", "lenet", "--variants", "1", "--format", "md"]])
def test_dash_is_no_folder(tmp_path, command):
    line = one_clean_line(run_cli(*command, "-o", "-", cwd=tmp_path))
    assert "-o" in line
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------ FIFOs, devices, stdout

def test_atomic_write_writes_into_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    thread, got = reader(fifo)
    atomic_write(fifo, "hello\n")
    thread.join(10)
    assert got == [b"hello\n"]
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_atomic_write_replaces_a_regular_file_through_its_symlink(tmp_path):
    target = tmp_path / "real.txt"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new"
    atomic_write(target, b"bytes")
    assert target.read_bytes() == b"bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.txt", "real.txt"]


def test_a_replaced_file_keeps_its_permissions(tmp_path):
    private = tmp_path / "scores.csv"
    private.write_text("old", encoding="utf-8")
    os.chmod(private, 0o600)
    atomic_write(private, "new")
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    atomic_write(tmp_path / "new.csv", "x")
    assert stat.S_IMODE(os.stat(tmp_path / "new.csv").st_mode) == 0o644


def _cli_cases(tmp_path, homework_dir):
    folder, responses = homework_dir
    fifo = tmp_path / "pipe.svg"
    return fifo, {
        "count --json -o": ["count", "lenet", "--json", "-o", fifo],
        "count -o": ["count", "lenet", "-o", fifo],
        "sweep --csv": ["sweep", "lenet", "--vary", "CONV1.filters=4:16:4", "--csv", fifo],
        "sweep --plot": ["sweep", "lenet", "--vary", "CONV1.filters=4:16:4", "--plot", fifo],
        "grade -o": ["grade", folder, responses, "-o", fifo],
    }


@pytest.mark.parametrize("case", ["count --json -o", "count -o", "sweep --csv", "sweep --plot",
                                  "grade -o"])
def test_commands_write_into_a_fifo(tmp_path, homework_dir, case):
    fifo, cases = _cli_cases(tmp_path, homework_dir)
    os.mkfifo(fifo)
    thread, got = reader(fifo)
    result = run_cli(*cases[case])
    assert result.returncode == 0, result.stderr
    thread.join(30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.svg"]


def test_report_writes_into_a_fifo_in_its_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    fifo = out / "lenet.md"
    os.mkfifo(fifo)
    thread, got = reader(fifo)
    result = run_cli("report", "lenet", "--format", "md", "-o", out)
    assert result.returncode == 0, result.stderr
    thread.join(30)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and b"62,958" in got[0]
    assert (out / "lenet-chart.svg").is_file() and hidden(out) == []


def test_api_writers_write_into_a_fifo(tmp_path):
    net = load("lenet")
    rows = net.sweep({"CONV1.filters": range(4, 9, 4)})
    for write in (net.to_csv, rows.to_csv, rows.plot):
        fifo = tmp_path / "pipe.svg"
        os.mkfifo(fifo)
        thread, got = reader(fifo)
        write(fifo)
        thread.join(30)
        assert stat.S_ISFIFO(os.stat(fifo).st_mode) and got and got[0]
        fifo.unlink()


def test_dash_is_standard_output(tmp_path):
    result = run_cli("count", "lenet", "--json", "-o", "-", cwd=tmp_path)
    assert result.returncode == 0 and f'"total": {DOCUMENT_TOTAL}' in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_dev_stdout_redirected_to_a_file_writes_through_it(tmp_path):
    import subprocess
    import sys
    out = tmp_path / "redirected.json"
    out.write_text("", encoding="utf-8")
    inode = os.stat(out).st_ino
    with open(out, "ab") as handle:
        subprocess.run([sys.executable, "-m", "symparams", "count", "lenet", "--json", "-o",
                         "/dev/stdout"], stdout=handle, cwd=ROOT, check=True, timeout=120)
    assert os.stat(out).st_ino == inode and f'"total": {DOCUMENT_TOTAL}' in out.read_text()


# ------------------------------------------------------------ folders as output paths

def test_report_into_a_folder_named_like_its_file_writes_nothing(tmp_path):
    out = tmp_path / "o"
    (out / "lenet.md").mkdir(parents=True)
    line = one_clean_line(run_cli("report", "lenet", "--format", "md", "-o", out))
    assert "lenet.md" in line and "folder" in line
    assert sorted(p.name for p in out.iterdir()) == ["lenet.md"]


@pytest.mark.parametrize("case", ["count --json -o", "count -o", "sweep --csv", "sweep --plot",
                                  "grade -o"])
def test_a_folder_as_output_file_is_one_line(tmp_path, homework_dir, case):
    folder, cases = _cli_cases(tmp_path, homework_dir)
    folder.mkdir()
    args = cases[case]
    if case.startswith("sweep"):
        args = [*args, "--plot" if case == "sweep --csv" else "--csv", tmp_path / "other.svg"]
    line = one_clean_line(run_cli(*args))
    assert "pipe.svg" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.svg"]


def test_report_into_a_file_or_under_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x", encoding="utf-8")
    for out in (afile, afile / "sub"):
        line = one_clean_line(run_cli("report", "lenet", "--format", "md", "-o", out))
        assert "afile" in line
    line = one_clean_line(run_cli("count", "lenet", "--json", "-o", afile / "x.json"))
    assert "afile" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


# ------------------------------------------------------------ a report run is all or nothing

def _spec(tmp_path, filters: int) -> Path:
    path = tmp_path / f"lenet-{filters}.yaml"
    path.write_text(SPEC.replace("filters: 8", f"filters: {filters}"), encoding="utf-8")
    return path


def _contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.name.startswith(".")}


@pytest.fixture
def old_and_new(tmp_path):
    """A folder with the reports of lenet (8 filters), and the reports with 12 filters
    rendered into another folder, to compare with."""
    old, new = _spec(tmp_path, 8), _spec(tmp_path, 12)
    out, ref = tmp_path / "out", tmp_path / "ref"
    for spec, folder in ((old, out), (new, ref)):
        result = run_cli("report", spec, "--format", "md,html,tex", "-o", folder)
        assert result.returncode == 0, result.stderr
    assert _contents(out) != _contents(ref)
    return new, out, _contents(out), _contents(ref)


def test_a_failed_rename_puts_the_old_files_back(tmp_path, monkeypatch):
    from symparams.render.dispatch import write_reports
    old, new = load(_spec(tmp_path, 8)), load(_spec(tmp_path, 12))
    out = tmp_path / "out"
    write_reports(old, ["md", "html", "tex"], out)
    before = _contents(out)
    real_replace, calls = os.replace, []

    def failing_replace(src, dst, *args, **kwargs):
        if str(src).endswith(".tmp"):
            calls.append(dst)
            if len(calls) == 2:
                raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(SymparamsError):
        write_reports(new, ["md", "html", "tex"], out)
    assert len(calls) == 2
    assert _contents(out) == before and hidden(out) == []


def test_killed_between_renames_the_next_run_finishes_the_set(old_and_new):
    new, out, before, after = old_and_new
    killed = run_cli("report", new, "--format", "md,html,tex", "-o", out,
                     env={"SYMPARAMS_TEST_CRASH": "rename:1"})
    assert killed.returncode == -9
    assert hidden(out)                       # the journal and the temporaries are left
    result = run_cli("report", new, "--format", "md", "-o", out)
    assert result.returncode == 0, result.stderr
    assert _contents(out) == after and hidden(out) == []


def test_sigterm_while_renaming_waits_for_the_last_rename(old_and_new):
    new, out, before, after = old_and_new
    killed = run_cli("report", new, "--format", "md,html,tex", "-o", out,
                     env={"SYMPARAMS_TEST_CRASH": "rename:1:TERM"})
    assert killed.returncode == -15
    assert _contents(out) == after and hidden(out) == []


def test_killed_while_writing_temporaries_keeps_the_old_set(old_and_new):
    new, out, before, after = old_and_new
    killed = run_cli("report", new, "--format", "md,html,tex", "-o", out,
                     env={"SYMPARAMS_TEST_CRASH": "temp:2"})
    assert killed.returncode == -9
    assert _contents(out) == before and hidden(out)
    result = run_cli("report", new, "--format", "md", "-o", out)
    assert result.returncode == 0, result.stderr
    assert hidden(out) == []
    assert _contents(out)["lenet.tex"] == before["lenet.tex"]
    assert _contents(out)["lenet.md"] == after["lenet.md"]


def test_temporaries_of_a_live_process_are_left_alone(tmp_path):
    live = tmp_path / f".lenet.md.symparams-{os.getppid()}-abcd.tmp"
    live.write_text("in progress", encoding="utf-8")
    dead = tmp_path / ".lenet.md.symparams-999999999-abcd.tmp"
    dead.write_text("left over", encoding="utf-8")
    user = tmp_path / ".lenet.md.keep.tmp"
    user.write_text("not ours", encoding="utf-8")
    atomic_write(tmp_path / "lenet.md", "new")
    assert live.exists() and user.exists() and not dead.exists()


def test_a_journal_reaches_only_its_own_temporaries(tmp_path):
    import json
    from symparams.outfiles import clean_folder
    (tmp_path / "keep.pdf").write_text("keep", encoding="utf-8")
    (tmp_path / "victim").write_text("v", encoding="utf-8")
    (tmp_path / ".a.symparams-999999999-ab.tmp").write_text("new a", encoding="utf-8")
    (tmp_path / ".symparams-999999999-ab.journal").write_text(json.dumps({"renames": [
        [".a.symparams-999999999-ab.tmp", "a", None], ["keep.pdf", "../x", None],
        [".b.symparams-999999999-cd.tmp", "b", "victim"]]}), encoding="utf-8")
    clean_folder(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "keep.pdf", "victim"]
    assert (tmp_path / "a").read_text(encoding="utf-8") == "new a"
    assert not (tmp_path.parent / "x").exists()


def test_the_paths_a_run_names_are_printable(tmp_path):
    """An ESC sequence or a byte that is not UTF-8 in an output path is escaped in the
    'wrote …' lines: it never reaches the terminal raw."""
    folder = os.fsencode(tmp_path) + b"/o\x1b[31mRED\xff"
    done = subprocess.run([sys.executable, "-m", "symparams", "report", "lenet", "--format",
                           "md", "-o", folder], capture_output=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout and b"\xff" not in done.stdout
    assert b"wrote " in done.stdout and b"\\x1b[31mRED" in done.stdout
    assert os.path.isdir(folder)
