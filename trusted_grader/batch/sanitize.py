"""Make a graded notebook safe to open in the instructor's browser.

nbgrader shows the autograded notebook to people other than its author
twice: as the feedback HTML (GenerateFeedback) and as the formgrader's
page of the submission, served from the instructor's Jupyter origin. Both
are nbconvert templates: nbgrader's own put every Markdown cell through
`markdown2html` unsanitised, whatever HTMLExporter.sanitize_html says, and
the classic template underneath writes text/html, SVG and JavaScript
outputs into the page as they are. Anything a student writes that a
browser runs as script (a `<script>` displayed from a cell, an
`<img onerror=...>` in a short answer, a `javascript:` link) would run
there with the instructor's session.

`sanitize_notebook` changes the notebook itself, before it is written and
before the feedback is made from it, so that every renderer (this run's
feedback, any formgrader that reads the output folder, whatever its
nbconvert settings) gets only:

- outputs: stream and error text, and of rich outputs text/plain,
  image/png and image/jpeg (base64), which the templates escape; HTML,
  Markdown, SVG (it can carry script), JavaScript, widgets, LaTeX and
  every other kind are dropped, and an output left with nothing says so;
- Markdown cells: kept as written when their rendering holds only what
  Markdown itself makes (no raw HTML, links to http(s), mailto or relative
  addresses, images from the cell's own PNG/JPEG/GIF attachments or such
  data URIs only), checked twice: on mistune's tokens, as nbconvert parses
  them, and on the HTML they render to; any other cell becomes its
  rendering cleaned by nh3 (the ammonia sanitiser): no script, event
  handler, style, iframe, object, embed, SVG or form, no javascript: or
  data: link, no image loaded from any address (which would also reach
  services on the instructor's machine);
- raw cells: cleaned by nh3;
- metadata: the notebook's and each cell's reduced to the keys nbgrader
  and the templates need, with plain values; attachments to raster
  images; a cell id that does not match nbformat's pattern is replaced.

Math is left to MathJax, which nbconvert loads with its `Safe` extension
(no javascript: in \\href, no \\style or \\class).
"""

import html
import math
import re
from html.parser import HTMLParser

import nh3
from nbconvert.filters.markdown_mistune import (
    IPythonRenderer,
    MarkdownWithMath,
)
from nbformat import from_dict
from nbformat.v4 import new_output
from nbformat.v4.nbbase import random_cell_id

from cnn_course.messages import t

# Rich output kinds every template escapes or base64-embeds.
KEPT_MIME_TYPES = ("text/plain", "image/png", "image/jpeg")
IMAGE_MIME_TYPES = ("image/png", "image/jpeg")
# Images a Markdown cell may show: in an <img>, none of these runs script.
ATTACHMENT_MIME_TYPES = ("image/png", "image/jpeg", "image/gif")
LINK_SCHEMES = ("http", "https", "mailto")
OUTPUT_TYPES = ("stream", "display_data", "execute_result", "error")

BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")
DATA_IMAGE = re.compile(r"data:image/(png|jpeg|gif);base64,[A-Za-z0-9+/=\s]*",
                        re.IGNORECASE)
# A URL's scheme as a browser reads it (it ignores tabs and newlines, and
# leading spaces and control characters; removing every such character is
# stricter).
SCHEME = re.compile(r"([a-zA-Z][a-zA-Z0-9+.\-]*):")
IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f]")
# nbformat's cell id pattern.
CELL_ID = re.compile(r"[a-zA-Z0-9\-_]{1,64}")
# Names (grade ids, tags) that are plain words.
NAME = re.compile(r"[\w.\-]{1,100}")
# Plain strings in notebook metadata ("Python 3 (ipykernel)", "3.11.7").
PLAIN = re.compile(r"[\w .,+\-()/]{0,100}")
SIZE = re.compile(r"\d{1,4}%?")

