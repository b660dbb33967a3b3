"""Reading a Keras model's files without Keras: a ``.keras`` archive or ``to_json()`` text.

A ``.keras`` file is a zip archive holding ``config.json`` (the architecture),
``metadata.json`` (the Keras version) and ``model.weights.h5`` (the weights).
Only the two JSON members are read into memory, each through a capped read, and
nothing is extracted.  The archive is refused before that when it looks hostile:
too many members, a member name that is absolute, climbs out (``..``), holds
control characters or is nested absurdly deep, a JSON member larger than
``MAX_JSON`` or compressed more than ``MAX_RATIO`` times (a zip bomb).  The
weights are opened with h5py (when it is installed) only to read the *shapes*
of the stored tensors for the accounting check; no tensor data is read, links
to other files are not followed and the walk is bounded.
"""
from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..documents import MAX_BYTES, parse_document
from ..errors import SymparamsError

MAX_JSON = MAX_BYTES          # config.json / metadata.json, inflated
MAX_RATIO = 200               # inflated / compressed, for members over RATIO_FLOOR
RATIO_FLOOR = 1 << 20         # small members may compress well (a 64-byte metadata.json)
MAX_MEMBERS = 10_000          # a model has 3, plus assets
MAX_NAME_PARTS = 16           # path components of one member name
MAX_H5_NODES = 200_000        # groups and datasets walked in model.weights.h5
MAX_H5_DEPTH = 32
_ODD_NAME = re.compile(r"[\x00-\x1f\x7f\\]|^/|(^|/)\.\.(/|$)|^[A-Za-z]:")


@dataclass
class KerasSource:
    """What a Keras file gives: the model's config, the Keras version that wrote it
    and, for an archive whose weights h5py could read, each stored tensor's size."""
    config: dict[str, Any]
    source: str
    version: str | None = None
    weights: "StoredWeights | None" = None
    weights_note: str | None = None   # why the weights could not be read


@dataclass
class StoredWeights:
    """The sizes of the tensors stored in ``model.weights.h5``, by their top-level group
    under ``layers/`` (Keras names each group after the layer's class: ``conv2d_3``)."""
    by_group: dict[str, int]
    total: int


def read_keras(path: str | Path) -> KerasSource:
    """The config (and weights' sizes) of a ``.keras`` archive or a ``to_json()`` file."""
    path = Path(path)
    source = str(path)
    if path.suffix.lower() == ".keras":
        return _read_archive(path, source)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_JSON + 1)
    except OSError as exc:
        raise SymparamsError(f"cannot read: {exc.strerror}", file=source) from None
    return KerasSource(_model_config(_json_member(raw, source), source), source)


def _json_member(raw: bytes, source: str) -> Any:
    if len(raw) > MAX_JSON:
        raise SymparamsError(f"larger than {MAX_JSON // 2 ** 20} MB; a model's config is "
                             f"far smaller", file=source)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SymparamsError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                             file=source) from None
    return parse_document(text, ".json", source)


def _model_config(data: Any, source: str) -> dict[str, Any]:
    """The top level of a saved model: ``{"class_name": ..., "config": {...}}``."""
    if not isinstance(data, dict) or not isinstance(data.get("class_name"), str) \
            or not isinstance(data.get("config"), (dict, list)):
        raise SymparamsError("not a Keras model config: expected a JSON object with "
                             "class_name and config (as model.to_json() writes it)", file=source)
    return data


def _read_archive(path: Path, source: str) -> KerasSource:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError,
            NotImplementedError) as exc:
        raise SymparamsError(f"not a readable .keras archive (zip): {exc}", file=source) from None
    except OSError as exc:
        raise SymparamsError(f"cannot read: {exc.strerror or exc}", file=source) from None
    with archive:
        members = _checked_members(archive, source)
        if "config.json" not in members:
            raise SymparamsError("the .keras archive has no config.json (the architecture); "
                                 "save the model with model.save('model.keras')", file=source)
        config = _model_config(_read_member(archive, members["config.json"], source),
                               f"{source}:config.json")
        version = None
        if "metadata.json" in members:
            metadata = _read_member(archive, members["metadata.json"], source)
            if isinstance(metadata, dict) and isinstance(metadata.get("keras_version"), str):
                version = metadata["keras_version"][:40]
        weights, note = None, None
        if "model.weights.h5" in members:
            weights, note = _stored_weights(archive, members["model.weights.h5"], source)
        else:
            note = "the archive holds no model.weights.h5"
    return KerasSource(config, source, version, weights, note)


