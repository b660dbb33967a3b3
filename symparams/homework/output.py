"""Writing a homework set to disk: a fixed layout, rendered in parallel, all or nothing.

::

    DIR/manifest.json            template, seed, every variant's answers and questions
    DIR/answers.csv              variant, question, answer
    DIR/moodle.xml               every variant's questions for Moodle
    DIR/variant-01/spec.yaml     the concrete network (symparams count reads it)
    DIR/variant-01/questions.pdf the question sheet (.html/.md/.tex per --format)
    DIR/variant-01/answers.pdf   the worked answer key

Everything is written into a temporary folder beside DIR and renamed into
place at the end, so an interrupted or failed run leaves no half-written DIR
and an existing DIR stays as it was until the new one is complete.
"""
from __future__ import annotations

import csv
import io
import json
import os
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterable

from ..errors import SymparamsError
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
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise SymparamsError("is not a folder", file=str(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise SymparamsError(f"cannot write here: {exc.strerror}", file=str(out)) from None
    try:
        for rel, text in fixed.items():
            _write(staging / rel, text.encode("utf-8"))
        tasks = [(v.spec, v.number, len(drawn), seed, name, plan, formats,
                  None if templates is None else str(templates)) for v in drawn]
        progress = _progress(len(tasks), quiet)
        try:
            for files in _run(tasks, jobs):
                for rel, data in files:
                    _write(staging / rel, data)
                if progress:
                    progress.advance(progress.task_ids[0])
        finally:
            if progress:
                progress.stop()
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out, drawn


def _run(tasks, jobs: int | None):
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(tasks) == 1:
        yield from map(_render_variant, tasks)
        return
    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
        # map keeps the order, so files are written in the same order for any job count.
        yield from pool.map(_render_variant, tasks)


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, 0o644)


def _swap_into_place(staging: Path, out: Path) -> None:
    """Rename the finished folder to ``out``; an old ``out`` is removed only after."""
    os.chmod(staging, 0o755)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
        os.rmdir(old)
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)