# What markdown2html makes from Markdown without raw HTML:
# {tag: attributes}.
GENERATED = {
    "p": (), "h1": ("id",), "h2": ("id",), "h3": ("id",), "h4": ("id",),
    "h5": ("id",), "h6": ("id",), "a": ("href", "title", "class"),
    "img": ("src", "alt", "title"), "em": (), "strong": (), "del": (),
    "code": ("class",), "pre": ("class",), "div": ("class",),
    "span": ("class",), "ul": (), "ol": ("start",), "li": ("class",),
    "blockquote": (), "hr": (), "br": (), "table": (), "thead": (),
    "tbody": (), "tr": (), "th": ("style",), "td": ("style",),
    "input": ("class", "type", "disabled", "checked"), "dl": (), "dt": (),
    "dd": (),
}
CLASS = re.compile(r"[\w \-]*")
ALIGN = re.compile(r"text-align:(left|right|center)")

# nh3's defaults (no script, style, iframe, object, svg, form, class,
# style or id attributes) without image maps, whose <area href> is a link
# nothing here checks.
TAGS = set(nh3.ALLOWED_TAGS) - {"area", "map"}
ATTRIBUTES = {tag: set(names) for tag, names in
              nh3.ALLOWED_ATTRIBUTES.items() if tag in TAGS}
ATTRIBUTES["a"] = {"href", "hreflang", "title"}
ATTRIBUTES["img"] = {"src", "alt", "title", "width", "height"}
# Dropped with their content, not just their tags.
CLEAN_CONTENT = {"script", "style", "template", "noscript", "iframe",
                 "object", "embed", "svg", "math", "textarea", "title",
                 "select", "xmp", "noembed", "noframes"}


def link_is_safe(url):
    """True for http(s), mailto and relative addresses (no scheme)."""
    match = SCHEME.match(IGNORED_IN_URL.sub("", url))
    return match is None or match.group(1).lower() in LINK_SCHEMES


def image_is_safe(url):
    """True only for an embedded PNG, JPEG or GIF: an image that loads
    nothing from anywhere."""
    return DATA_IMAGE.fullmatch(url.strip()) is not None


def _filter_attribute(tag, attribute, value):
    """nh3's attribute callback: links and images as above; sizes plain."""
    if attribute == "href":
        return value if link_is_safe(value) else None
    if attribute == "src":
        return value if tag == "img" and image_is_safe(value) else None
    if attribute in {"width", "height"}:
        return value if SIZE.fullmatch(value) else None
    if attribute in {"cite", "longdesc", "background"}:
        return None
    return value


CLEANER = nh3.Cleaner(
    tags=TAGS, clean_content_tags=CLEAN_CONTENT, attributes=ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes={*LINK_SCHEMES, "data"}, strip_comments=True,
    link_rel="noopener noreferrer")


def clean_html(text):
    """`text` as HTML with nothing that runs or loads anything."""
    return CLEANER.clean(text)


# ------------------------------------------------------------ Markdown ---

class _AuditRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, as the templates call it, noting
    everything in the cell that is not plain Markdown."""

    def __init__(self, attachments):
        super().__init__(escape=False, attachments=attachments)
        self.problems = []

    def block_html(self, text):
        self.problems.append("raw HTML")
        return super().block_html(text)

    def inline_html(self, text):
        self.problems.append("raw HTML")
        return super().inline_html(text)

    def block_mermaidjs(self, code):
        # nbconvert writes a mermaid block's text into the page unescaped.
        self.problems.append("mermaid block")
        return super().block_mermaidjs(code)

    def link(self, text, url, title=None):
        if not link_is_safe(url):
            self.problems.append("link scheme")
        return super().link(text, url, title)

    def _embed_image_or_attachment(self, src):
        if src.startswith("attachment:") and \
                src[len("attachment:"):] not in self.attachments:
            # nbconvert would raise on it and make no feedback.
            self.problems.append("missing attachment")
            return ""
        embedded = super()._embed_image_or_attachment(src)
        if not image_is_safe(embedded):
            self.problems.append("image address")
        return embedded


class _GeneratedHtmlCheck(HTMLParser):
    """Lists whatever in rendered HTML Markdown alone does not make."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []

    def handle_starttag(self, tag, attrs):
        allowed = GENERATED.get(tag)
        if allowed is None:
            self.problems.append(f"<{tag}>")
            return
        for name, value in attrs:
            value = value or ""
            if name not in allowed or not self._value_is_plain(
                    tag, name, value):
                self.problems.append(f"<{tag} {name}>")

    handle_startendtag = handle_starttag

    @staticmethod
    def _value_is_plain(tag, name, value):
        if name == "href":
            return link_is_safe(value)
        if name == "src":
            return image_is_safe(value)
        if name == "class":
            return CLASS.fullmatch(value) is not None
        if name == "style":
            return ALIGN.fullmatch(value) is not None
        if name == "type":
            return value == "checkbox"
        return True

    def handle_endtag(self, tag):
        if tag not in GENERATED:
            self.problems.append(f"</{tag}>")

    def handle_comment(self, data):
        self.problems.append("comment")

    def handle_decl(self, decl):
        self.problems.append("declaration")

    def handle_pi(self, data):
        self.problems.append("processing instruction")

    def unknown_decl(self, data):
        self.problems.append("declaration")


