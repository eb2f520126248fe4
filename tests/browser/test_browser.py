"""Learners in a real browser: JupyterLab, lesson 01 and nbgrader's buttons.

Starts JupyterLab the way `python3 course.py lab` does (course.lab_command)
on 127.0.0.1 with a random free port and token, serving a temporary copy of
notebooks/ plus lesson 01's solution notebook, and drives Debian's Chromium
(/usr/bin/chromium) with Playwright:

- the start page opens first and links the five lessons in order;
- lesson 01, run all: the stub's NotImplementedError stops the run; the
  mean_image check then says "not implemented yet" in a few lines, with no
  traceback; an np.roll shift_image gets "Looks like np.roll"; a correct
  mean_image typed into its cell gets the check's ✔ line;
- nbgrader's Validate button (lab extension) runs `nbgrader validate` and
  shows its results dialog; Nbgrader menu → Formgrader opens the formgrader;
- the solution notebook runs end to end with its figures rendered.

The server runs with NBGRADER_EXECUTION=validate, so the solution notebook
trains on the small grading budget (seconds instead of ~20 s); the student
notebook does not train. Screenshots go to test-artifacts/browser/.

Instructors: a hostile lesson-01 submission (script in displayed HTML,
JavaScript, SVG and Markdown outputs and in Markdown cells, an
`<img onerror>`, a javascript: link and a remote image in the short answer)
graded by `python -m trusted_grader grade`: its feedback HTML, and its page in
nbgrader's formgrader served from the output folder, run no script (no
dialog, title unchanged, no request to a loopback listener the payloads
call) and still show the learner's printed text, figure and answer.
"""

import importlib.util
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse
from xml.etree import ElementTree

import nbformat
import pytest
from helpers import LESSON01, LESSONS, ROOT
from playwright.sync_api import expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser"
LESSON = LESSON01
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
    "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]
# Generous but bounded (milliseconds): the first kernel imports TensorFlow.
UI = 60_000
RUN = 240_000

MEAN_IMAGE = '''def mean_image(images, labels, digit):
    selected = images[labels == digit]
    if len(selected) == 0:
        raise ValueError(f"no image has label {digit}")
    return selected.mean(axis=0)
'''
ROLL_SHIFT = '''def shift_image(image, dx, dy=0):
    return np.roll(np.roll(image, dx, axis=1), dy, axis=0)
'''

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="Debian's Chromium is not installed at "
                       "/usr/bin/chromium (.ci/run installs it: "
                       "apt-get install chromium)"),
]
expect.set_options(timeout=UI)


