"""Writing output files: atomically where a file may be replaced, directly where not.

Where a path leads decides how it is written:

* ``-`` is standard output;
* an existing FIFO, character or block device or socket, and anything under
  /dev or /proc (``/dev/stdout`` may lead to a regular file), is written to
  directly, never replaced (``--csv /dev/null`` as root must not replace the
  device);
* a regular file, or a name not taken yet, is written to a temporary file beside
  it and renamed over it; a symbolic link is followed, so the file it points to
  is replaced and the link stays;
* a folder, or a path under a file, is refused before anything is written.

:func:`write_files` writes the files of one run (a report's formats and figures,
a sweep's CSV and plot) all or nothing: every path is checked first, every
temporary file written before any rename, and the renames made in one tight loop
with SIGINT, SIGTERM, SIGHUP and SIGQUIT held back.  If a rename fails, the
files already replaced get their old contents back (kept as hard links).  A
journal beside the files lists the renames while they run, so when a run is
killed outright in that loop (SIGKILL), the next symparams run that writes into
the folder completes them.

Our temporary names are ``.NAME.symparams-PID-TAG.tmp`` (``.old`` for a kept
old version, ``.journal`` for a journal).  Before writing into a folder, a run
removes those whose process is gone; files of running processes and every
other name are left alone.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import stat
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .errors import SymparamsError

STDOUT = "-"
_DEVICE_FOLDERS = ("/dev/", "/proc/")
_OURS = re.compile(r"^\.(?:(?P<name>.+)\.)?symparams-(?P<pid>\d+)-(?P<tag>[0-9a-f]+)"
                   r"\.(?P<kind>tmp|old|journal)$", re.S)
_HELD = {getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
         if hasattr(signal, name)}


def our_name(name: str, kind: str, tag: str) -> str:
    """The hidden name of a temporary (``kind`` tmp, old or journal) for ``name``.

    Long names are cut so the temporary stays within the 255 bytes a name may have.
    """
    if len(name.encode("utf-8", "surrogateescape")) > 180:
        name = name.encode("utf-8", "surrogateescape")[:180].decode("utf-8", "ignore")
    return f".{name}.symparams-{os.getpid()}-{tag}.{kind}"


def new_tag() -> str:
    return secrets.token_hex(4)


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a zombie does not); unsure means alive."""
    if pid == os.getpid() or os.name != "posix":
        return True         # on Windows os.kill(pid, 0) would end the process
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in ("Z", "X")


# ------------------------------------------------------------------ leftovers

