"""Jinja for every template, ours and a user's (``--templates DIR``).

* :class:`SafeEnvironment`: Jinja's sandbox, so a template can place the values
  it is given but not reach Python's internals (``cycler.__init__.__globals__``
  and the like), and no method of ours that takes a path (such as
  ``report.net.to_csv(path)``), so a template pack shared between teachers
  cannot run commands or write files.
* :func:`check_template_folder`: a user's folder must hold its files where we
  read them (``md/report.md.j2``, ``homework/html/answers.html.j2`` …); a file
  anywhere else would be ignored in silence, so it is an error naming where
  such a file belongs.
* :func:`template_error`: any error raised while loading or rendering a
  template (syntax, undefined value, a Python error inside an expression, the
  sandbox) as one line naming the template file and line.
"""
from __future__ import annotations

import functools
import inspect
import os
from pathlib import Path, PurePath

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from ..errors import SymparamsError

# Parameter names that mean "a place in the file system": a callable of ours
# taking one writes (or reads) files, which no template needs to do.
_PATH_PARAMETERS = frozenset({"path", "out_dir", "folder", "directory", "file", "filename",
                              "out", "dest", "target", "templates"})
TEMPLATE_SUFFIXES = (".j2", ".css")
# Where the templates live, for the messages (see templates/README.md).
LAYOUT = ("reports in md/, html/, tex/ (md/report.md.j2 …), homework sheets in "
          "homework/md/, homework/html/, homework/tex/")


class SafeEnvironment(SandboxedEnvironment):
    """The sandbox, and no call of a symparams function or method that takes a path."""

    def is_safe_callable(self, obj) -> bool:
        return super().is_safe_callable(obj) and not _touches_files(obj)


def _touches_files(obj) -> bool:
    if isinstance(getattr(obj, "__self__", None), PurePath):
        return True
    if isinstance(obj, type) and issubclass(obj, PurePath):
        return True
    func = getattr(obj, "__func__", obj)
    if not (getattr(func, "__module__", None) or "").startswith("symparams"):
        return False
    try:
        return _takes_a_path(func)
    except TypeError:           # unhashable callable object: look each time
        return _signature_has_path(func)


@functools.lru_cache(maxsize=512)
def _takes_a_path(func) -> bool:
    return _signature_has_path(func)


def _signature_has_path(func) -> bool:
    try:
        parameters = inspect.signature(func).parameters
    except (TypeError, ValueError):
        return True             # cannot tell: refuse
    return any(name in _PATH_PARAMETERS for name in parameters)


# ------------------------------------------------------------------ layout

def _template_files(root: Path) -> list[str]:
    """Relative paths (with /) of the template files under ``root``; hidden ones skipped."""
    found = []
    for folder, subfolders, names in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            if name.endswith(TEMPLATE_SUFFIXES) and not name.startswith("."):
                found.append(Path(folder, name).relative_to(root).as_posix())
    return found


@functools.lru_cache(maxsize=4)
def _known(packaged: str) -> tuple[frozenset, frozenset]:
    """Our template names and the folders that hold them."""
    names = frozenset(_template_files(Path(packaged)))
    return names, frozenset(name.rpartition("/")[0] for name in names)


def check_template_folder(folder: str | Path, packaged: Path) -> None:
    """Refuse a ``--templates`` folder with a file where we would not read it.

    A file replaces ours by its path (``md/report.md.j2``); a new partial
    (a name starting with ``_``) may sit beside ours for a user's templates to
    include.  Other files (a README, images) are not looked at.
    """
    folder = Path(folder)
    known, subfolders = _known(str(packaged))
    found = _template_files(folder)
    if not found:
        raise SymparamsError(f"no template files here; expected our paths: {LAYOUT}", file=str(folder), field="--templates")
    for rel in found:
        where, _, name = rel.rpartition("/")
        if rel in known or (where in subfolders and name.startswith("_")):
            _check_readable(folder / rel)
            continue
        same = sorted(k for k in known if k.rpartition("/")[2] == name)
        hint = (f"expected {' or '.join(same)}" if same else
                f"not a template name we read ({LAYOUT})")
        raise SymparamsError(f"{rel} is not read from there: {hint}", file=str(folder),
                             field="--templates")


def _check_readable(path: Path) -> None:
    """A template must be UTF-8 text: Jinja's loader would fail without naming it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SymparamsError(f"cannot read this template: {exc.strerror}",
                             file=str(path)) from None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise SymparamsError(f"template error at line {line}: not UTF-8 text "
                             f"(byte 0x{data[exc.start]:02x})", file=str(path)) from None


# ------------------------------------------------------------------ errors

def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The file and line of the innermost template frame of the traceback.

    Jinja rewrites tracebacks so that template code shows as frames of the
    template file at its own line numbers.
    """
    where = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(TEMPLATE_SUFFIXES) or \
                "__jinja_exception__" in tb.tb_frame.f_globals:
            where = (code.co_filename, tb.tb_lineno)
        tb = tb.tb_next
    return where


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def template_error(exc: BaseException) -> SymparamsError | None:
    """``exc`` as a one-line error naming the template file and line, or None when
    it did not come from a template (then it is a bug of ours: let it show)."""
    if isinstance(exc, SymparamsError):
        return None
    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = (exc.filename or exc.name or "template", exc.lineno)
    else:
        where = _template_frame(exc)
        if where is None:
            if not isinstance(exc, jinja2.TemplateError):
                return None
            where = (getattr(exc, "name", None) or "template", None)
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"no template {exc.name!r} (ours or in --templates)"
    elif isinstance(exc, jinja2.TemplateError):
        message = exc.message or type(exc).__name__
    else:
        message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, jinja2.sandbox.SecurityError):
        message = f"not allowed in a template ({message})"
    filename, line = where
    at = f" at line {line}" if line else ""
    return SymparamsError(f"template error{at}: {_short(message)}", file=str(filename))


__all__ = ["SafeEnvironment", "check_template_folder", "template_error", "LAYOUT"]