def load_course():
    """course.py, the README's entry point, as a module."""
    spec = importlib.util.spec_from_file_location("course",
                                                  ROOT / "course.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_server(url, process, log, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer at {url}:\n"
                f"{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab as `course.py lab` starts it, on a copy of notebooks/."""
    yield from serve_lab(tmp_path_factory.mktemp("lab"))


@pytest.fixture(scope="module")
def lab_zh(tmp_path_factory):
    """JupyterLab as `course.py lab --lang zh-CN` starts it."""
    yield from serve_lab(tmp_path_factory.mktemp("lab-zh"), "zh-CN")


def serve_lab(tmp, language=None):
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    solution = root / "solution" / f"{LESSON}.ipynb"
    solution.parent.mkdir()
    shutil.copyfile(ROOT / "solutions" / LESSON / f"{LESSON}.ipynb",
                    solution)
    course = load_course()
    port, token = free_port(), secrets.token_hex(16)
    env = course.environment()
    env.update({
        "PATH": str(Path(sys.executable).parent) + os.pathsep
        + env["PATH"],
        "CNN_COURSE_DATA": str(ROOT / "data" / "mnist.npz"),
        "NBGRADER_EXECUTION": "validate",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
    })
    # No "get notified about Jupyter news?" toast over the notebook.
    news = tmp / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text(
        '{"fetchNews": "false"}')
    command = course.lab_command(
        root, "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", language=language)
    command[0] = sys.executable
    for option in command:
        # The language's own settings folder: no news toast there either.
        if option.startswith("--LabApp.user_settings_dir="):
            folder = Path(option.split("=", 1)[1]) / "@jupyterlab" / \
                "apputils-extension"
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(news / "notification.jupyterlab-settings", folder)
    log = tmp / f"jupyterlab{'-' + language if language else ''}.log"
    with log.open("w") as out:
        # cwd = the served folder, as nbgrader's formgrader requires.
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        yield {"base": base, "token": token, "root": root, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, ARTIFACTS / log.name)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    """Debian's Chromium (one per test module), as a Playwright context."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        # A fresh, empty profile: Playwright passes it as --user-data-dir.
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        context.set_default_timeout(UI)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="module")
def page(lab, chromium):
    return chromium.pages[0] if chromium.pages else chromium.new_page()


def shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def notebook_panel(page, has_text, has_not_text=None):
    return page.locator(".jp-NotebookPanel").filter(
        has_text=has_text, has_not_text=has_not_text)


def code_cell(panel, text):
    return panel.locator(".jp-CodeCell").filter(has_text=text)


def wait_idle(panel, timeout=RUN):
    """The notebook's kernel is idle and no cell is queued or running."""
    expect(panel.locator(
        '.jp-Notebook-ExecutionIndicator[data-status="idle"]')
    ).to_have_count(1, timeout=timeout)
    expect(panel.locator(".jp-InputArea-prompt").filter(
        has_text="[*]")).to_have_count(0, timeout=timeout)


def menu(page, *path):
    """Click through the menu bar, e.g. menu(page, "Run", "Run All Cells")."""
    page.locator(".lm-MenuBar-itemLabel").filter(
        has_text=re.compile(f"^{re.escape(path[0])}$")).click()
    for label in path[1:]:
        page.locator(".lm-Menu-itemLabel").filter(
            has_text=re.compile(f"^{re.escape(label)}")).first.click()


def replace_source(page, cell, code):
    """Type `code` into a cell in place of its source, as a learner does."""
    editor = cell.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(code)
    expect(editor).to_contain_text(code.splitlines()[1].strip())


def run_cell(page, cell):
    """Select a cell and run it in place (Ctrl+Enter)."""
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")


def error_text(cell):
    """The visible text of a cell's outputs, as the learner reads it."""
    outputs = cell.locator(".jp-OutputArea-output")
    expect(outputs.first).to_be_visible(timeout=RUN)
    return "\n".join(outputs.all_inner_texts())


def assert_short_failure(text, expected):
    assert expected in text, text
    assert "Traceback" not in text, text
    assert "File " not in text and "site-packages" not in text, text
    assert len(text.strip().splitlines()) <= 6, text
    assert text.lstrip().startswith("\u2718"), text


def open_start_page(page, server, title):
    """The start page `course.py lab` opens (/ redirects to default_url),
    and its links to the lessons."""
    page.goto(f"{server['base']}/?token={server['token']}")
    start = notebook_panel(page, title)
    expect(start.locator(".jp-RenderedMarkdown h1")).to_contain_text(
        title, timeout=UI)
    # Links, not the headings' anchors.
    links = start.locator(
        ".jp-RenderedMarkdown a:not(.jp-InternalAnchorLink)")
    expect(links).to_have_count(len(LESSONS))
    return start, links


def open_first_lesson(page, links):
    """Follow the start page's first link: lesson 01's student notebook,
    its kernel idle."""
    links.first.click()
    student = notebook_panel(page, "check.mean_image(mean_image)",
                             has_not_text="BEGIN SOLUTION")
    expect(student).to_have_count(1, timeout=UI)
    wait_idle(student)
    return student


def test_learner_session_in_jupyterlab(lab, page):
    start, links = open_start_page(page, lab, "start here")
    # JupyterLab resolves the relative hrefs to
    # /files/<lesson>/<lesson>.ipynb and opens them in a tab.
    hrefs = [urlparse(link.get_attribute("href")).path
             for link in links.all()]
    assert [Path(href).stem for href in hrefs] == LESSONS, hrefs
    expect(start).to_contain_text("Validate")
    shot(page, "01_start_page")

    # Run All before the kernel is ready can be lost (seen once in CI).
    student = open_first_lesson(page, links)
    menu(page, "Run", "Run All Cells")
    # The first stub's NotImplementedError (in the "Try it" cell) stops
    # Run All, as in any notebook; the learner then runs the check.
    try_it = code_cell(student, "mean_one = mean_image(x_train")
    expect(try_it.locator(".jp-OutputArea-output")).to_contain_text(
        "NotImplementedError", timeout=RUN)
    wait_idle(student)
    images = student.locator(".jp-OutputArea-output img")
    assert images.count() >= 1, "the MNIST samples' figure is missing"
    shot(page, "02_run_all_stops_at_stub")

    check_mean = code_cell(student, "check.mean_image(mean_image)")
    run_cell(page, check_mean)
    expect(check_mean.locator(".jp-OutputArea-output")).to_contain_text(
        "is not implemented yet", timeout=RUN)
    wait_idle(student)
    check_mean.scroll_into_view_if_needed()
    shot(page, "03_check_not_implemented")
    assert_short_failure(error_text(check_mean),
                         "mean_image is not implemented yet.")

    # A wrong answer: np.roll wraps around; the check names the mistake.
    shift_cell = code_cell(student, "def shift_image(")
    replace_source(page, shift_cell, ROLL_SHIFT)
    run_cell(page, shift_cell)
    check_shift = code_cell(student, "check.shift_image(shift_image)")
    run_cell(page, check_shift)
    expect(check_shift.locator(".jp-OutputArea-output")).to_contain_text(
        "Looks like np.roll", timeout=RUN)
    wait_idle(student)
    check_shift.scroll_into_view_if_needed()
    shot(page, "04_check_wrong_answer_np_roll")
    assert_short_failure(error_text(check_shift), "Looks like np.roll")

    # A correct mean_image, typed in place of the stub: the check passes.
    mean_cell = code_cell(student, "def mean_image(")
    replace_source(page, mean_cell, MEAN_IMAGE)
    run_cell(page, mean_cell)
    wait_idle(student)
    run_cell(page, check_mean)
    expect(check_mean.locator(".jp-OutputArea-output")).to_contain_text(
        "\u2714", timeout=RUN)
    wait_idle(student)
    passed = error_text(check_mean)
    assert passed.strip().startswith("\u2714"), passed
    assert "Traceback" not in passed and len(passed.splitlines()) <= 2
    check_mean.scroll_into_view_if_needed()
    shot(page, "05_check_passes")

    # nbgrader's Validate button (lab extension): saves, runs `nbgrader
    # validate` on the server and shows the results in a dialog.
    validate = student.locator(".validate-button")
    expect(validate).to_be_visible()
    validate.locator("jp-button, button").first.click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results", timeout=RUN)
    shot(page, "06_validate_dialog")
    body = dialog.locator(".jp-Dialog-body")
    # It lists the failing checks with the checks' own short messages; the
    # mean_image check now passes, so it is not listed.
    expect(body).to_contain_text("The following cell failed:")
    expect(body).to_contain_text("Looks like np.roll")
    expect(body).to_contain_text("build_dense_model is not implemented yet")
    expect(body).not_to_contain_text("check.mean_image(mean_image)")
    expect(body).not_to_contain_text("Traceback")
    expect(body).not_to_contain_text("There was an error running")
    dialog.locator(".jp-Dialog-button").filter(has_text="Ok").click()
    expect(dialog).to_have_count(0)
    saved = (lab["root"] / LESSON / f"{LESSON}.ipynb").read_text("utf-8")
    assert "selected.mean(axis=0)" in saved, "Validate did not save first"

    # The instructors' formgrader: Nbgrader menu -> Formgrader.
    menu(page, "Nbgrader", "Formgrader")
    formgrader = page.frame_locator("#formgrader-iframe iframe")
    expect(formgrader.get_by_text("Manage Assignments").first).to_be_visible(
        timeout=UI)
    shot(page, "07_formgrader")


def test_solution_notebook_renders_its_figures(lab, page):
    page.goto(f"{lab['base']}/lab/tree/solution/{LESSON}.ipynb"
              f"?token={lab['token']}")
    solution = notebook_panel(page, "BEGIN SOLUTION")
    expect(solution).to_have_count(1, timeout=UI)
    expect(solution.locator(".jp-CodeCell").first).to_be_visible()
    menu(page, "Run", "Run All Cells")
    # Done when every code cell of the file shows an execution count.
    total = sum(cell.cell_type == "code" for cell in nbformat.read(
        lab["root"] / "solution" / f"{LESSON}.ipynb", as_version=4).cells)
    prompts = solution.locator(".jp-CodeCell .jp-InputArea-prompt")
    executed = prompts.filter(has_text=re.compile(r"\[\d+\]"))
    expect(executed).to_have_count(total, timeout=RUN)
    wait_idle(solution)
    shot(page, "08_solution_run")
    errors = solution.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.'
        'stderr"]').filter(has_text="Error")
    assert errors.count() == 0, errors.all_inner_texts()
    images = solution.locator(".jp-OutputArea-output img")
    assert images.count() >= 5, images.count()
    for image in images.all():
        image.scroll_into_view_if_needed()
        width = image.evaluate("img => img.complete && img.naturalWidth")
        assert width and width > 100, width
    images.last.scroll_into_view_if_needed()
    shot(page, "09_solution_figures")
    passes = solution.locator(".jp-OutputArea-output").filter(
        has_text="\u2714")
    assert passes.count() >= 3, passes.all_inner_texts()