def render_markdown(source, attachments=None):
    """(HTML, problems): `source` as nbconvert's templates render it."""
    renderer = _AuditRenderer(attachments or {})
    rendered = MarkdownWithMath(renderer=renderer).render(source)
    check = _GeneratedHtmlCheck()
    check.feed(rendered)
    check.close()
    return rendered, renderer.problems + check.problems


def _one_html_block(cleaned):
    """HTML that markdown2html passes through as it is: one line opening
    with <div> (a CommonMark HTML block ends only at a blank line; a
    newline written as a character reference means the same in HTML)."""
    return cleaned.replace("\r", "&#13;").replace("\n", "&#10;")


def _passes_through(block):
    try:
        rendered, _ = render_markdown(block)
    except Exception:  # noqa: BLE001 - any failure means "not as is"
        return False
    return rendered.strip() == block


def sanitize_markdown(source, attachments=None):
    """`source` itself if it is plain Markdown; else its rendering,
    cleaned by nh3, as one HTML block that renders exactly so."""
    try:
        rendered, problems = render_markdown(source, attachments)
    except Exception:  # noqa: BLE001 - mistune or a huge/deep cell:
        # show the text, run nothing.
        rendered, problems = f"<pre>{html.escape(source)}</pre>", ["error"]
    if not problems:
        return source
    block = _one_html_block(clean_html(rendered.strip()))
    if block == source and block.startswith("<div>") and \
            _passes_through(block):
        return source  # cleaned here before: unchanged by cleaning again
    block = f"<div>{block}</div>"
    if _passes_through(block):
        return block
    # Not expected: Markdown changed what nh3 wrote. The text, escaped.
    block = f"<div><pre>{_one_html_block(html.escape(source))}</pre></div>"
    return block if _passes_through(block) else ""


# ------------------------------------------------------------- outputs ---

def _text(value):
    """A text/plain or stream value as one string, or None."""
    if isinstance(value, list) and all(isinstance(part, str)
                                       for part in value):
        return "".join(value)
    return value if isinstance(value, str) else None


def _image_metadata(metadata):
    """Only a shown image's plain width, height and `unconfined`."""
    kept = {}
    if not isinstance(metadata, dict):
        return kept
    for name in ("width", "height"):
        value = metadata.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool) \
                and math.isfinite(value) and 0 < value <= 10_000:
            kept[name] = value
    if metadata.get("unconfined") is True:
        kept["unconfined"] = True
    return kept


