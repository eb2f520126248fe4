"""The sandbox's command lines and limits, checked on their own.

In CI the sandbox must work: there `bubblewrap_available()` is asserted,
so the isolation tests elsewhere fail instead of skipping.
"""

import os
import socket
import subprocess
import sys

import pytest

from trusted_grader import sandbox
from trusted_grader.paths import COURSE_ROOT


@pytest.fixture
def unit(tmp_path):
    workdir = tmp_path / "submitted"
    workdir.mkdir()
    (workdir / "lesson.ipynb").write_text("{}")
    inputs, runtime = tmp_path / "inputs", tmp_path / "runtime"
    inputs.mkdir()
    runtime.mkdir()
    sandbox.install_kernelspec(tmp_path, runtime, inputs,
                               tmp_path / "answers", 1024)
    return tmp_path, workdir, inputs, runtime


def bound(args, option):
    return [args[i + 1] for i, value in enumerate(args) if value == option]


def test_bubblewrap_works_in_ci():
    if os.environ.get("CI"):
        assert sandbox.bubblewrap_available(), (
            "CI must run the grader's sandbox: apt-get install bubblewrap")


@pytest.mark.skipif(not sandbox.bwrap_path(), reason="no bwrap here")
def test_kernel_sees_no_solutions_no_grader_and_little_of_etc(unit):
    root, workdir, inputs, runtime = unit
    args = sandbox.kernel_arguments(root, runtime, workdir, inputs,
                                    root / "answers")
    read_only, writable = bound(args, "--ro-bind"), bound(args, "--bind")
    assert str(COURSE_ROOT / "autograder") in read_only
    assert str(inputs) in read_only
    assert str(root / "answers") in writable
    for hidden in ("solutions", "trusted_grader"):
        assert str(COURSE_ROOT / hidden) not in read_only + writable
    assert not any(path in ("/etc", "/etc/shadow", "/etc/gshadow",
                            str(COURSE_ROOT)) for path in read_only)
    assert "--unshare-net" in args and "--clearenv" in args
    assert "COURSE_SOLUTIONS" not in args
    # The course's packages are imported from the folders mounted here.
    assert args[args.index("PYTHONPATH") + 1] == str(COURSE_ROOT)
    if sandbox.is_root():
        uid, _ = sandbox.unprivileged_ids()
        assert f"--reuid={uid}" in args
        assert os.stat(root / "answers").st_uid == uid


@pytest.mark.skipif(not sandbox.bwrap_path(), reason="no bwrap here")
def test_judge_reads_the_course_and_writes_only_its_folder(tmp_path):
    units, own = tmp_path / "units", tmp_path / "judge"
    units.mkdir()
    own.mkdir()
    args = sandbox.judge_command(["python", "-m", "x"], [units], own)
    if not sandbox.bubblewrap_available():
        assert args == ["python", "-m", "x"]
        return
    assert str(COURSE_ROOT / "solutions") in bound(args, "--ro-bind")
    assert str(units) in bound(args, "--ro-bind")
    assert bound(args, "--bind") == [str(own)]
    assert "--unshare-net" in args
    assert args[args.index("PYTHONPATH") + 1] == str(COURSE_ROOT)
    assert args[-3:] == ["python", "-m", "x"]


def test_limits_apply_to_the_process(tmp_path):
    code = ("import resource; from trusted_grader import sandbox; "
            "sandbox.set_limits(512, 64, file_size=1 << 20); "
            "print(resource.getrlimit(resource.RLIMIT_AS)[0], "
            "resource.getrlimit(resource.RLIMIT_FSIZE)[0]); "
            "open('big', 'wb').write(b'x' * (2 << 20))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.stdout.split()[:2] == [str(512 << 20), str(1 << 20)]
    assert result.returncode != 0  # the 2 MiB write exceeded the cap
    assert (tmp_path / "big").stat().st_size <= 1 << 20


@pytest.mark.skipif(not sandbox.bubblewrap_available() and
                    not os.environ.get("CI"), reason="no bubblewrap")
def test_a_confined_process_cannot_reach_the_network_or_secrets(tmp_path):
    own = tmp_path / "judge"
    own.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    code = ("import os, socket\n"
            "print('uid', os.getuid())\n"
            "print('shadow', os.path.exists('/etc/shadow'))\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), 2)\n"
            "    print('network yes')\n"
            "except OSError:\n"
            "    print('network no')\n")
    command = sandbox.judge_command([sys.executable, "-c", code], [], own)
    result = subprocess.run(command, capture_output=True, text=True,
                            timeout=60)
    listener.close()
    assert "network no" in result.stdout, result.stderr
    assert "shadow False" in result.stdout
    if sandbox.is_root():
        assert f"uid {sandbox.unprivileged_ids()[0]}" in result.stdout
