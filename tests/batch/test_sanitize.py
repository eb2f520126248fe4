"""trusted_grader.batch.sanitize: a graded notebook holds nothing that runs as
script when nbgrader renders it (feedback, formgrader), and keeps what
honest learners write.

The rendering checks use nbconvert's classic HTML template with its own
sanitising off: nbgrader's feedback and formgrade templates extend it and
render Markdown cells the same way, unsanitised.
"""

import base64
import copy
import re
from collections import Counter
from html.parser import HTMLParser

import nbformat
import pytest
from helpers import ROOT
from nbconvert import HTMLExporter
from nbformat.v4 import (
    new_code_cell,
    new_markdown_cell,
    new_notebook,
    new_output,
    new_raw_cell,
)

from cnn_course.messages import use_language
from trusted_grader.batch import sanitize
from trusted_grader.batch.sanitize import sanitize_markdown, sanitize_notebook

# A 1x1 PNG, as matplotlib's inline backend sends images: base64 text.
PNG = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e226059b"
    "0000000049454e44ae426082")).decode()
LISTENER = "http://127.0.0.1:9/"

HOSTILE_MARKDOWN = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "Short answer. <img src=x onerror=\"fetch('" + LISTENER + "')\">",
    "[click](javascript:alert(1))",
    "[click](  JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "<javascript:alert(1)>",
    "[ref][r]\n\n[r]: javascript:alert(1)",
    "<a href='jav&#x09;ascript:alert(1)'>x</a>",
    "<a href=\"data:text/html,<script>alert(1)</script>\">x</a>",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>",
    "<object data=\"data:text/html,<script>alert(1)</script>\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<svg onload=alert(1)><script>alert(2)</script></svg>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text>x</text></a></svg>",
    "<style>body { display: none }</style>",
    "<div style=\"position:fixed;top:0;left:0\">cover</div>",
    "<details open ontoggle=alert(1)>x</details>",
    "<form action=\"javascript:alert(1)\"><button>go</button></form>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<!--><img src=x onerror=alert(1)>-->",
    "```mermaid\n<img src=x onerror=alert(1)>\n```",
    "![pixel](" + LISTENER + "pixel.png)",
    "<img src=\"" + LISTENER + "pixel.png\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "# Heading <img src=x onerror=alert(1)>\n\n* item",
    "<div>\n\n*emphasis*\n\n</div>\n\n<img src=x onerror=alert(1)>",
]

HONEST_MARKDOWN = """# Why a dense net fails

The mean 1 moved by **3 px** is misread: *weights* are tied to
positions, not to `shapes`.

* the first layer has $784 \\times 128$ weights;
* a shift changes every input: $x'_{i,j} = x_{i,j-3}$.

$$\\hat y = \\mathrm{softmax}(W x + b), \\quad a < b$$

1. flatten
2. dense

```python
accuracy = model.evaluate(x < 1, y)
```

| shift | accuracy |
|:------|---------:|
| 0     | 0.98     |

> a quote, and a [link](https://keras.io) and [lesson 02](../02/02.ipynb)
"""


class Findings(HTMLParser):
    """What in an HTML page can run script or load from an address."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.problems = [], []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self._in_script = True
            self.scripts.append("")
        if tag in {"iframe", "object", "embed", "svg", "form", "meta",
                   "base", "math"}:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            value = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}")
            if name in {"href", "src", "action", "formaction", "data",
                        "xlink:href", "srcdoc"} and (
                    value.startswith(("javascript:", "data:text",
                                      "vbscript:"))
                    or "127.0.0.1" in value):
                self.problems.append(f"{tag} {name}={value[:40]}")
            if name == "style" and "position" in value:
                self.problems.append(f"{tag} style={value[:40]}")

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False


def render(notebook):
    """The page nbconvert's classic template makes, sanitising off."""
    exporter = HTMLExporter(template_name="classic")
    exporter.sanitize_html = False
    page, _ = exporter.from_notebook_node(notebook)
    return page


def findings(page):
    parser = Findings()
    parser.feed(page)
    parser.close()
    return parser


TEMPLATE = None


def dangers(notebook):
    """Scripts the template did not write, and risky tags/attributes.

    Each cell is rendered on its own page: Python's HTML parser is not a
    browser's, and an unclosed payload would hide the cells after it.
    """
    global TEMPLATE
    if TEMPLATE is None:  # what the template itself writes
        TEMPLATE = findings(render(new_notebook()))
    found = []
    for cell in [None, *notebook.cells]:
        page = copy.deepcopy(notebook)
        page.cells = [] if cell is None else [copy.deepcopy(cell)]
        parsed = findings(render(page))
        found += list((Counter(parsed.scripts) -
                       Counter(TEMPLATE.scripts)).elements())
        found += list((Counter(parsed.problems) -
                       Counter(TEMPLATE.problems)).elements())
    return found


def display(data, metadata=None, kind="display_data"):
    output = new_output(kind, data=data, metadata=metadata or {})
    if kind == "execute_result":
        output["execution_count"] = 1
    return output