def test_chinese_edition_in_jupyterlab(lab_zh, page):
    """`course.py lab --lang zh-CN`: the Chinese start page, JupyterLab's
    menus in Chinese, a check that answers in Chinese, and a figure
    labelled in Chinese."""
    _, links = open_start_page(page, lab_zh, "从这里开始")
    expect(page.locator(".lm-MenuBar-itemLabel").filter(
        has_text=re.compile("^文件$"))).to_have_count(1)
    shot(page, "zh_01_start_page")
    student = open_first_lesson(page, links)
    check_mean = code_cell(student, "check.mean_image(mean_image)")
    for needed in ("import_tensorflow()", "def mean_image"):
        run_cell(page, code_cell(student, needed))
        wait_idle(student)
    run_cell(page, check_mean)
    text = error_text(check_mean)
    assert re.search("[\u4e00-\u9fff]", text), text
    assert_short_failure(text, "mean_image")
    shot(page, "zh_02_check_in_chinese")

    # A figure, as the lessons draw them, in SVG with its text kept as
    # text so that the page can be read: Chinese labels, drawn in a CJK
    # font, and no "Glyph ... missing from font" warning (a box).
    # FIGURE_CODE keeps the text the cell is found by.
    figure_cell = code_cell(student, "plots.show_images(x_train[:10]")
    replace_source(page, figure_cell, FIGURE_CODE)
    run_cell(page, figure_cell)
    wait_idle(student)
    image = figure_cell.locator(
        '.jp-OutputArea-output[data-mime-type="image/svg+xml"] img')
    expect(image).to_be_visible(timeout=RUN)
    # JupyterLab shows the SVG as an image: read the text it draws.
    svg = urllib.parse.unquote(image.get_attribute("src").split(",", 1)[1])
    texts = [(element.text or "", element.get("style") or "")
             for element in ElementTree.fromstring(svg).iter(
                 "{http://www.w3.org/2000/svg}text")]
    words = [word for word, _ in texts]
    for label in ("水平平移（像素，+ 表示向右）", "测试准确率", "全连接网络"):
        assert label in words, words
    assert not any("shift" in word or "accuracy" in word
                   for word in words), words
    styles = [style for word, style in texts
              if re.search("[\u4e00-\u9fff]", word)]
    assert styles and all("WenQuanYi" in style for style in styles), styles
    assert figure_cell.locator('.jp-OutputArea-output[data-mime-type='
                               '"application/vnd.jupyter.stderr"]'
                               ).count() == 0
    figure_cell.scroll_into_view_if_needed()
    shot(page, "zh_03_figure_in_chinese")


