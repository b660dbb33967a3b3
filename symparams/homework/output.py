"""Writing a homework set to disk: a fixed layout, rendered in parallel, all or nothing.

::

    DIR/manifest.json            template, seed, every variant's answers and questions
    DIR/answers.csv              variant, question, answer
    DIR/moodle.xml               every variant's questions for Moodle
    DIR/variant-01/spec.yaml     the concrete network (symparams count reads it)
    DIR/variant-01/questions.pdf the question sheet (.html/.md/.tex per --format)
    DIR/variant-01/answers.pdf   the worked answer key

Everything is written into a staging folder beside DIR
(``.DIR.symparams-PID-TAG.tmp``) and swapped into place at the end, so an
interrupted or failed run leaves no half-written DIR and an existing DIR stays
as it was until the new one is complete:

* the swap is one step where the system can exchange two folders
  (``renameat2(RENAME_EXCHANGE)`` on Linux), so DIR exists throughout; else two
  renames, and a run killed between them has the old DIR put back by the next;
* staging folders of killed runs are removed by the next run writing beside them;
* one run at a time per DIR: a lock on ``.DIR.symparams.lock`` beside it (removed
  at the end), and a second run says so in one line;
* a DIR that is a symbolic link is followed: the folder it points to is
  replaced and the link stays;
* the pool's workers exit with the process that started them (killed or not).
"""
from __future__ import annotations

import csv
import ctypes
import errno
import io
import json
import os
import shutil
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

try:
    import fcntl
except ImportError:          # not on Windows: runs there are not locked
    fcntl = None

from ..errors import SymparamsError
from ..outfiles import check_folder, clean_folder, crash_point, new_tag, our_name
from .build import Variant, answers_csv_rows, load_template, make_variant, make_variants, manifest

SHEET_FORMATS = ("pdf", "html", "md", "tex")
DEFAULT_FORMATS = ("pdf", "html")
KINDS = ("questions", "answers")


def _render_variant(task) -> list[tuple[str, bytes]]:
    """Worker: rebuild one variant from its spec and render its sheets.

    Variants are rebuilt in the worker (cheap, deterministic) rather than
    pickled, so every process count gives byte-identical files.
    """
    spec, number, total, seed, template, plan, formats, templates = task
    from ..render.homework import render_sheet
    variant = make_variant(spec, number, total, seed, template, plan)
    files = []
    for kind in KINDS:
        for fmt in formats:
            content = render_sheet(variant, kind, fmt, templates)
            data = content if isinstance(content, bytes) else content.encode("utf-8")
            files.append((f"{variant.id}/{kind}.{fmt}", data))
    return files