def hostile_notebook():
    """Every payload: in Markdown cells, outputs, raw cells, metadata."""
    notebook = new_notebook(metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3",
                       "language": "python"},
        "language_info": {"name": "python", "version": "3.11.7"},
        "widgets": {"application/vnd.jupyter.widget-state+json": {
            "state": {}, "version_major": 2, "version_minor": 0,
            "</script><script>alert('widget')</script>": 1}},
        "title": "</title><script>alert('title')</script>",
    })
    notebook.cells = [new_markdown_cell(text)
                      for text in HOSTILE_MARKDOWN]
    outputs = [
        display({"text/html": "<script>alert('html')</script>",
                 "text/plain": "<IPython.core.display.HTML object>"}),
        display({"text/html": "<img src=x onerror=alert('img')>"}),
        display({"application/javascript": "alert('js')"}),
        display({"text/markdown": "<img src=x onerror=alert('md')>"}),
        display({"image/svg+xml": "<svg onload=alert('svg')></svg>"}),
        display({"application/vnd.jupyter.widget-view+json": {
            "model_id": "x", "version_major": 2, "version_minor": 0}}),
        display({"text/latex": "$\\href{javascript:alert(1)}{x}$"}),
        display({"text/html": "<iframe src=javascript:alert(1)>"},
                kind="execute_result"),
        display({"image/png": PNG},
                {"filenames": {"image/png": "javascript:alert(1)"},
                 "image/png": {"width": "1 onerror=alert(1)"}}),
        display({"image/png": "AAAA\" onerror=\"alert(1)"}),
        display({"text/html": "<b>x</b>"},
                {"text/html": {"isolated": True}}),
    ]
    code = new_code_cell(
        "from IPython.display import HTML, display\n"
        "display(HTML('<script>alert(1)</script>'))", outputs=outputs)
    code.metadata["tags"] = ["ok", "\"><script>alert(1)</script>"]
    code.metadata["magics_language"] = "<script>"
    notebook.cells.append(code)
    raw = new_raw_cell("<script>alert('raw')</script><b>bold</b>")
    raw.metadata["raw_mimetype"] = "text/html"
    notebook.cells.append(raw)
    answer = new_markdown_cell("YOUR ANSWER <img src=x onerror=alert(1)>")
    answer.metadata["nbgrader"] = {
        "grade_id": "\"><img src=x onerror=alert(1)>", "solution": True,
        "grade": True, "points": 1, "locked": False,
        "schema_version": 3}
    notebook.cells.append(answer)
    attached = new_markdown_cell("![evil](attachment:evil.svg)"
                                 "![ok](attachment:ok.png)")
    attached["attachments"] = {
        "evil.svg": {"image/svg+xml": base64.b64encode(
            b"<svg onload=alert(1)/>").decode()},
        "ok.png": {"image/png": PNG}}
    notebook.cells.append(attached)
    return notebook


def test_an_unsanitised_hostile_notebook_does_run_script():
    """The check below can fail: the same notebook, not sanitised."""
    found = dangers(hostile_notebook())
    assert len(found) > 20, found
    assert any("alert('html')" in item for item in found), found
    assert any("onerror" in item for item in found), found


def test_sanitised_hostile_notebook_runs_no_script():
    notebook = hostile_notebook()
    with use_language("en"):
        assert sanitize_notebook(notebook) > 0
    nbformat.validate(notebook)
    assert dangers(notebook) == []
    # The formgrader's and feedback's templates: Markdown unsanitised.
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            html, _ = sanitize.render_markdown(cell.source,
                                               cell.get("attachments"))
            assert findings(html).problems == [], cell.source
            assert "<script" not in html and "onerror" not in html


@pytest.mark.parametrize("text", HOSTILE_MARKDOWN)
def test_each_markdown_payload_is_removed(text):
    cleaned = sanitize_markdown(text)
    assert cleaned != text
    html, _ = sanitize.render_markdown(cleaned)
    found = findings(html)
    assert found.scripts == [] and found.problems == [], html
    for tag in ("<script", "<iframe", "<object", "<embed", "<svg",
                "<style", "style=", "<form", "<meta", "<base", "<math"):
        assert tag not in html.lower(), (tag, html)
    # What the browser gets is exactly nh3's output: Markdown passes the
    # cleaned cell through unchanged.
    assert html.strip() == cleaned


def test_outputs_keep_text_and_images_only():
    cell = hostile_notebook().cells[len(HOSTILE_MARKDOWN)]
    with use_language("en"):
        sanitize.sanitize_cell(cell)
    kinds = [sorted(output.get("data", {})) for output in cell.outputs]
    assert kinds == [["text/plain"]] * 8 + [["image/png"]] + \
        [["text/plain"]] * 2
    assert cell.outputs[0].data["text/plain"] == \
        "<IPython.core.display.HTML object>"
    assert cell.outputs[1].data["text/plain"] == (
        "[text/html output not shown: graded notebooks show only text "
        "and images]")
    assert "application/javascript" in cell.outputs[2].data["text/plain"]
    assert cell.outputs[7].execution_count == 1
    assert cell.outputs[8].metadata == {}  # no filenames, no odd width
    assert cell.outputs[9].data["text/plain"].startswith("[image/png ")
    assert cell.metadata == {"tags": ["ok"]}