FIGURE_CODE = """# in place of plots.show_images(x_train[:10], ...)
%config InlineBackend.figure_formats = ["svg"]
import matplotlib
matplotlib.rcParams["svg.fonttype"] = "none"
plots.plot_shift_curves([-1, 0, 1], {"dense net": [0.5, 0.9, 0.5]},
                        ylabel="test accuracy", chance=0.1)
"""


# ------------------------------- a hostile submission, as graded ---

STUDENT = "mallory"
TITLE = LESSON  # what the feedback and formgrader pages are titled
# Honest output that must survive: printed text and a matplotlib figure.
HONEST_OUTPUT = "an honest printed line"


class Beacon(BaseHTTPRequestHandler):
    """A loopback listener the payloads try to reach; records each hit."""

    hits = []

    def do_GET(self):
        self.hits.append(self.path)
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def beacon():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Beacon)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def payload(beacon, where):
    """JavaScript that, if it runs, shows itself in every way the test
    watches: a request to the beacon, the page's title, a dialog."""
    return (f"fetch('{beacon}/{where}',{{mode:'no-cors'}});"
            f"new Image().src='{beacon}/{where}-image';"
            f"document.title='PWNED {where}';alert('{where}')")


def hostile_notebook(root, beacon):
    """Lesson 01's blank notebook, plus script in outputs and Markdown."""
    from helpers import cell, lesson_notebook

    notebook = lesson_notebook(root, "notebooks")
    html = (f"<script>{payload(beacon, 'html-script')}</script>"
            f"<img src=x onerror=\"{payload(beacon, 'html-onerror')}\">"
            f"<iframe srcdoc=\"<script>parent.{payload(beacon, 'iframe')}"
            f"</script>\"></iframe>")
    svg = (f"<svg xmlns='http://www.w3.org/2000/svg' onload=\""
           f"{payload(beacon, 'svg')}\"><rect width='9' height='9'/></svg>")
    code = nbformat.v4.new_code_cell(
        "import matplotlib.pyplot as plt\n"
        "from IPython.display import HTML, Javascript, display\n"
        f"display(HTML({html!r}))\n"
        f"display(Javascript({payload(beacon, 'javascript')!r}))\n"
        f"display({{'image/svg+xml': {svg!r}}}, raw=True)\n"
        f"display({{'text/markdown': {html!r}}}, raw=True)\n"
        f"print({HONEST_OUTPUT!r})\n"
        "plt.plot([0, 1, 2], [2, 0, 1])\n"
        "plt.show()\n")
    setup = notebook.cells.index(cell(notebook, "setup"))
    notebook.cells.insert(setup + 1, code)
    notebook.cells.insert(setup + 2, nbformat.v4.new_markdown_cell(
        f"<script>{payload(beacon, 'markdown-script')}</script>\n\n"
        f"<svg onload=\"{payload(beacon, 'markdown-svg')}\"></svg>"))
    cell(notebook, "why_dense_fails").source = (
        "A dense layer ties each weight to one pixel position. "
        f"<img src=x onerror=\"{payload(beacon, 'answer-onerror')}\"> "
        f"[more](javascript:{payload(beacon, 'answer-link')}) "
        f"![pixel]({beacon}/answer-pixel.png)")
    return notebook