def sanitize_output(output):
    """The output with only what every template shows safely, or None."""
    kind = output.get("output_type")
    if kind not in OUTPUT_TYPES:
        return None
    if kind == "stream":
        name = output.get("name")
        return new_output("stream", name=name if name in {
            "stdout", "stderr"} else "stdout",
            text=_text(output.get("text")) or "")
    if kind == "error":
        traceback = output.get("traceback")
        return new_output(
            "error", ename=str(output.get("ename", "")),
            evalue=str(output.get("evalue", "")),
            traceback=[str(line) for line in traceback]
            if isinstance(traceback, list) else [])
    data = output.get("data") if isinstance(output.get("data"),
                                            dict) else {}
    metadata = output.get("metadata") if isinstance(
        output.get("metadata"), dict) else {}
    kept_data, kept_metadata = {}, {}
    text = _text(data.get("text/plain"))
    if text is not None:
        kept_data["text/plain"] = text
    for mime in IMAGE_MIME_TYPES:
        value = data.get(mime)
        if isinstance(value, str) and BASE64.fullmatch(value):
            kept_data[mime] = value
            image = _image_metadata(metadata.get(mime))
            if image:
                kept_metadata[mime] = image
    dropped = sorted(set(data) - set(kept_data))
    if not kept_data:
        kept_data["text/plain"] = t(
            "[{kinds} output not shown: graded notebooks show only text and "
            "images]", kinds=", ".join(dropped) or "empty")
    sanitized = new_output(kind, data=kept_data, metadata=kept_metadata)
    if kind == "execute_result":
        count = output.get("execution_count")
        sanitized["execution_count"] = count if isinstance(count, int) and \
            not isinstance(count, bool) else None
    return sanitized


# ------------------------------------------------------------ metadata ---

def _nbgrader_metadata(metadata):
    """nbgrader's cell metadata with plain values, or None if its grade_id
    is not a plain name (the templates write it into the page as is)."""
    if not isinstance(metadata, dict):
        return None
    grade_id = metadata.get("grade_id")
    if grade_id is not None and not (isinstance(grade_id, str)
                                     and NAME.fullmatch(grade_id)):
        return None
    kept = {}
    for key, value in metadata.items():
        if key in {"grade", "solution", "locked", "task"}:
            plain = isinstance(value, bool)
        elif key == "points":
            plain = isinstance(value, (int, float)) and \
                not isinstance(value, bool) and math.isfinite(value)
        elif key == "schema_version":
            plain = isinstance(value, int) and not isinstance(value, bool)
        elif key in {"grade_id", "checksum"}:
            plain = isinstance(value, str) and NAME.fullmatch(value)
        elif key == "cell_type":
            plain = value in {"code", "markdown"}
        else:  # score, comment, ...: the gradebook's, set when rendering
            plain = False
        if plain:
            kept[key] = value
    return kept


def sanitize_cell_metadata(metadata):
    """The keys nbgrader, the grader and the templates read, plain."""
    kept = {}
    nbgrader = _nbgrader_metadata(metadata.get("nbgrader"))
    if nbgrader:
        kept["nbgrader"] = nbgrader
    tags = metadata.get("tags")
    if isinstance(tags, list):
        tags = [tag for tag in tags
                if isinstance(tag, str) and NAME.fullmatch(tag)]
        if tags:
            kept["tags"] = tags
    for key in ("editable", "deletable", "collapsed"):
        if isinstance(metadata.get(key), bool):
            kept[key] = metadata[key]
    if metadata.get("scrolled") in {True, False, "auto"}:
        kept["scrolled"] = metadata["scrolled"]
    jupyter = metadata.get("jupyter")
    if isinstance(jupyter, dict):
        hidden = {key: value for key, value in jupyter.items()
                  if key in {"source_hidden", "outputs_hidden"}
                  and isinstance(value, bool)}
        if hidden:
            kept["jupyter"] = hidden
    return kept


def _plain_values(metadata, keys):
    """{key: value} of `keys` whose value is a plain string or number, or a
    dict of such (language_info.codemirror_mode)."""
    def plain(value):
        if isinstance(value, str):
            return PLAIN.fullmatch(value) is not None
        return isinstance(value, int) and not isinstance(value, bool)

    kept = {}
    if not isinstance(metadata, dict):
        return kept
    for key in keys:
        value = metadata.get(key)
        if plain(value):
            kept[key] = value
        elif isinstance(value, dict) and value and all(
                isinstance(name, str) and PLAIN.fullmatch(name) and
                plain(item) for name, item in value.items()):
            kept[key] = dict(value)
    return kept


