"""The HTML report: MathML worked steps, self-contained page, escaping, Chromium rendering."""
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import Markup

from conftest import DOCUMENT_COUNTS, DOCUMENT_TOTAL, require_tool, run_cli
from symparams import load
from symparams.render.html import render_page
from symparams.render.report import build_report

HOSTILE_TITLE = "<script>alert(1)</script> \\input{/etc/passwd} \\write18{touch x} 50% & $x_1$ #_{}~^\\"
HOSTILE_NAMES = ["<script>alert(1)</script>", "\\input{/etc/passwd}", "\\write18{touch x}",
                 "50% & $x_1$ #_{}~^\\"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


# ------------------------------------------------------------------ a tiny DOM

class Node:
    def __init__(self, tag, attrs=(), parent=None):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children: list = []  # Nodes and strings

    def iter(self, tag=None):
        if tag is None or self.tag == tag:
            yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.iter(tag)

    def find(self, tag, **attrs):
        for node in self.iter(tag):
            if all(attrs[k] in (node.attrs.get(k.rstrip("_")) or "").split() if k == "class_"
                   else node.attrs.get(k) == v for k, v in attrs.items()):
                return node
        return None

    def elements(self):
        return [c for c in self.children if isinstance(c, Node)]

    @property
    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text for c in self.children)


class TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.current = Node("#document")

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse_html(text: str) -> Node:
    builder = TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def numbers(node: Node) -> list[str]:
    return [n.text for n in node.iter("mn")]


# ------------------------------------------------------------------ fixtures