def test_the_note_on_a_removed_output_speaks_chinese():
    output = display({"text/html": "<b>x</b>"})
    with use_language("zh-CN"):
        note = sanitize.sanitize_output(output).data["text/plain"]
    assert "text/html" in note and "图片" in note


def test_honest_outputs_are_kept_as_they_are():
    outputs = [
        new_output("stream", name="stdout", text="accuracy 0.98\n"),
        new_output("stream", name="stderr", text="warning\n"),
        display({"image/png": PNG, "text/plain": "<Figure size 640x480>"},
                {"image/png": {"width": 640, "height": 480}}),
        display({"text/plain": "   shift  accuracy\n0      0      0.98"},
                kind="execute_result"),
        new_output("error", ename="ValueError", evalue="no image <b>",
                   traceback=["\x1b[31mValueError\x1b[0m: no image <b>"]),
    ]
    cell = new_code_cell("print('accuracy', 0.98)", outputs=outputs,
                         execution_count=3)
    before = copy.deepcopy(cell)
    assert sanitize.sanitize_cell(cell) == 0
    assert cell == before


def test_honest_markdown_is_kept_as_written_and_renders_fully():
    assert sanitize_markdown(HONEST_MARKDOWN) == HONEST_MARKDOWN
    html, problems = sanitize.render_markdown(HONEST_MARKDOWN)
    assert problems == []
    for part in ("<h1", "<strong>3 px</strong>", "<em>weights</em>",
                 "<code>shapes</code>", "<li>", "<table>", "<blockquote>",
                 "$$\\hat y", "$784 \\times 128$", 'href="https://keras.io"',
                 'href="../02/02.ipynb"', "<ol>"):
        assert part in html, part


def test_attached_png_is_kept_and_svg_attachment_removed():
    cell = new_markdown_cell("A figure: ![curve](attachment:curve.png)")
    cell["attachments"] = {"curve.png": {"image/png": PNG,
                                         "image/svg+xml": "PHN2Zy8+"}}
    assert sanitize.sanitize_cell(cell) == 1
    assert cell.source == "A figure: ![curve](attachment:curve.png)"
    assert dict(cell.attachments) == {"curve.png": {"image/png": PNG}}


def test_html_in_an_answer_keeps_its_text_and_formatting():
    cleaned = sanitize_markdown(
        "The **dense** layer <sub>1</sub> sees <img src=x onerror=alert(1)>"
        " every pixel.\n\n* one\n* two")
    html, _ = sanitize.render_markdown(cleaned)
    for part in ("<strong>dense</strong>", "<sub>1</sub>", "every pixel",
                 "<li>one</li>"):
        assert part in html, part


def test_sanitising_twice_changes_nothing_more():
    notebook = hostile_notebook()
    sanitize_notebook(notebook)
    once = copy.deepcopy(notebook)
    assert sanitize_notebook(notebook) == 0
    assert notebook == once


def test_metadata_keeps_only_plain_nbgrader_kernel_and_language_keys():
    notebook = hostile_notebook()
    notebook.metadata["course"] = {"language": "zh-CN"}
    good = new_code_cell("x = 1")
    good.metadata = {"nbgrader": {
        "grade_id": "shift_image", "solution": True, "grade": False,
        "locked": False, "schema_version": 3, "cell_type": "code",
        "checksum": "0a1b2c", "comment": "<script>alert(1)</script>",
        "score": 99}, "tags": ["demo"], "editable": True,
        "trusted": True, "collapsed": False}
    good["id"] = "\"><script>alert(1)</script>"
    notebook.cells.append(good)
    sanitize_notebook(notebook)
    assert notebook.metadata == {
        "kernelspec": {"name": "python3", "display_name": "Python 3",
                       "language": "python"},
        "language_info": {"name": "python", "version": "3.11.7"},
        "course": {"language": "zh-CN"}}
    assert good.metadata == {"nbgrader": {
        "grade_id": "shift_image", "solution": True, "grade": False,
        "locked": False, "schema_version": 3, "cell_type": "code",
        "checksum": "0a1b2c"}, "tags": ["demo"], "editable": True,
        "collapsed": False}
    assert re.fullmatch(r"[a-zA-Z0-9\-_]{1,64}", good.id)
    answer = notebook.cells[len(HOSTILE_MARKDOWN) + 2]
    assert "nbgrader" not in answer.metadata  # its grade_id was markup
    raw = notebook.cells[len(HOSTILE_MARKDOWN) + 1]
    assert raw.source == "<b>bold</b>" and raw.metadata == {}


@pytest.mark.parametrize("path", sorted(
    str(path.relative_to(ROOT)) for folder in ("solutions", "notebooks")
    for path in (ROOT / folder).rglob("*.ipynb")
    if ".ipynb_checkpoints" not in path.parts))
def test_the_course_notebooks_need_no_change(path):
    notebook = nbformat.read(ROOT / path, as_version=4)
    before = copy.deepcopy(notebook)
    assert sanitize_notebook(notebook) == 0
    assert notebook == before
