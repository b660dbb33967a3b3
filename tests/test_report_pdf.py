"""The PDF report: the HTML templates laid out by WeasyPrint with ziamath SVG math."""
import io
import json
import logging
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from conftest import DOCUMENT_COUNTS, DOCUMENT_TOTAL, require_tool, run_cli
from symparams import Conv2D, Dense, Network, SymparamsError, load
from symparams.render import pdf as pdfmod
from symparams.render.report import build_report, packaged_templates

HOSTILE_NAMES = ["<script>alert(1)</script>", "\\input{/etc/passwd}", "50% & $x_1$ #_{}~^"]
LATEX_LEAKS = ("$", "\\times", "\\left", "\\right", "\\frac", "{", "}", "\\")
HEADER_ROW = re.compile(r"#\s*layer\s+kind\s+output shape\s+formula\s+params\s+share")


def pdf_text(path_or_bytes) -> list[str]:
    """The text of every page, as pypdf extracts it."""
    reader = PdfReader(path_or_bytes if isinstance(path_or_bytes, Path)
                       else io.BytesIO(path_or_bytes))
    return [page.extract_text() for page in reader.pages]


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary 8-bit PGM (``pdftoppm -gray``)."""
    data = path.read_bytes()
    fields, pos = [], 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    assert fields[0] == b"P5" and int(fields[3]) == 255, fields
    width, height = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + width * height]
    assert len(pixels) == width * height
    return width, height, pixels


def rasterise(pdf: Path, out: Path, first: int = 1, last: int = 1, dpi: int = 50) -> list[Path]:
    tool = require_tool("pdftoppm")
    subprocess.run([tool, "-gray", "-r", str(dpi), "-f", str(first), "-l", str(last),
                    str(pdf), str(out / "page")], check=True, capture_output=True, timeout=120)
    return sorted(out.glob("page-*.pgm"))


def ink(path: Path) -> float:
    """The share of pixels that are not white."""
    width, height, pixels = read_pgm(path)
    return sum(1 for p in pixels if p < 200) / (width * height)


def conv_stack(layers: int) -> Network:
    convs = [Conv2D(kernel=3, filters=8 + 8 * (i % 4), padding="same") for i in range(layers - 3)]
    return Network(convs + [Dense(units=64), Dense(units=32), Dense(units=10)],
                   input=(32, 32, 3), name=f"stack{layers}")


@pytest.fixture(scope="module")
def lenet_pdf(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lenet")
    result = run_cli("report", "lenet", "--format", "pdf", "-o", out)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no warnings from WeasyPrint or ziamath on the terminal
    assert result.stdout.strip() == f"wrote {out / 'lenet.pdf'}"
    return out / "lenet.pdf"


@pytest.fixture(scope="module")
def long_pdf() -> bytes:
    return pdfmod.render(build_report(conv_stack(300)))


# ------------------------------------------------------------------ lenet

def test_lenet_pdf_has_the_documents_numbers(lenet_pdf):
    assert lenet_pdf.read_bytes().startswith(b"%PDF-")
    text = "\n".join(pdf_text(lenet_pdf))
    for name, count in DOCUMENT_COUNTS.items():
        assert re.search(rf"\b{name}\b.*\b{count:,}\b", text), name
    assert f"{DOCUMENT_TOTAL:,}" in text and f"The network has {DOCUMENT_TOTAL:,}" in text


def test_no_latex_reaches_the_page(lenet_pdf):
    text = "\n".join(pdf_text(lenet_pdf))
    for leak in LATEX_LEAKS:
        assert leak not in text, leak
    assert "Summary" in text and "Worked solution" in text


def test_formulas_are_vector_graphics_not_text(lenet_pdf):
    text = "\n".join(pdf_text(lenet_pdf))
    # The equations are drawn, so neither their letters nor their numbers are text.
    for drawn in ("m₁ × n₁", "((5 × 5 × 3) + 1) × 8", "= 608", "120 × 400", "62958"):
        assert drawn not in text, drawn


def test_first_page_is_not_blank(lenet_pdf, tmp_path):
    pages = rasterise(lenet_pdf, tmp_path)
    assert [p.name for p in pages] == ["page-1.pgm"]
    assert 0.01 < ink(pages[0]) < 0.5


def test_an_svg_formula_draws_ink(tmp_path):
    """WeasyPrint draws our inline SVG (it drops SVG it cannot read without failing)."""
    import weasyprint
    formula = pdfmod.typeset(r"((5 \times 5 \times 3) + 1) \times 8 = 608")
    page = f'<html><body style="font-size: 40pt">{formula.svg}</body></html>'
    (tmp_path / "f.pdf").write_bytes(weasyprint.HTML(string=page).write_pdf())
    assert ink(rasterise(tmp_path / "f.pdf", tmp_path)[0]) > 0.003


def test_rendering_twice_gives_the_same_bytes(tmp_path, lenet_pdf):
    again = tmp_path / "again"
    result = run_cli("report", "lenet", "--format", "pdf", "-o", again,
                     env={"PYTHONHASHSEED": "12345"})
    assert result.returncode == 0, result.stderr
    assert (again / "lenet.pdf").read_bytes() == lenet_pdf.read_bytes()
    report = build_report(load("lenet"))
    assert pdfmod.render(report) == pdfmod.render(report)


def test_metadata_is_fixed_and_has_no_dates(lenet_pdf):
    meta = PdfReader(lenet_pdf).metadata
    assert meta["/Title"] == "Parameters of LeNet-style CNN from the worked example"
    assert meta["/Creator"].startswith("symparams ")
    assert "/CreationDate" not in meta and "/ModDate" not in meta
    assert b"CreationDate" not in lenet_pdf.read_bytes()


def test_a_template_date_does_not_reach_the_pdf(tmp_path):
    folder = tmp_path / "mine" / "html"
    folder.mkdir(parents=True)
    page = (packaged_templates() / "html" / "report.html.j2").read_text(encoding="utf-8")
    (folder / "report.html.j2").write_text(page.replace(
        "<title>", '<meta name="dcterms.created" content="2020-01-02T03:04:05Z">\n<title>'))
    pdf = pdfmod.render(build_report(load("lenet")), tmp_path / "mine")
    meta = PdfReader(io.BytesIO(pdf)).metadata
    assert "/CreationDate" not in meta and b"D:2020" not in pdf


# ------------------------------------------------------------------ math

def test_typeset_is_paths_sized_in_em_and_cached():
    before = pdfmod.typeset.cache_info()
    formula = pdfmod.typeset(r"c_{1} \times p_{1} + 1 \times c_{1}")
    assert pdfmod.typeset(r"c_{1} \times p_{1} + 1 \times c_{1}") is formula
    assert pdfmod.typeset.cache_info().hits > before.hits
    svg = str(formula.svg)
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" class="math"')
    assert "<path" in svg and "<text" not in svg and "<use" not in svg and " id=" not in svg
    width, height, shift = re.search(
        r'width="([\d.]+)em" height="([\d.]+)em".*vertical-align: (-[\d.]+)em', svg).groups()
    assert 5 < float(width) < 12 and 0.8 < float(height) < 1.6
    assert -0.4 < float(shift) < -0.1  # lowered by the subscripts' depth
    assert formula.drawable and formula.key in svg


def test_ziamath_settings_and_root_logger_are_left_as_they_were():
    import ziamath
    root = logging.getLogger()
    handlers = list(root.handlers)
    svg2 = ziamath.config.svg2
    pdfmod.typeset(r"q_{42} \times 7")
    assert ziamath.config.svg2 == svg2 and root.handlers == handlers


def test_equation_keeps_the_documents_order_and_reuses_faces():
    report = build_report(load("lenet"))
    math = pdfmod.PrintMath()
    html = pdfmod.render_html(report, None, math)
    conv1 = report.steps[1]
    assert conv1.latex.chain() == [r"((m_{1} \times n_{1} \times d_{1}) + 1) \times k_{1}",
                                   r"((5 \times 5 \times 3) + 1) \times 8", "608"]
    # The formula is typeset once and placed four times: its step, the summary
    # table, the sum in the total and the total in letters, layer after layer
    # (display and inline look the same here).
    keys = {pdfmod.typeset(conv1.latex.formula, display).key for display in (True, False)}
    assert sum(html.count(f'data-math="{key}"') for key in keys) == 4
    assert set(math.formulas) >= keys
    assert "\\times" not in html and "$" not in html and "<math" not in html
    assert 'class="math-lines"' in html  # the long total is one face per line
    assert html.count("<svg") == html.count("</svg>")


def outline_samples(d: str, steps: int = 12) -> list[tuple[float, float]]:
    """Points along an SVG path (M L H V Q C Z, absolute or relative) or along PDF
    path operators (m l c h f)."""
    tokens = re.findall(r"[A-Za-z]|-?[\d.]+", d)
    if tokens and tokens[-1] == "f":  # PDF: operands come first
        svg, args = [], []
        for token in tokens:
            if token[0].isalpha():
                svg += {"m": ["M"], "l": ["L"], "c": ["C"], "h": ["Z"], "f": []}[token] + args
                args = []
            else:
                args.append(token)
        tokens = svg
    points, here, start, i = [], (0.0, 0.0), (0.0, 0.0), 0
    while i < len(tokens):
        letter, i = tokens[i], i + 1
        nums = []
        while i < len(tokens) and not tokens[i][0].isalpha():
            nums.append(float(tokens[i]))
            i += 1
        rel = letter.islower()
        base = here if rel else (0.0, 0.0)
        pts = [(base[0] + nums[k], base[1] + nums[k + 1]) for k in range(0, len(nums) - 1, 2)]
        kind = letter.upper()
        if kind == "M":
            here = start = pts[0]
        elif kind in "HV":
            value = nums[0] + (here[0 if kind == "H" else 1] if rel else 0)
            pts = [(value, here[1])] if kind == "H" else [(here[0], value)]
            kind = "L"
        if kind == "L":
            points += [(here[0] + (pts[0][0] - here[0]) * t / steps,
                        here[1] + (pts[0][1] - here[1]) * t / steps) for t in range(steps + 1)]
            here = pts[0]
        elif kind in "QC":
            ctrl = [here] + pts
            for t in range(steps + 1):
                u, layer = t / steps, ctrl
                while len(layer) > 1:
                    layer = [(a[0] + (b[0] - a[0]) * u, a[1] + (b[1] - a[1]) * u)
                             for a, b in zip(layer, layer[1:])]
                points.append(layer[0])
            here = pts[-1]
        elif kind == "Z":
            here = start
    return points


def near(a, b, limit: float) -> bool:
    """Every point of ``a`` lies within ``limit`` of some point of ``b``."""
    cells: dict = {}
    for q in b:
        cells.setdefault((int(q[0] // limit), int(q[1] // limit)), []).append(q)
    for p in a:
        cx, cy = int(p[0] // limit), int(p[1] // limit)
        if not any((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2 <= limit ** 2
                   for dx in (-1, 0, 1) for dy in (-1, 0, 1)
                   for q in cells.get((cx + dx, cy + dy), ())):
            return False
    return True


@pytest.mark.parametrize("char", ["8", "m", "(", "×", "k"])
def test_compact_outlines_and_pdf_operators_keep_the_glyph(char):
    import ziamath
    old = ziamath.config.svg2
    ziamath.config.svg2 = False
    try:
        d = ziamath.Latex(char, size=1000).svgxml().find("path").get("d")
    finally:
        ziamath.config.svg2 = old
    compact = pdfmod.compact_path(d)
    assert len(compact) < len(d) and compact[0] == "m"
    # The same outline within the curve tolerance and rounding, both ways.
    original, again = outline_samples(d, 256), outline_samples(compact, 256)
    assert near(again, original, 2.5) and near(original, again, 2.5)
    operators = pdfmod.shape_operators(compact).decode()
    assert operators.endswith(" f") and near(outline_samples(operators, 64), again, 0.5)
    assert not near([(x + 5, y) for x, y in again], original, 2.5)  # the check can fail


def test_split_top_respects_brackets():
    pieces = pdfmod.split_top(r"-a + (b + c) \times d - \left\lfloor{\frac{e + f}{2}}\right\rfloor")
    assert pieces == [("-a", "+"), (r"(b + c) \times d", "-"),
                      (r"\left\lfloor{\frac{e + f}{2}}\right\rfloor", "")]


def test_a_term_wider_than_a_line_is_cut_at_its_times_signs():
    factors = [rf"\left(a_{{{i}}} + b_{{{i}}}\right)" for i in range(30)]
    html = pdfmod.PrintMath().expression(r" \times ".join(factors) + " + 1")
    assert html.count('class="math-piece"') == 30  # after each factor's × and before + 1
    assert html.count("<svg") == 61


# ------------------------------------------------------------------ symbolic, escaping

def test_symbolic_report_renders_without_python_objects(tmp_path):
    result = run_cli("report", "lenet", "--symbolic", "--format", "pdf", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    text = "\n".join(pdf_text(tmp_path / "lenet.pdf"))
    assert not re.search(r"\bnan\b", text, re.I)
    for bad in ("None", "Symbol(", "Integer(", "Rational(", "zoo") + LATEX_LEAKS:
        assert bad not in text, bad
    assert "symbolic sizes" in text and "k₁" in text


def test_text_from_the_spec_appears_literally(tmp_path):
    spec = tmp_path / "evil.json"
    spec.write_text(json.dumps({
        "name": "evil", "title": "T <b>bold</b> \\textbf{x}", "input": [32, 32, 3],
        "layers": [{"type": "conv2d", "name": HOSTILE_NAMES[0], "kernel": 5, "filters": 8},
                   {"type": "maxpool2d", "name": HOSTILE_NAMES[1], "kernel": 2},
                   {"type": "dense", "name": HOSTILE_NAMES[2], "units": 10}]}), encoding="utf-8")
    result = run_cli("report", spec, "--format", "pdf", "-o", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    text = re.sub(r"\s+", "", "".join(pdf_text(tmp_path / "out" / "evil.pdf")))
    for name in HOSTILE_NAMES + ["T<b>bold</b>\\textbf{x}"]:
        assert re.sub(r"\s+", "", name) in text, name


# ------------------------------------------------------------------ fetching

def user_template(tmp_path: Path, extra_head: str = "", extra_body: str = "") -> Path:
    folder = tmp_path / "tpl"
    (folder / "html").mkdir(parents=True, exist_ok=True)
    page = (packaged_templates() / "html" / "report.html.j2").read_text(encoding="utf-8")
    page = page.replace("</head>", f"{extra_head}\n</head>").replace(
        "<body>", f"<body>\n{extra_body}")
    (folder / "html" / "report.html.j2").write_text(page, encoding="utf-8")
    return folder


@pytest.fixture
def fetchers(monkeypatch):
    """Every fetcher render() makes; fails the test if anything opens a socket."""
    made = []

    class Spy(pdfmod.PackagedOnlyFetcher):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    def no_network(*args, **kwargs):
        raise AssertionError("the PDF tried to reach the network")

    monkeypatch.setattr(pdfmod, "PackagedOnlyFetcher", Spy)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    return made


@pytest.mark.parametrize("markup, url", [
    ('<img src="file:///etc/passwd">', "file:///etc/passwd"),
    ('<link rel="stylesheet" href="http://example.com/x.css">', "http://example.com/x.css"),
    ('<img src="https://example.com/logo.png">', "https://example.com/logo.png"),
])
def test_templates_cannot_fetch_anything(tmp_path, fetchers, markup, url):
    folder = user_template(tmp_path, extra_body=markup)
    with pytest.raises(SymparamsError) as error:
        pdfmod.render(build_report(load("lenet")), folder)
    assert fetchers[-1].asked == [url] and fetchers[-1].refused == [url]
    assert str(error.value) == (f"{folder}: the PDF may only use files shipped with "
                                f"symparams; a template asks for {url}")


def test_packaged_files_and_data_urls_may_be_used(tmp_path, fetchers):
    style = (packaged_templates() / "html" / "style.css").resolve().as_uri()
    dot = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E"
    folder = user_template(tmp_path, f'<link rel="stylesheet" href="{style}">',
                           f'<img src="{dot}" alt="">')
    pdf = pdfmod.render(build_report(load("lenet")), folder)
    assert pdf.startswith(b"%PDF-")
    assert fetchers[-1].asked == [style, dot] and fetchers[-1].refused == []


def test_a_path_out_of_the_templates_folder_is_refused(tmp_path):
    fetcher = pdfmod.PackagedOnlyFetcher()
    inside = (packaged_templates() / "html" / "style.css").resolve()
    assert fetcher.packaged_file(inside.as_uri()) == inside
    escape = inside.as_uri().replace("/html/style.css", "/html/../../pyproject.toml")
    link = tmp_path / "link.css"
    link.symlink_to("/etc/passwd")
    for url in (escape, link.as_uri(), "file://otherhost" + inside.as_posix(),
                "ftp://example.com/x", "http://localhost/"):
        assert fetcher.packaged_file(url) is None
        with pytest.raises(PermissionError):
            fetcher.open(url)
    assert len(fetcher.refused) == 5


def test_a_relative_url_fails_cleanly(tmp_path):
    folder = user_template(tmp_path, extra_body='<img src="logo.png">')
    with pytest.raises(SymparamsError, match="PDF layout failed: .*logo.png"):
        pdfmod.render(build_report(load("lenet")), folder)


def test_refused_fetch_through_the_cli_keeps_the_old_pdf(tmp_path, lenet_pdf):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(lenet_pdf, out / "lenet.pdf")
    folder = user_template(tmp_path, extra_body='<img src="file:///etc/passwd">')
    result = run_cli("report", "lenet", "--format", "pdf", "-o", out, "--templates", folder)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"symparams: error: {folder}: the PDF may only use files shipped with symparams; "
        "a template asks for file:///etc/passwd"]
    assert (out / "lenet.pdf").read_bytes() == lenet_pdf.read_bytes()
    assert [p.name for p in out.iterdir()] == ["lenet.pdf"]


def test_broken_template_keeps_the_old_pdf_and_leaves_no_temporary_file(tmp_path, lenet_pdf):
    out = tmp_path / "out"
    out.mkdir()
    shutil.copy(lenet_pdf, out / "lenet.pdf")
    broken = tmp_path / "broken" / "html"
    broken.mkdir(parents=True)
    (broken / "_step.html.j2").write_text("{{ step | face('nonsense') }}")
    result = run_cli("report", "lenet", "--format", "pdf", "-o", out,
                     "--templates", broken.parent)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "unknown face" in result.stderr
    (broken / "_step.html.j2").write_text("{% for x in %}")
    result = run_cli("report", "lenet", "--format", "pdf", "-o", out,
                     "--templates", broken.parent)
    assert result.returncode == 2 and "template error" in result.stderr
    assert (out / "lenet.pdf").read_bytes() == lenet_pdf.read_bytes()
    assert [p.name for p in out.iterdir()] == ["lenet.pdf"]


# ------------------------------------------------------------------ long networks

def bookmarks(reader: PdfReader) -> dict[str, int]:
    """Heading → page index, from the PDF outline (WeasyPrint bookmarks h1–h6)."""
    marks = {}

    def walk(items):
        for item in items:
            if isinstance(item, list):
                walk(item)
            else:
                marks.setdefault(item.title, reader.get_destination_page_number(item))
    walk(reader.outline)
    return marks


def test_long_network_breaks_across_pages_with_repeated_header(long_pdf):
    reader = PdfReader(io.BytesIO(long_pdf))
    assert len(reader.pages) > 20
    # Only the pages that matter are read (pypdf is slow on pages full of drawings);
    # they are found through the PDF's outline of headings.
    marks = bookmarks(reader)
    first, last = marks["Summary"], marks["Total"]
    assert last - first >= 3
    headed = [n for n in range(first, last + 1)
              if HEADER_ROW.search(reader.pages[n].extract_text())]
    assert len(headed) >= 3 and headed[0] == first
    text = reader.pages[first + 1].extract_text()
    rows = re.findall(r"^\d+ CONV\d+ conv2d 32 × 32 × \d+ [\d,]+ [\d.]+ %$", text, re.M)
    assert len(rows) > 20


def test_long_network_never_cuts_a_step(long_pdf):
    reader = PdfReader(io.BytesIO(long_pdf))
    marks = bookmarks(reader)
    first = marks["Worked solution"] + 1
    assert marks["Summary"] - first > 10
    for page in reader.pages[first:first + 5]:
        text = page.extract_text()
        titles = re.findall(r"^CONV\d+ \(convolution, ", text, re.M)
        shapes = re.findall(r"^Output shape: ", text, re.M)
        assert len(titles) == len(shapes) >= 3, text
        assert re.match(r"CONV\d+ \(convolution", text), text[:80]


def test_each_distinct_formula_is_drawn_once():
    import weasyprint
    math = pdfmod.PrintMath()
    page = pdfmod.render_html(build_report(load("lenet")), None, math)
    placed = re.findall(r'data-math="(\w+)"', page)
    document = weasyprint.HTML(string=page).render()
    assert pdfmod.share_drawings(document, math.formulas) == len(set(placed)) < len(placed)
    pdf = PdfReader(io.BytesIO(document.write_pdf()))
    forms = {name for p in pdf.pages for name, obj in p["/Resources"]["/XObject"].items()
             if obj.get_object()["/Subtype"] == "/Form" and "/Group" not in obj.get_object()}
    assert len(forms) == len(set(placed))  # (WeasyPrint's own forms are groups)