@pytest.fixture(scope="module")
def lenet_html(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html")
    result = run_cli("report", "lenet", "--format", "html", "-o", out)
    assert result.returncode == 0, result.stderr
    return out / "lenet.html"


@pytest.fixture(scope="module")
def hostile_html(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hostile")
    spec = folder / "evil.json"
    spec.write_text(json.dumps({
        "name": "evil", "title": HOSTILE_TITLE, "description": HOSTILE_TITLE, "input": [32, 32, 3],
        "layers": [{"type": "conv2d", "name": HOSTILE_NAMES[0], "kernel": 5, "filters": 8},
                   {"type": "maxpool2d", "name": HOSTILE_NAMES[1], "kernel": 2},
                   {"type": "conv2d", "name": HOSTILE_NAMES[2], "kernel": 5, "filters": 16},
                   {"type": "dense", "name": HOSTILE_NAMES[3], "units": 10}]}),
        encoding="utf-8")
    result = run_cli("report", spec, "--format", "html", "-o", folder / "out")
    assert result.returncode == 0, result.stderr
    return folder / "out" / "evil.html"


# ------------------------------------------------------------------ content

def test_conv1_step_is_the_documents_calculation_in_mathml(lenet_html):
    dom = parse_html(lenet_html.read_text(encoding="utf-8"))
    step = dom.find("li", id="layer-1")
    assert "CONV1" in step.find("h3").text
    math = step.find("math")
    assert math.attrs["xmlns"] == "http://www.w3.org/1998/Math/MathML"
    chain = math.elements()[0].elements()  # formula = substituted = result
    assert [n.text for n in chain if n.tag == "mo"] == ["=", "="]
    formula, _, substituted, _, result = chain
    assert [n.text for n in formula.iter("mi")] == ["m", "1", "n", "1", "d", "1", "k", "1"]
    assert numbers(substituted) == ["5", "5", "3", "1", "8"]
    assert result.tag == "mn" and result.text == "608"
    assert numbers(math)[-6:] == ["5", "5", "3", "1", "8", "608"]


def test_every_layer_has_its_step_in_order(lenet_html):
    dom = parse_html(lenet_html.read_text(encoding="utf-8"))
    steps = [li for li in dom.iter("li") if "step" in li.attrs.get("class", "").split()]
    titles = [li.find("h3").text.split(" ")[0] for li in steps]
    assert titles == ["INPUT", "CONV1", "POOL1", "CONV2", "POOL2", "FC3", "FC4", "SOFTMAX"]
    results = {li.find("h3").text.split(" ")[0]: numbers(li.find("math"))[-1] for li in steps}
    for name, count in DOCUMENT_COUNTS.items():
        assert results[name] == f"{count:,}"
    fc3 = numbers(steps[5].find("math"))
    assert fc3 == ["1", "120", "400", "1", "120", "48,120"]
    assert "flattened to 400 values" in steps[5].text
    assert results["POOL1"] == "0" and "no weights or biases" in steps[2].text


def test_summary_table_and_total(lenet_html):
    dom = parse_html(lenet_html.read_text(encoding="utf-8"))
    table = dom.find("table", class_="summary")
    rows = [tr for tr in table.find("tbody").iter("tr")]
    cells = [[td.text.strip() for td in tr.iter("td")] for tr in rows]
    params = {row[1]: row[5] for row in cells}
    assert {k: params[k] for k in DOCUMENT_COUNTS} == {k: f"{v:,}" for k, v in DOCUMENT_COUNTS.items()}
    assert params["POOL1"] == params["POOL2"] == params["INPUT"] == "0"
    foot = [td.text.strip() for td in table.find("tfoot").iter("td")]
    assert f"{DOCUMENT_TOTAL:,}" in foot and "100.0 %" in foot
    total = dom.find("section", id="total")
    assert "62,958" in total.find("strong").text
    assert numbers(total.find("math"))[-6:] == ["608", "3,216", "48,120", "10,164", "850",
                                                 "62,958"]


def test_page_is_self_contained(lenet_html):
    text = lenet_html.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "@import" not in text
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", text, re.I)
    assert "url(" not in text
    dom = parse_html(text)
    for node in dom.iter():
        for name in ("src", "href", "xlink:href", "action"):
            assert name not in node.attrs, (node.tag, node.attrs)
        assert not any(k.startswith("on") for k in node.attrs), (node.tag, node.attrs)
    for tag in ("script", "iframe", "object", "embed", "link", "img"):
        assert dom.find(tag) is None
    # the figures are inline SVG
    assert dom.find("section", id="architecture").find("svg") is not None
    assert dom.find("section", id="summary").find("svg") is not None


def test_render_page_keeps_its_signature_for_print():
    report = build_report(load("lenet"))
    page = render_page(report, None, medium="print",
                       math=lambda step: Markup('<svg class="m"></svg>'),
                       expr=lambda value: Markup('<svg class="e"></svg>'),
                       face=lambda step, face: Markup(f'<svg class="f {face}"></svg>'))
    assert "<math" not in page
    # every step (8), the worked height and width of the two convolutions and
    # poolings (4), FC3's flattened input, the total, and the total in letters
    assert page.count('<svg class="m">') == 15
    assert '<svg class="f formula">' in page and '<svg class="e">' in page
    assert "@page" in page  # print.css came in
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2  # the figures


def test_symbolic_report_prints_no_python_objects(tmp_path):
    result = run_cli("report", "lenet", "--symbolic", "--format", "html", "-o", tmp_path)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "lenet.html").read_text(encoding="utf-8")
    assert not re.search(r"\bnan\b", text, re.I)
    for bad in ("None", "Symbol(", "Integer(", "Rational(", "zoo", "oo "):
        assert bad not in text
    assert "symbolic" in text and "k₁" in text


def test_hostile_text_is_escaped(hostile_html):
    text = hostile_html.read_text(encoding="utf-8")
    assert "<script" not in text.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    dom = parse_html(text)
    assert dom.find("script") is None
    assert dom.find("title").text == f"Parameters of {HOSTILE_TITLE}"
    shown = [li.find("h3").text for li in dom.iter("li") if li.attrs.get("id", "").startswith("layer-")]
    for name, title in zip(HOSTILE_NAMES, shown[1:]):
        assert title.startswith(name + " (")
    cells = [td.text for td in dom.find("table", class_="summary").iter("td")]
    for name in HOSTILE_NAMES:
        assert name in cells
    assert "50% &amp; $x_1$ #_{}~^\\" in text


# ------------------------------------------------------------------ Chromium

def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    exe = require_tool("chromium")
    profile = tmp_path / "chromium-profile"
    command = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


# Test-only probe, added to a copy of the report (the report itself has no script):
# it writes what Chromium laid out into a <pre id="probe"> for --dump-dom.
PROBE = """<script>
window.addEventListener("load", () => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  const maths = [...document.querySelectorAll("math")];
  const subs = [...document.querySelectorAll(".equation msub")].map(s => {
    const [base, sub] = s.children;
    return [base.getBoundingClientRect().bottom, sub.getBoundingClientRect().bottom];
  });
  const equations = [...document.querySelectorAll(".equation")].map(
    e => [e.scrollWidth, e.clientWidth, e.getBoundingClientRect().left]);
  const probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({
    math: maths.map(box), svg: [...document.querySelectorAll("figure svg")].map(box),
    subs, equations, page: [document.documentElement.scrollWidth, window.innerWidth]});
  document.body.appendChild(probe);
});
</script>"""


def probe(tmp_path: Path, page: Path, width: int = 1100) -> dict:
    copy = tmp_path / f"probe-{width}.html"
    copy.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"),
                    encoding="utf-8")
    result = chromium(tmp_path, "--virtual-time-budget=3000", f"--window-size={width},2000",
                      "--dump-dom", copy.as_uri())
    found = parse_html(result.stdout).find("pre", id="probe")
    assert found is not None, result.stdout[-2000:]
    return json.loads(found.text)