def _checked_members(archive: zipfile.ZipFile, source: str) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SymparamsError(f"the archive has {len(infos):,} members (at most {MAX_MEMBERS:,}); "
                             f"a .keras file has a handful", file=source)
    members: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        name = info.filename
        if _ODD_NAME.search(name) or len(name) > 1024 or name.count("/") >= MAX_NAME_PARTS:
            raise SymparamsError(f"the archive has a member with an odd name "
                                 f"({name[:60]!r}): refused", file=source)
        if name in members:
            raise SymparamsError(f"the archive holds {name[:60]!r} twice: refused", file=source)
        if info.compress_size and info.file_size > RATIO_FLOOR \
                and info.file_size > MAX_RATIO * info.compress_size:
            raise SymparamsError(f"{name[:60]} would inflate {info.file_size // info.compress_size:,}"
                                 f" times (a zip bomb?): refused", file=source)
        members[name] = info
    return members


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, source: str) -> Any:
    where = f"{source}:{info.filename}"
    if info.file_size > MAX_JSON:
        raise SymparamsError(f"{info.filename} inflates to {info.file_size:,} bytes (at most "
                             f"{MAX_JSON:,}): refused", file=source)
    try:
        # The header's size may lie: the read itself stops past the limit.
        with archive.open(info) as member:
            raw = member.read(MAX_JSON + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError,
            RuntimeError) as exc:
        raise SymparamsError(f"cannot read {info.filename} from the archive: {exc}",
                             file=source) from None
    if len(raw) > MAX_JSON:
        raise SymparamsError(f"{info.filename} inflates past {MAX_JSON:,} bytes (a zip bomb?): "
                             f"refused", file=source)
    return _json_member(raw, where)


def _stored_weights(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                    source: str) -> tuple[StoredWeights | None, str | None]:
    """The shapes in model.weights.h5 summed per layer group; (None, why) when h5py is
    missing or cannot read the file.  A hostile h5 file is bad input, not a crash."""
    try:
        import h5py
    except ImportError:
        return None, "h5py is not installed, so model.weights.h5 was not read"
    try:
        with _open_member(archive, info) as member, h5py.File(member, "r") as handle:
            return _walk_h5(handle, h5py), None
    except SymparamsError as exc:
        raise exc.located(file=f"{source}:{info.filename}") from None
    except Exception as exc:  # h5py raises OSError, KeyError, ValueError … on bad files
        raise SymparamsError(f"cannot read model.weights.h5: {type(exc).__name__}: {exc}",
                             file=source) from None


class _StoredMember(io.RawIOBase):
    """An uncompressed member read in place (Keras stores the weights uncompressed):
    h5py seeks back and forth, which zipfile serves by reading again from the start."""

    def __init__(self, path: str, start: int, size: int):
        super().__init__()
        self._file = open(path, "rb")
        self._start, self._size, self._pos = start, size, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self._size - self._pos)
        if count <= 0:
            return 0
        self._file.seek(self._start + self._pos)
        data = self._file.read(count)
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def close(self) -> None:
        self._file.close()
        super().close()


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo):
    """A file object of the member: read in place when it is stored uncompressed and its
    local header is where the directory says, else through zipfile."""
    path = archive.filename
    if info.compress_type == zipfile.ZIP_STORED and path and not info.flag_bits & 0x1:
        with open(path, "rb") as raw:
            raw.seek(info.header_offset)
            header = raw.read(30)
            total = raw.seek(0, io.SEEK_END)
        if len(header) == 30 and header[:4] == b"PK\x03\x04":
            start = info.header_offset + 30 + int.from_bytes(header[26:28], "little") \
                + int.from_bytes(header[28:30], "little")
            if start + info.file_size <= total:
                return _StoredMember(path, start, info.file_size)
    return archive.open(info)


def _walk_h5(handle: Any, h5py: Any) -> StoredWeights:
    """Sizes of the datasets under ``layers/`` and the model's own ``vars/``; the optimizer's
    state and random seed generators' state are not weights."""
    by_group: dict[str, int] = {}
    stack: list[tuple[Any, str, int]] = []
    for top in ("layers", "vars"):
        link = handle.get(top, getlink=True)
        if isinstance(link, h5py.HardLink):
            stack.append((handle[top], top, 1))
    nodes = 0
    while stack:
        group, path, depth = stack.pop()
        if depth > MAX_H5_DEPTH:
            raise SymparamsError(f"groups nested more than {MAX_H5_DEPTH} deep")
        for name in group:
            nodes += 1
            if nodes > MAX_H5_NODES:
                raise SymparamsError(f"more than {MAX_H5_NODES:,} groups and tensors")
            link = group.get(name, getlink=True)
            if not isinstance(link, h5py.HardLink):
                continue   # soft and external links: followed by nothing here
            if name.startswith("seed_generator"):
                continue
            item = group[name]
            child = f"{path}/{name}"
            if isinstance(item, h5py.Group):
                stack.append((item, child, depth + 1))
            elif isinstance(item, h5py.Dataset):
                size = 1
                for axis in item.shape or ():
                    size *= int(axis)
                parts = child.split("/")
                key = parts[1] if parts[0] == "layers" else ""
                by_group[key] = by_group.get(key, 0) + size
    return StoredWeights(by_group, sum(by_group.values()))


__all__ = ["KerasSource", "StoredWeights", "read_keras", "MAX_JSON", "MAX_RATIO"]
