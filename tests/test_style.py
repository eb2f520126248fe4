"""The code base is ruff-clean (PEP 8, lines <= 79)."""

import shutil
import subprocess
import sys


def test_ruff_is_clean(root):
    ruff = shutil.which("ruff") or f"{sys.prefix}/bin/ruff"
    result = subprocess.run([ruff, "check", "."], cwd=root,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