@pytest.mark.slow
def test_chromium_lays_out_every_math_element(tmp_path, lenet_html):
    sizes = probe(tmp_path, lenet_html)
    dom = parse_html(lenet_html.read_text(encoding="utf-8"))
    assert len(sizes["math"]) == len(list(dom.iter("math"))) > 20
    for width, height in sizes["math"]:
        assert width > 0 and height > 0
    # MathML layout is on: subscripts sit lower than their base
    assert sizes["subs"] and all(sub > base for base, sub in sizes["subs"])
    # equations are left-aligned in one column and never need a scrollbar
    lefts = {round(left) for _, _, left in sizes["equations"]}
    assert len(lefts) <= 2  # steps (indented in the list) and the total
    for scroll, client, _ in sizes["equations"]:
        assert scroll <= client + 1
    for width, height in sizes["svg"]:
        assert width > 100 and height > 50
    assert sizes["page"][0] <= sizes["page"][1]


@pytest.mark.slow
def test_long_equations_wrap_in_a_narrow_window(tmp_path, lenet_html):
    sizes = probe(tmp_path, lenet_html, width=480)
    for scroll, client, _ in sizes["equations"]:
        assert scroll <= client + 1
    assert all(w > 0 and h > 0 for w, h in sizes["math"])


@pytest.mark.slow
def test_chromium_screenshot_is_not_blank(tmp_path, lenet_html):
    from PIL import Image
    shot = tmp_path / "page.png"
    chromium(tmp_path, f"--screenshot={shot}", "--window-size=1100,1600",
             lenet_html.as_uri())
    assert shot.is_file() and shot.stat().st_size > 10_000
    with Image.open(shot) as image:
        gray = image.convert("L")
        assert gray.size == (1100, 1600)
        low, high = gray.getextrema()
        assert low < 80 and high > 200  # dark text on a light page
        dark = sum(gray.histogram()[:128])
        assert dark > 2000  # a page of text, not a blank one


@pytest.mark.slow
def test_chromium_runs_no_script_from_hostile_names(tmp_path, hostile_html):
    result = chromium(tmp_path, "--virtual-time-budget=2000", "--dump-dom", hostile_html.as_uri())
    assert "<script" not in result.stdout.lower()
    dom = parse_html(result.stdout)
    assert dom.find("script") is None
    assert "<script>alert(1)</script>" in dom.find("h1").text
