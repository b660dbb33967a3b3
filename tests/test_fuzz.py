"""Fuzzing hostile and malformed specs (issue 8, section 2).

A seeded generator makes spec files two ways: by mutating the raw bytes of
valid YAML, JSON and TOML specs (deletions, copies, flipped bytes, hostile
snippets such as aliases, deep brackets, huge numbers, control characters,
lone surrogates), and by mutating valid spec structures (wrong types, huge
numbers, unicode, control characters, deep nesting, unknown keys and words,
misspelt keywords) before writing them in one of the three formats; some
cases are built attacks (alias bombs, deep nesting, duplicate keys).  Each
case runs one of ``count``, ``count --json``, ``report --format md`` (into a
temporary folder) or ``symparams.load``, in-process, and must:

* exit 0 or 2 (``load`` returns a network or raises SymparamsError);
* write at most one line on stderr, never a traceback;
* finish before a per-case alarm (a hang detector, not a timing assertion);
* stay within a memory ceiling (RLIMIT_AS lowered while the cases run, so a
  blow-up raises MemoryError instead of taking the machine).

A handful of cases also run through ``python -m symparams`` in a subprocess
with a memory limit and a timeout.  ``FUZZ_CASES`` sets the number of cases
(a few hundred by default; ``make fuzz`` runs 10,000) and ``FUZZ_SEED`` the seed.
"""
from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
import yaml

import symparams
from symparams import SymparamsError
from symparams.cli import main

from conftest import ROOT

CASES = int(os.environ.get("FUZZ_CASES", "300"))
SEED = int(os.environ.get("FUZZ_SEED", "8"))
CASE_SECONDS = 30          # far above any honest case: only a hang trips it
MEMORY_HEADROOM = 1536 * 2 ** 20

PRESETS = ROOT / "symparams" / "presets"
BASE_TEXTS = {p.stem: p.read_text("utf-8") for p in sorted(PRESETS.glob("*.yaml"))}
BASE_TEXTS["lenet-symbolic"] = (ROOT / "examples" / "lenet-symbolic.yaml").read_text("utf-8")
BASE_DATA = {name: yaml.safe_load(text) for name, text in BASE_TEXTS.items()}

HOSTILE_TEXT = [
    "\x00", "\x1b[31mRED", "\x1b]0;title\x07", "\n", "\r", "\t", "\u202e", "\u2028", "\ufeff",
    "\udc80", "𝔘", "k₁", "é", "&a ", "*a", "<<: *a", "[" * 3000, "{" * 500, "- " * 600,
    "9" * 5000, "1" + "0" * 101, "0x" + "f" * 500, "1e999", "-1", "0", "NaN", ".inf",
    "!!python/object/apply:os.system ['true']", "!!binary aGVsbG8=", "? ", "'", '"', "\\",
    "%YAML 1.1\n", "---\n", "...\n", ": ", ", ", "#", "smae", "causal", "banana", "conv1d",
    "global_average_pooling", "padding: smae", "activation: banana", "9^64*" * 40 + "9",
    "H^64", "floor(", "min(1,", "k_1", "__import__('os')", "{{ 7*7 }}", "$(reboot)",
    "filters: 4\nfilters: 5\n", "input = [8, 8, 3]\n", '"a": 1, "a": 2', "[[layers]]\n",
]

HOSTILE_VALUES = [
    None, True, False, 0, -1, 1.5, 2.0, float("inf"), float("nan"), 10 ** 101, -(10 ** 101),
    10 ** 100, "", " ", "x", "smae", "same", "valid", "causal", "banana", "relu", "conv1d",
    "global_average_pooling", "softmax", "lstm", "k_1", "P", "pad", "9^64*" * 71 + "9",
    "2*H", "H/0", "floor(H/2)", "min(", "\x1b[31mRED", "a\nb", "\udc80", "\u202eevil", "𝔘𝔫",
    "x" * 3000, [], [1], [1, 2], [1, 2, 3], [[1]], {}, {"choice": [3, 5]}, {"a": 1},
    list(range(400)), {"k" + str(i): i for i in range(50)},
]