def sanitize_notebook_metadata(metadata):
    """Kernel, language and the course's language marker; nothing else
    (no widget state, title or authors, which templates write out)."""
    kept = {}
    parts = {
        "kernelspec": ("name", "display_name", "language"),
        "language_info": ("name", "version", "file_extension", "mimetype",
                          "pygments_lexer", "nbconvert_exporter",
                          "codemirror_mode"),
        "course": ("language",),
    }
    for name, keys in parts.items():
        plain = _plain_values(metadata.get(name), keys)
        if plain:
            kept[name] = plain
    return kept


def sanitize_attachments(attachments):
    """Only raster images: {name: {mime: base64}}."""
    kept = {}
    if not isinstance(attachments, dict):
        return kept
    for name, bundle in attachments.items():
        if not isinstance(bundle, dict):
            continue
        images = {mime: value for mime, value in bundle.items()
                  if mime in ATTACHMENT_MIME_TYPES
                  and isinstance(value, str) and BASE64.fullmatch(value)}
        if images:
            kept[name] = images
    return kept


# ------------------------------------------------------------ notebook ---

def _changed(before, after):
    return 0 if before == after else 1


def sanitize_cell(cell):
    """Sanitise one cell in place; return how many parts changed."""
    changes = 0
    metadata = sanitize_cell_metadata(cell.get("metadata") or {})
    changes += _changed(cell.get("metadata"), metadata)
    cell["metadata"] = from_dict(metadata)
    if "id" in cell and not (isinstance(cell["id"], str)
                             and CELL_ID.fullmatch(cell["id"])):
        cell["id"] = random_cell_id()
        changes += 1
    source = cell.get("source")
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    if not isinstance(source, str):
        source = ""
    kind = cell.get("cell_type")
    if kind == "code":
        outputs = [sanitize_output(output)
                   for output in cell.get("outputs") or []
                   if isinstance(output, dict)]
        outputs = [output for output in outputs if output is not None]
        changes += _changed(cell.get("outputs"), outputs)
        cell["outputs"] = outputs
        cell.pop("attachments", None)
        count = cell.get("execution_count")
        if not isinstance(count, int) or isinstance(count, bool):
            cell["execution_count"] = None
        cell["source"] = source
        return changes
    if "attachments" in cell:
        attachments = sanitize_attachments(cell["attachments"])
        changes += _changed(cell["attachments"], attachments)
        if attachments:
            cell["attachments"] = from_dict(attachments)
        else:
            del cell["attachments"]
    if kind == "markdown":
        cleaned = sanitize_markdown(source, cell.get("attachments"))
    else:
        # Raw (and any other) cells: the classic template writes a raw
        # cell out as HTML.
        cell["cell_type"] = "raw"
        cleaned = clean_html(source)
    changes += _changed(cell.get("source"), cleaned)
    cell["source"] = cleaned
    return changes


def sanitize_notebook(notebook):
    """Make `notebook` (nbformat v4, changed in place) safe to render for
    another person: see the module's docstring. Learner-facing notes are
    given in the current language (cnn_course.messages). Returns how many
    cells and parts were changed (0 for an honest notebook of the
    course's own Markdown, text and figures)."""
    metadata = sanitize_notebook_metadata(notebook.get("metadata") or {})
    changes = _changed(notebook.get("metadata"), metadata)
    notebook["metadata"] = from_dict(metadata)
    cells = notebook.get("cells")
    if not isinstance(cells, list):
        notebook["cells"] = []
        return changes + 1
    for cell in cells:
        changes += sanitize_cell(cell)
    return changes


def sanitize_file(path, language):
    """Sanitise the notebook file at `path` in place (its notes in
    `language`); for graded notebooks that no later step rewrites (the
    kernel died, the judge failed): the output folder holds them too."""
    import nbformat

    from cnn_course.messages import use_language

    notebook = nbformat.read(path, as_version=4)
    with use_language(language):
        changes = sanitize_notebook(notebook)
    if changes:
        nbformat.write(notebook, path)
    return changes
