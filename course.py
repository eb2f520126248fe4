"""The course's two commands.

    python3 course.py lab     set up (first time only), open JupyterLab at
                              the start page, notebooks/00_start_here.ipynb
    python3 course.py lab --lang zh-CN
                              the same in Simplified Chinese: JupyterLab's
                              interface and notebooks/zh-CN/
    python3 course.py test    set up (first time only), run every test;
                              as root, also installs bubblewrap, the
                              grader's sandbox

Set-up makes a virtual environment in .venv/ and installs requirements.txt
into it; it runs again only when requirements.txt or pyproject.toml change.
Extra arguments after `test` go to pytest (e.g. `-k lesson01 -x`).
"""

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "requirements.sha256"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
# Learners' start page, in notebooks/ (generated from solutions/).
START_PAGE = "00_start_here.ipynb"
# Editions besides English: notebooks/<language>/ and a JupyterLab
# language pack pinned in requirements.txt.
LANGUAGES = ("zh-CN",)


def requirements_hash():
    digest = hashlib.sha256()
    for name in ("requirements.txt", "pyproject.toml"):
        digest.update((ROOT / name).read_bytes())
    return digest.hexdigest()


def python():
    return str(BIN / ("python.exe" if os.name == "nt" else "python"))


def set_up():
    """Create .venv and install the pinned requirements if they changed."""
    if not (BIN / "python").exists() and not (BIN / "python.exe").exists():
        print("creating the virtual environment in .venv/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    wanted = requirements_hash()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing requirements.txt (first time: a few minutes) ...",
          flush=True)
    subprocess.run([python(), "-m", "pip", "install", "--quiet",
                    "--upgrade", "pip"], check=True)
    # setuptools warns about editable installs on every build of the
    # course's own packages; a newcomer should see only progress lines.
    quiet = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run([python(), "-m", "pip", "install", "--quiet", "-r",
                    "requirements.txt"], cwd=ROOT, check=True, env=quiet)
    STAMP.write_text(wanted)


def install_bubblewrap():
    """The grader's sandbox (trusted_grader/sandbox.py) needs Debian's bwrap.

    Installed here when running as root with apt-get (CI, containers);
    otherwise a hint, since grading then runs student code unconfined.
    """
    if shutil.which("bwrap"):
        return
    if hasattr(os, "geteuid") and os.geteuid() == 0 and \
            shutil.which("apt-get"):
        print("installing bubblewrap (the grader's sandbox) ...", flush=True)
        result = subprocess.run(["apt-get", "install", "-y", "-q",
                                 "bubblewrap"], capture_output=True)
        if result.returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "bubblewrap"],
                           capture_output=True)
    if not shutil.which("bwrap"):
        print("note: bubblewrap is not installed, so graded notebooks run "
              "unconfined (see autograder/README.md); install it with "
              "`sudo apt-get install bubblewrap`.", flush=True)


def environment():
    """nbgrader shells out to alembic, so the venv's bin/ goes on PATH."""
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    env.pop("PYTHONPATH", None)
    return env


def lab_command(root_dir, *extra, language=None):
    """JupyterLab serving `root_dir`, its URL opening the start page.

    default_url sets both the page the browser opens and the URL printed
    for copying; tests/browser/test_browser.py starts its server with this too.
    As root (a container, a cloud VM) JupyterLab refuses to start without
    --allow-root, so it is added there. With a `language` (zh-CN) it opens
    that edition's start page, and the interface speaks it: JupyterLab
    reads its locale from user settings, so this launch gets settings of
    its own that choose the pinned language pack.
    """
    root_user = hasattr(os, "geteuid") and os.geteuid() == 0
    start_page = f"{language}/{START_PAGE}" if language else START_PAGE
    options = []
    if language:
        options.append("--LabApp.user_settings_dir="
                       f"{language_settings(language)}")
    return [python(), "-m", "jupyterlab",
            f"--ServerApp.root_dir={root_dir}",
            f"--LabApp.default_url=/lab/tree/{start_page}", *options,
            *(["--allow-root"] if root_user else []), *extra]


def language_settings(language):
    """A JupyterLab user-settings folder whose locale is `language`."""
    folder = VENV / "lab-settings" / language
    plugin = folder / "@jupyterlab" / "translation-extension"
    plugin.mkdir(parents=True, exist_ok=True)
    locale = language.replace("-", "_")  # zh-CN -> zh_CN, as JupyterLab
    (plugin / "plugin.jupyterlab-settings").write_text(
        f'{{"locale": "{locale}"}}\n', encoding="utf-8")
    return folder


def main(argv):
    if not argv or argv[0] not in {"lab", "test"}:
        print(__doc__)
        return 2
    set_up()
    if argv[0] == "lab":
        extra, language = list(argv[1:]), None
        if "--lang" in extra:
            where = extra.index("--lang")
            language = (extra[where + 1:where + 2] or [""])[0]
            del extra[where:where + 2]
            if language not in LANGUAGES:
                print(f"--lang: expected one of {', '.join(LANGUAGES)}")
                return 2
        command = lab_command(ROOT / "notebooks", *extra,
                              language=language)
    else:
        install_bubblewrap()
        command = [python(), "-m", "pytest", *argv[1:]]
    return subprocess.run(command, cwd=ROOT, env=environment()).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