def _csv_text(rows: Iterable[tuple[str, str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["variant", "question", "answer"])
    writer.writerows(rows)
    return buffer.getvalue()


def _progress(total: int, quiet: bool):
    """A progress bar on stderr when it is a terminal and not --quiet; else nothing."""
    if quiet or not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
    progress = Progress("[progress.description]{task.description}", BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(),
                        console=Console(stderr=True), transient=True)
    progress.start()
    progress.add_task("rendering variants", total=total)
    return progress


def write_homework(target: str, variants: int, seed: int, out_dir: str | Path = "homework",
                   formats: Iterable[str] = DEFAULT_FORMATS, jobs: int | None = None,
                   quiet: bool = False, exact: bool = False,
                   templates: str | Path | None = None) -> tuple[Path, list[Variant]]:
    """Draw, render and write a homework set; returns the folder and the variants."""
    formats = list(formats)
    if templates is not None:
        # A folder we would not read from is an error before anything is drawn.
        from ..render.report import template_loader
        template_loader(templates)
    template, plan = load_template(target, exact=exact)
    drawn = make_variants(template, plan, variants, seed)   # bad input fails here, before any file
    name = template.data.get("name", "homework")
    from .moodle import moodle_xml
    fixed = {
        "manifest.json": json.dumps(manifest(name, seed, drawn), indent=2,
                                    ensure_ascii=False) + "\n",
        "answers.csv": _csv_text(answers_csv_rows(drawn)),
        "moodle.xml": moodle_xml(name, drawn),
        **{f"{v.id}/spec.yaml": v.spec_yaml() for v in drawn},
    }
    out = _output_folder(out_dir)
    with _locked(out):
        clean_folder(out.parent)
        staging = out.parent / our_name(out.name, "tmp", new_tag())
        try:
            os.mkdir(staging, 0o700)
        except OSError as exc:
            raise SymparamsError(f"cannot write here: {exc.strerror}", file=str(out)) from None
        try:
            _write_set(staging, fixed, drawn, seed, name, plan, formats, jobs, quiet, templates)
            _swap_into_place(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    return Path(out_dir), drawn


def _write_set(staging, fixed, drawn, seed, name, plan, formats, jobs, quiet, templates):
    for rel, text in fixed.items():
        _write(staging / rel, text.encode("utf-8"))
    tasks = [(v.spec, v.number, len(drawn), seed, name, plan, formats,
              None if templates is None else str(templates)) for v in drawn]
    progress = _progress(len(tasks), quiet)
    try:
        for number, files in enumerate(_run(tasks, jobs), start=1):
            for rel, data in files:
                _write(staging / rel, data)
            crash_point("variant", number)
            if progress:
                progress.advance(progress.task_ids[0])
    finally:
        if progress:
            progress.stop()


def lock_path(out: Path) -> Path:
    """The lock file of a homework folder: hidden, beside it, there while a run holds it."""
    return out.parent / f".{out.name}.symparams.lock"


def _output_folder(out_dir: str | Path) -> Path:
    """The folder to replace: a symbolic link is followed; a file is refused."""
    out = Path(out_dir)
    if "\0" in str(out):
        raise SymparamsError("a folder name cannot hold a NUL character", file=repr(str(out)))
    if out.is_symlink():
        out = Path(os.path.realpath(out))
    if os.path.lexists(out) and not out.is_dir():
        raise SymparamsError("is not a folder", file=str(out_dir))
    check_folder(out.parent, str(out_dir))
    return out


@contextmanager
def _locked(out: Path):
    """Hold the folder's lock for the run, or say in one line that another run has it.

    The holder removes the lock file before letting go; so that a run which
    opened the file just before cannot then lock a removed file, a lock only
    counts when the path still names the file locked.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SymparamsError(f"cannot write here: {exc.strerror}", file=str(out)) from None
    path = lock_path(out)
    for _ in range(100):
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise SymparamsError(f"cannot write here: {exc.strerror}", file=str(out)) from None
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise SymparamsError("another symparams homework run is writing this folder; "
                                 "run again when it has finished", file=str(out)) from None
        try:
            if os.stat(path).st_ino == os.fstat(fd).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)         # the file was removed by the run before: try again
    else:
        raise SymparamsError("cannot lock this folder", file=str(out))
    try:
        yield
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
        os.close(fd)         # closing releases the lock


def _run(tasks, jobs: int | None):
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(tasks) == 1:
        yield from map(_render_variant, tasks)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        # map keeps the order, so files are written in the same order for any job count.
        try:
            yield from pool.map(_render_variant, tasks)
        except BaseException:
            # A failed or interrupted run drops the variants not started yet
            # instead of rendering them all before it can stop.
            pool.shutdown(wait=True, cancel_futures=True)
            raise


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Pool worker start: exit when the process that started the pool is gone.

    A worker whose parent was killed would otherwise go on rendering its queue or
    wait on it for minutes.  On Linux the kernel sends SIGKILL when the parent
    dies (prctl PR_SET_PDEATHSIG); elsewhere, and as a second line, a thread
    checks every second that the parent is still the same process.
    """
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL),
                                                     0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:          # the parent died before prctl took effect
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                     name="symparams-watch-parent").start()


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(1)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, 0o644)


# renameat2(2): exchange two paths in one step (Linux 3.15+, glibc 2.28+).
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_NOT_SUPPORTED = {errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, getattr(errno, "ENOTSUP", 95)}


def _renameat2():
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                         ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step; False when the system or file system cannot."""
    function = _renameat2()
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in _NOT_SUPPORTED:
        return False
    raise OSError(code, os.strerror(code), str(b))


def can_exchange(folder: str | Path) -> bool:
    """Whether two folders inside ``folder`` can be swapped in one step."""
    tag = new_tag()
    a, b = (Path(folder) / our_name(name, "tmp", tag) for name in ("probe-a", "probe-b"))
    try:
        a.mkdir()
        b.mkdir()
        return _exchange(a, b)
    except OSError:
        return False
    finally:
        for path in (a, b):
            shutil.rmtree(path, ignore_errors=True)


def _swap_into_place(staging: Path, out: Path) -> None:
    """Put the finished folder at ``out``; the old ``out`` is removed only after."""
    os.chmod(staging, 0o755)
    if not os.path.lexists(out):
        os.rename(staging, out)
    elif _exchange(staging, out):
        shutil.rmtree(staging, ignore_errors=True)       # it now holds the old set
    else:
        # Two renames: a run killed between them leaves out missing and the old
        # set as a .old folder, which the next run's clean_folder puts back.
        old = out.parent / our_name(out.name, "old", new_tag())
        os.rename(out, old)
        os.rename(staging, out)
        shutil.rmtree(old, ignore_errors=True)