# Values a careless user might write: the cases that get past the loaders and
# exercise layers, shapes, counting and rendering.
PLAUSIBLE_VALUES = [
    0, 1, 2, 3, 4, 5, 7, 8, 16, 31, 32, 64, 100, 1000, "H", "W", "k", "2*k", "k_1", "P",
    "H/2", "floor(H/2)", "ceil(W/3)", "max(k, 3)", "same", "valid", "relu", "softmax", "tanh",
    [3, 5], [1, 2], [0, 1], [2, 2], [1, 0], True, False, 0.5, 0.0, "conv2d", "maxpool2d",
    "avgpool2d", "dense", "flatten", "dropout", "activation", "fc", "conv",
]
LAYER_TYPES = ["conv2d", "maxpool2d", "avgpool2d", "dense", "flatten", "dropout", "activation",
               "relu", "fc", "pool", "conv1d", "batchnorm", "softmax", "Conv2D", "dense2d"]

KEYS = ["type", "name", "kernel", "filters", "stride", "padding", "dilation", "bias",
        "units", "activation", "function", "rate", "input", "layers", "title", "symbols",
        "description", "filtres", "kernal", "bogus", "a\nb", "\x1b[2J", "\udc80", ""]


# ------------------------------------------------------------------ generators

def nested(depth: int, fmt: str) -> str:
    if fmt == "toml":
        return "layers = " + "[" * depth + "]" * depth + "\ninput = [8]\n"
    if fmt == "json":
        return '{"input": [8], "layers": ' + "[" * depth + "]" * depth + "}"
    return "input: [8]\nlayers: " + "[" * depth + "]" * depth + "\n"


def alias_bomb(rng: random.Random) -> str:
    width, levels = rng.randint(2, 12), rng.randint(3, 12)
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    target = rng.choice(["layers", "input", "name"])
    lines.append(f"{target}: *a{levels - 1}")
    if target != "layers":
        lines.append("layers: [{type: flatten}]")
    if target != "input":
        lines.append("input: [8, 8, 3]")
    return "\n".join(lines) + "\n"