def clean_folder(folder: str | Path) -> None:
    """Complete or remove what killed symparams runs left in ``folder``.

    Journals first: their renames are made (the killed run had written every
    file).  Then the other leftovers of dead processes go, except that a kept
    old folder whose folder is missing is put back (a homework swap cut between
    its two renames).
    """
    folder = Path(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return
    stale = []
    for name in names:
        match = _OURS.match(name)
        if match and not process_alive(int(match["pid"])):
            stale.append((folder / name, match))
    for path, match in stale:
        if match["kind"] == "journal":
            _finish_journal(path)
    for path, match in stale:
        try:
            if match["kind"] == "journal":
                continue
            if path.is_dir() and not path.is_symlink():
                origin = folder / (match["name"] or "")
                if match["kind"] == "old" and _whole_name(match["name"]) and \
                        not os.path.lexists(origin):
                    os.rename(path, origin)
                else:
                    shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink()
        except OSError:
            pass


def _whole_name(name: str | None) -> bool:
    """A name our_name did not cut, so the folder it names can be found again."""
    return bool(name) and len(name.encode("utf-8", "surrogateescape")) <= 180


def _plain(name) -> bool:
    return isinstance(name, str) and name not in ("", ".", "..") and "/" not in name \
        and "\0" not in name


def _same_run(name, run) -> bool:
    """``name`` is a plain name of our form, of the run ``run`` (a match)."""
    ours = _OURS.match(name) if _plain(name) else None
    return bool(ours) and (ours["pid"], ours["tag"]) == (run["pid"], run["tag"])


def _finish_journal(path: Path) -> None:
    """Make the renames a journal lists: names in its own folder only, temporaries
    of the same run only (a journal is never trusted to reach elsewhere)."""
    run = _OURS.match(path.name)
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["renames"]
        for tmp, target, backup in entries:
            if not (_plain(target) and _same_run(tmp, run) and
                    (backup is None or _same_run(backup, run))):
                continue
            tmp, target = path.parent / tmp, path.parent / target
            if tmp.exists() and not target.is_dir():
                os.replace(tmp, target)
            if backup:
                (path.parent / backup).unlink(missing_ok=True)
    except (OSError, ValueError, KeyError, TypeError):
        pass
    path.unlink(missing_ok=True)


# ------------------------------------------------------------------ targets

@dataclass
class Target:
    """Where one file goes: ``how`` is "stdout", "direct" or "replace"."""
    given: str
    path: Path
    how: str


def check_target(path: str | Path) -> Target:
    """What writing ``path`` means, or a one-line error before anything is written."""
    given = str(path)
    if given == STDOUT:
        return Target(given, Path(STDOUT), "stdout")
    if "\0" in given:
        raise SymparamsError("a file name cannot hold a NUL character", file=repr(given))
    try:
        info = os.stat(given)          # follows symbolic links
    except (FileNotFoundError, NotADirectoryError):
        info = None                    # a new file; its folders are checked below
    except OSError as exc:
        raise SymparamsError(f"cannot write here: {exc.strerror}", file=given) from None
    if info is not None:
        if given.startswith(_DEVICE_FOLDERS) and not stat.S_ISDIR(info.st_mode):
            # /dev/stdout may lead to the regular file the shell redirected
            # into: write through it, as the shell's `>` or `>>` meant.
            return Target(given, Path(given), "direct")
        if stat.S_ISDIR(info.st_mode):
            raise SymparamsError("is a folder; expected a file name", file=given)
        if not stat.S_ISREG(info.st_mode):
            return Target(given, Path(given), "direct")
    real = Path(os.path.realpath(given))
    check_folder(real.parent, given)
    return Target(given, real, "replace")


def check_folder(folder: str | Path, given: str | None = None) -> None:
    """A folder to write into: it, or the nearest existing folder above it (where
    the missing ones will be made), must be a folder we may write in."""
    probe = Path(folder)
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        raise SymparamsError(f"cannot write to this folder: {probe} is not a folder",
                             file=str(given or folder))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise SymparamsError(f"cannot write to this folder: {probe}: permission denied",
                             file=str(given or folder))


def check_targets(paths) -> list[Target]:
    """Check every path of a run; two paths naming one file are refused too."""
    targets, seen = [], {}
    for path in paths:
        target = check_target(path)
        key = str(target.path) if target.how != "stdout" else None
        if key is not None and key in seen:
            raise SymparamsError(f"is given twice (also as {seen[key]})", file=target.given)
        if key is not None:
            seen[key] = target.given
        targets.append(target)
    return targets


# ------------------------------------------------------------------ writing

def write_files(files) -> list[Path]:
    """Write ``[(path, text or bytes), …]`` as one run, all or nothing (see above).

    Returns the paths as given.  Raises SymparamsError (one line) when a path
    cannot be written; then no file has changed.
    """
    files = [(path, data.encode("utf-8") if isinstance(data, str) else bytes(data))
             for path, data in files]
    targets = check_targets(path for path, _ in files)
    replaced = [(t, data) for t, (_, data) in zip(targets, files) if t.how == "replace"]
    for folder in dict.fromkeys(t.path.parent for t, _ in replaced):
        clean_folder(folder)
    tag = new_tag()
    staged = _stage(replaced, tag)
    try:
        _commit(staged, tag)
    finally:
        for _, tmp, backup in staged:
            for leftover in (tmp, backup):
                if leftover is not None:
                    _unlink(leftover)
    for target, (_, data) in zip(targets, files):
        if target.how == "stdout":
            _to_stdout(data)
        elif target.how == "direct":
            _write_direct(target, data)
    return [Path(t.given) for t in targets]


def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write one file as :func:`write_files` does."""
    return write_files([(path, data)])[0]


def _stage(replaced, tag: str) -> list[tuple[Target, Path, Path | None]]:
    """Every new file written to its temporary; on failure none is left."""
    staged: list[tuple[Target, Path, Path | None]] = []
    try:
        for number, (target, data) in enumerate(replaced, start=1):
            target.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.path.parent / our_name(target.path.name, "tmp", tag)
            staged.append((target, tmp, None))
            with open(tmp, "xb") as handle:
                handle.write(data)
            os.chmod(tmp, _mode_of(target.path))
            crash_point("temp", number)
    except OSError as exc:
        for _, tmp, _ in staged:
            _unlink(tmp)
        where = staged[-1][0].given if staged else replaced[0][0].given
        raise SymparamsError(f"cannot write: {exc.strerror or exc}", file=where) from None
    except BaseException:
        for _, tmp, _ in staged:
            _unlink(tmp)
        raise
    return staged


def _mode_of(path: Path) -> int:
    """A replaced file keeps its permissions; a new one is readable by everyone."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o644


def _commit(staged, tag: str) -> None:
    """Rename every temporary over its file in one tight loop; a failure rolls back."""
    if not staged:
        return
    with _signals_held():
        keep = []
        for target, tmp, _ in staged:
            keep.append((target, tmp, _keep_old(target.path, tag)))
        staged[:] = keep
        journals = _write_journals(staged, tag) if len(staged) > 1 else []
        done = []
        try:
            for number, (target, tmp, backup) in enumerate(staged, start=1):
                os.replace(tmp, target.path)
                done.append((target, backup))
                crash_point("rename", number)
        except OSError as exc:
            _roll_back(done)
            raise SymparamsError(f"cannot write: {exc.strerror or exc}; no file was changed",
                                 file=target.given) from None
        finally:
            # Still inside the held signals: a SIGTERM waiting for the loop to
            # end must find no journal and no kept old file behind.
            for journal in journals:
                _unlink(journal)
            for _, _, backup in staged:
                if backup is not None:
                    _unlink(backup)


def _keep_old(path: Path, tag: str) -> Path | None:
    """A hard link to the file about to be replaced, to put it back on failure."""
    if not path.is_file():
        return None
    backup = path.parent / our_name(path.name, "old", tag)
    try:
        os.link(path, backup)
    except OSError:
        try:
            shutil.copy2(path, backup)
        except OSError:
            return None
    return backup


def _write_journals(staged, tag: str) -> list[Path]:
    by_folder: dict[Path, list] = {}
    for target, tmp, backup in staged:
        by_folder.setdefault(target.path.parent, []).append(
            [tmp.name, target.path.name, backup.name if backup else None])
    journals = []
    for folder, entries in by_folder.items():
        journal = folder / f".symparams-{os.getpid()}-{tag}.journal"
        journal.write_text(json.dumps({"renames": entries}), encoding="utf-8")
        journals.append(journal)
    return journals


def _roll_back(done) -> None:
    for target, backup in reversed(done):
        try:
            if backup is not None:
                os.rename(backup, target.path)
            else:
                os.unlink(target.path)
        except OSError:
            pass


def _unlink(path: Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _to_stdout(data: bytes) -> None:
    sys.stdout.flush()
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is not None:
        buffer.write(data)
        buffer.flush()
    else:
        sys.stdout.write(data.decode("utf-8", "replace"))


def _write_direct(target: Target, data: bytes) -> None:
    """A FIFO or device: opened and written, never replaced."""
    try:
        with open(target.given, "wb") as handle:
            handle.write(data)
    except OSError as exc:
        raise SymparamsError(f"cannot write: {exc.strerror or exc}", file=target.given) from None


@contextmanager
def _signals_held():
    """Hold back SIGINT/SIGTERM/SIGHUP/SIGQUIT; they arrive when the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def crash_point(stage: str, number: int) -> None:
    """Test hook: ``SYMPARAMS_TEST_CRASH=STAGE:N[:SIGNAL]`` sends the process SIGNAL
    (default KILL) after the N-th step of STAGE (temp, rename, variant), so the
    tests can check what a killed run leaves behind."""
    spec = os.environ.get("SYMPARAMS_TEST_CRASH")
    if not spec:
        return
    parts = spec.split(":")
    if parts[0] == stage and len(parts) > 1 and parts[1] == str(number):
        name = parts[2] if len(parts) > 2 else "KILL"
        os.kill(os.getpid(), getattr(signal, f"SIG{name}"))


__all__ = ["atomic_write", "write_files", "check_target", "check_targets", "check_folder", "clean_folder",
           "our_name", "new_tag", "process_alive", "crash_point", "Target", "STDOUT"]