@pytest.fixture(scope="module")
def hostile_graded(root, beacon, tmp_path_factory):
    """The grading command's output folder for the hostile submission."""
    from helpers import run_grading

    folder = tmp_path_factory.mktemp("hostile-submissions")
    nbformat.write(hostile_notebook(root, beacon),
                   folder / f"{STUDENT}_{LESSON}.ipynb")
    output = tmp_path_factory.mktemp("hostile-grading")
    _, rows = run_grading(root, folder, output, "--timeout", "120")
    assert [(row["student"], row["status"]) for row in rows] == [
        (STUDENT, "graded")], rows
    return output


@pytest.fixture(scope="module")
def formgrader(hostile_graded, tmp_path_factory):
    """nbgrader's formgrader on the output folder, as the course root.

    The least configuration it needs there: the gradebook and the
    autograded notebooks (and no HTMLExporter.sanitize_html, to show the
    notebooks themselves are safe).
    """
    tmp = tmp_path_factory.mktemp("formgrader")
    output = hostile_graded
    (output / "nbgrader_config.py").write_text(
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(output)!r}\n"
        "c.CourseDirectory.autograded_directory = 'autograded'\n"
        f"c.CourseDirectory.db_url = "
        f"{'sqlite:///' + str(output / 'gradebook.db')!r}\n",
        encoding="utf-8")
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ)
    env.update({
        # nbgrader shells out to alembic, beside this Python.
        "PATH": str(Path(sys.executable).parent) + os.pathsep
        + env["PATH"],
        "JUPYTER_CONFIG_DIR": str(tmp / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
    })
    # The venv's jupyter_server_config.d enables nbgrader's extensions.
    command = [sys.executable, "-m", "jupyter_server", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={output}", "--allow-root"]
    log = tmp / "formgrader.log"
    with log.open("w") as out:
        # cwd = the course root, whose nbgrader_config.py it reads.
        process = subprocess.Popen(command, cwd=output, env=env,
                                   stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_server(f"{base}/api/status?token={token}", process, log)
        yield {"base": base, "token": token, "root": output, "log": log}
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, ARTIFACTS / log.name)


def watch(chromium, beacon):
    """A new page that records dialogs and requests to the beacon."""
    view = chromium.new_page()
    seen = {"dialogs": [], "requests": []}

    def on_dialog(dialog):
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    view.on("dialog", on_dialog)
    view.on("request", lambda request: seen["requests"].append(
        request.url) if request.url.startswith(beacon) else None)
    return view, seen


def assert_no_script_ran(view, seen, beacon_hits, name):
    # onerror fires once the broken image fails; give any payload time.
    view.wait_for_load_state("load")
    view.wait_for_timeout(3000)
    shot(view, name)
    ran = [f"dialog {message!r}" for message in seen["dialogs"]]
    if view.title() != TITLE:
        ran.append(f"title {view.title()!r}")
    ran += [f"request {url}" for url in seen["requests"]]
    ran += [f"listener got {path}" for path in beacon_hits]
    assert not ran, "student content ran or loaded:\n" + "\n".join(ran)


def assert_honest_work_shown(view, name):
    printed = view.get_by_text(HONEST_OUTPUT, exact=True)
    expect(printed).to_be_visible()
    printed.scroll_into_view_if_needed()
    shot(view, f"{name}_outputs")
    expect(view.get_by_text("ties each weight to one pixel")).to_be_visible()
    expect(view.locator("h1").first).to_contain_text("Lesson 01")
    figures = view.locator('img[src^="data:image/png"]')
    assert figures.count() >= 1
    width = figures.first.evaluate("img => img.complete && img.naturalWidth")
    assert width and width > 100, width


def test_hostile_feedback_runs_no_script(hostile_graded, chromium, beacon):
    """The learner's feedback HTML, opened from disk."""
    feedback = hostile_graded / "feedback" / STUDENT / LESSON / \
        f"{LESSON}.html"
    Beacon.hits.clear()
    view, seen = watch(chromium, beacon)
    try:
        view.goto(feedback.as_uri())
        assert_no_script_ran(view, seen, Beacon.hits, "hostile_feedback")
        assert_honest_work_shown(view, "hostile_feedback")
    finally:
        view.close()


def test_hostile_submission_in_formgrader_runs_no_script(
        formgrader, chromium, beacon):
    """The formgrader's page of the submission, in the instructor's
    Jupyter origin."""
    from nbgrader.api import Gradebook

    with Gradebook("sqlite:///" + str(formgrader["root"] / "gradebook.db")
                   ) as gradebook:
        submission = gradebook.find_submission_notebook(
            LESSON, LESSON, STUDENT).id
    Beacon.hits.clear()
    view, seen = watch(chromium, beacon)
    try:
        view.goto(f"{formgrader['base']}/formgrader/submissions/"
                  f"{submission}/?token={formgrader['token']}")
        # The formgrader's own page: its score box for the short answer.
        expect(view.locator("input.score")).not_to_have_count(0)
        assert_no_script_ran(view, seen, Beacon.hits, "hostile_formgrader")
        assert_honest_work_shown(view, "hostile_formgrader")
    finally:
        view.close()