def to_toml(data) -> str:
    """A minimal TOML writer (inline arrays and tables) for the mutated structures."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if v is None:
            return '""'
        if isinstance(v, (int, float)):
            return repr(v) if isinstance(v, float) and v == v and abs(v) != float("inf") \
                else ("nan" if v != v else ("inf" if v == float("inf") else
                                            "-inf" if v == float("-inf") else str(v)))
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + "}"
        return json.dumps(str(v))
    if not isinstance(data, dict):
        data = {"value": data}
    return "".join(f"{json.dumps(str(k))} = {value(v)}\n" for k, v in data.items())


def write_structure(data, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps(data).encode()
    if fmt == "toml":
        return to_toml(data).encode("utf-8", "surrogatepass")
    try:
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode(
            "utf-8", "surrogatepass")
    except Exception:  # a value PyYAML cannot write: JSON is YAML too
        return json.dumps(data).encode()


def mutate_structure(rng: random.Random, data):
    """Replace, add or delete a few nodes anywhere in ``data`` (a deep copy)."""
    data = json.loads(json.dumps(data))
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        containers, stack = [], [data]
        while stack:
            node = stack.pop()
            if isinstance(node, (dict, list)):
                containers.append(node)
                stack.extend(node.values() if isinstance(node, dict) else node)
        node = rng.choice(containers)
        value = rng.choice(HOSTILE_VALUES if rng.random() < 0.3 else PLAUSIBLE_VALUES)
        layers = data.get("layers") if isinstance(data, dict) else None
        if isinstance(layers, list) and rng.random() < 0.15:  # a new layer somewhere
            entry = {"type": rng.choice(LAYER_TYPES)}
            for key in rng.sample(KEYS[2:13], rng.randint(0, 4)):
                entry[key] = rng.choice(PLAUSIBLE_VALUES)
            layers.insert(rng.randint(0, len(layers)), entry)
            continue
        if rng.random() < 0.1:
            value = nested(rng.randint(40, 120), "json")  # a string; nesting below
            value = json.loads(value)
        if isinstance(node, dict):
            action = rng.random()
            if action < 0.15 and node:
                del node[rng.choice(list(node))]
            elif action < 0.35:
                node[rng.choice(KEYS)] = value
            elif node:
                node[rng.choice(list(node))] = value
        elif node:
            index = rng.randrange(len(node))
            if rng.random() < 0.2:
                del node[index]
            else:
                node[index] = value
    return data


def mutate_bytes(rng: random.Random, text: str) -> bytes:
    data = bytearray(text.encode("utf-8"))
    for _ in range(rng.randint(1, 4)):
        action = rng.random()
        pos = rng.randint(0, len(data))
        if action < 0.45:
            snippet = rng.choice(HOSTILE_TEXT).encode("utf-8", "surrogatepass")
            data[pos:pos] = snippet
        elif action < 0.6 and data:
            end = min(len(data), pos + rng.randint(1, 40))
            del data[pos:end]
        elif action < 0.75 and data:
            end = min(len(data), pos + rng.randint(1, 200))
            data[pos:pos] = data[pos:end] * rng.randint(1, 5)
        elif action < 0.9 and data:
            data[min(pos, len(data) - 1)] = rng.randrange(256)
        else:  # a number made huge, zero or negative
            digits = [i for i, b in enumerate(data) if chr(b).isdigit()]
            if digits:
                i = rng.choice(digits)
                data[i:i + 1] = rng.choice([b"9" * 5000, b"0", b"-3", b"1" + b"0" * 120])
    return bytes(data)


def make_case(rng: random.Random) -> tuple[str, bytes]:
    """(file suffix, file bytes) of one hostile spec."""
    kind = rng.random()
    fmt = rng.choice(["yaml", "yaml", "json", "toml"])
    base = rng.choice(list(BASE_DATA))
    if kind < 0.03:
        return "yaml", alias_bomb(rng).encode()
    if kind < 0.07:
        return fmt, nested(rng.choice([65, 500, 2000, 20000]), fmt).encode()
    if kind < 0.25:  # one size changed to another plausible one: mostly valid networks
        data = json.loads(json.dumps(BASE_DATA[base]))
        for _ in range(rng.randint(1, 3)):
            layer = rng.choice(data["layers"])
            sizes = [k for k in ("kernel", "filters", "stride", "padding", "units") if k in layer]
            key = rng.choice(sizes) if sizes else rng.choice(["padding", "stride"])
            if layer.get("type") not in ("flatten", "dropout", "activation"):
                layer[key] = rng.choice([1, 2, 3, 5, 7, 0, "k", "P", "2*k", "H/4", [1, 2],
                                         [3, 1], "same", "valid", 10 ** 40])
        return fmt, write_structure(data, fmt)
    if kind < 0.5:
        source = {"yaml": BASE_TEXTS[base], "json": json.dumps(BASE_DATA[base], indent=1),
                  "toml": to_toml(BASE_DATA[base])}[fmt]
        if rng.random() < 0.1:
            fmt = rng.choice(["yaml", "json", "toml"])  # the wrong format for the suffix
        return fmt, mutate_bytes(rng, source)
    return fmt, write_structure(mutate_structure(rng, BASE_DATA[base]), fmt)


SET_VALUES = ["k_1=16", "k_1=abc", "k_1=0", "k_1=-1", "k_1=" + "9^64*" * 70 + "9", "H=64",
              "H=10^60", "k_1\n=2", "k_1=\x1b[31m", "nope=3", "CONV1.filters=4", "=", "k_1=",
              "k_1=1.5", "k_1=" + "9" * 5000, "k_1=floor(", "k_2=k", "\udc80=1"]


# --------------------------------------------------------------------- running

class Hang(BaseException):
    """Raised by the alarm: a BaseException, so no ``except Exception`` swallows it."""


@contextmanager
def alarm(seconds: float):
    def ring(signum, frame):
        raise Hang()
    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def memory_ceiling(headroom: int):
    """Lower the address-space limit to what the process uses now plus ``headroom``
    while the cases run; restored afterwards."""
    try:
        import resource
        with open("/proc/self/status") as status:
            vm = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
    except (ImportError, OSError, StopIteration):
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = vm + headroom
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_one(command: str, path: Path, out_dir: Path, extra: list[str]) -> tuple[int, str | None]:
    """Run one case: (exit code, None when it behaved, else what went wrong)."""
    if command == "load":
        try:
            net = symparams.load(str(path))
            json.dumps(net.to_dict())
            str(net)
        except SymparamsError as exc:
            text = str(exc)
            if "\n" in text or not text.isprintable():
                return 2, f"load: message not one printable line: {text!r}"[:400]
            return 2, None
        except Hang:
            return -1, "load: hang"
        except BaseException as exc:  # noqa: BLE001 - any other exception is the finding
            return -1, "load: " + "".join(traceback.format_exception_only(exc)).strip()[:400]
        return 0, None
    argv = {"count": ["count", str(path)], "json": ["count", str(path), "--json"],
            "report": ["report", str(path), "--format", "md", "-o", str(out_dir)]}[command]
    # Streams that encode like a UTF-8 terminal, strictly: text that cannot be written
    # (a lone surrogate) fails here as it would on a real stdout.
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    err = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv + extra)
            out.flush()
            err.flush()
    except Hang:
        return -1, f"{command}: hang"
    except SystemExit as exc:
        code = exc.code
    except BaseException as exc:  # noqa: BLE001
        return -1, f"{command}: " + "".join(traceback.format_exception_only(exc)).strip()[:400]
    stderr = err.buffer.getvalue().decode("utf-8")
    if code not in (0, 2):
        return code, f"{command}: exit {code}: {stderr[:300]!r}"
    if stderr.count("\n") > 1 or "Traceback" in stderr or (stderr and not stderr.endswith("\n")):
        return code, f"{command}: stderr is not one line: {stderr[:300]!r}"
    if code == 2 and not stderr:
        return code, f"{command}: exit 2 without a message"
    if len(stderr) > 330 or not stderr.rstrip("\n").isprintable():
        return code, f"{command}: stderr line too long or unprintable: {stderr[:120]!r}"
    return code, None


def run_cases(count: int, seed: int, tmp_path: Path) -> tuple[Counter, list[str]]:
    rng = random.Random(seed)
    failures, outcomes = [], Counter()
    commands = ["count", "json", "load", "count", "json", "load", "report"]
    with memory_ceiling(MEMORY_HEADROOM):
        for number in range(count):
            suffix, content = make_case(rng)
            path = tmp_path / f"case.{suffix}"
            path.write_bytes(content)
            command = commands[number % len(commands)]
            extra = []
            if command in ("count", "json") and rng.random() < 0.15:
                extra = ["--set", rng.choice(SET_VALUES)]
            with alarm(CASE_SECONDS):
                code, problem = run_one(command, path, tmp_path / "out", extra)
            outcomes[code] += 1
            if problem:
                failures.append(f"case {number} (seed {seed}, {suffix}): {problem}")
    return outcomes, failures


# ------------------------------------------------------------------------ tests

def test_fuzz_specs_in_process(tmp_path):
    start = time.monotonic()
    outcomes, failures = run_cases(CASES, SEED, tmp_path)
    summary = (f"fuzz: {CASES} cases (seed {SEED}): {outcomes[0]} counted, {outcomes[2]} "
               f"refused with one line, {len(failures)} failures, "
               f"{time.monotonic() - start:.0f} s")
    print(summary)  # shown by make fuzz (pytest -s)
    assert sum(outcomes.values()) == CASES
    assert not failures, summary + "\n" + "\n".join(failures[:25])


SUBPROCESS_CASES = {
    "bomb.yaml": alias_bomb(random.Random(1)).encode(),
    "laughs.yaml": ("a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{c}: &{c} [" + ",".join([f"*{p}"] * 9) + "]\n"
        for p, c in zip("abcdefgh", "bcdefghi")) + "input: [8]\nlayers: *i\n").encode(),
    "deep.json": nested(100_000, "json").encode(),
    "deep.toml": nested(3000, "toml").encode(),
    "huge.yaml": ("input: [%s]\nlayers: [{type: flatten}]\n" % ("9" * 100_000)).encode(),
    "surrogate.json": b'{"name": "\\udc80", "input": [8], "layers": [{"type": "dense", '
                      b'"units": "x y"}]}',
}


@pytest.mark.parametrize("name", sorted(SUBPROCESS_CASES))
def test_fuzz_cases_through_the_command_line(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(SUBPROCESS_CASES[name])

    def limit_memory():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (2 * 2 ** 30, 2 * 2 ** 30))

    proc = subprocess.run([sys.executable, "-m", "symparams", "count", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120,
                          env=dict(os.environ), preexec_fn=limit_memory)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert len(proc.stderr) <= 330


def test_fuzz_generator_is_seeded():
    first = [make_case(random.Random(5)) for _ in range(3)]
    again = [make_case(random.Random(5)) for _ in range(3)]
    assert first == again
