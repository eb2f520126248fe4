"""Confine a student's kernel: bubblewrap, resource limits, no network.

nbgrader runs student code with the grader's rights (its FAQ suggests a
container kernel). Here each notebook's kernel is started through

    python -m autograder.sandbox --unit UNIT --memory-mb M --pids-max P \
        -- python -m ipykernel_launcher -f {connection_file}

which sets the limits and, where bubblewrap (`bwrap`, Debian package
`bubblewrap`) works, runs the kernel in fresh namespaces that see only:

- the system's programs and libraries, Python and the virtual environment,
  and the course's `autograder/`, `cnn_course/` and `data/`, all read-only;
- UNIT/reference: this lesson's reference solution cells, read-only (the
  hidden tests compare against them, in the kernel);
- a scratch folder mounted where nbgrader runs the notebook, an empty
  /tmp, and a short-named folder for the kernel's connection file and
  sockets.

So the kernel cannot read solutions/, other submissions, the gradebook or
the grades, cannot write anywhere that outlives it, has no network (the
kernel talks to nbgrader over Unix sockets, `KernelManager.transport =
"ipc"`), and dies with its grader; its whole process tree is killed when it
exits. Without bubblewrap only the limits apply; see autograder/README.md.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

COURSE_ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "course-sandbox"
INSTALL_HINT = "sudo apt-get install bubblewrap"
# Processes (threads count too) the kernel may have at once. TensorFlow
# starts about a hundred threads.
DEFAULT_PIDS_MAX = 512

_bwrap_works = None


def bwrap_path():
    return shutil.which("bwrap")


def bubblewrap_available():
    """True where bwrap is installed and may create namespaces here."""
    global _bwrap_works
    if _bwrap_works is None:
        path = bwrap_path()
        if path is None:
            _bwrap_works = False
        else:
            probe = subprocess.run(
                [path, "--ro-bind", "/", "/", "--unshare-all",
                 "--die-with-parent", "true"],
                capture_output=True, timeout=30)
            _bwrap_works = probe.returncode == 0
    return _bwrap_works


def protection_summary():
    """One line for the grader's output: what confines student code."""
    if bubblewrap_available():
        return ("student kernels run in bubblewrap: no network, no access "
                "to solutions/, other submissions or the grades")
    return ("WARNING: bubblewrap is not available, so student code runs "
            "with your rights (it can read solutions/ and other "
            "submissions and use the network); only the time, memory and "
            f"process limits apply. Install it: {INSTALL_HINT}")


def install_kernelspec(unit, runtime, memory_mb, pids_max=DEFAULT_PIDS_MAX):
    """Write UNIT/jupyter/kernels/course-sandbox; return the JUPYTER_PATH.

    `runtime` holds the connection file and the kernel's sockets.
    """
    folder = Path(unit) / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "autograder.sandbox", "--unit", str(unit),
            "--runtime", str(runtime),
            "--memory-mb", str(memory_mb or 0), "--pids-max", str(pids_max),
            "--", sys.executable, "-m", "ipykernel_launcher",
            "-f", "{connection_file}"]
    # A signal would reach bwrap, not the kernel inside its own session:
    # interrupt over the control channel instead (a timed-out cell).
    spec = {"argv": argv, "display_name": "Python 3 (grading sandbox)",
            "language": "python", "interrupt_mode": "message"}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1),
                                        encoding="utf-8")
    (Path(unit) / "scratch").mkdir(exist_ok=True)
    return str(Path(unit) / "jupyter")


def set_limits(memory_mb, pids_max):
    """Address-space cap; process cap where the kernel enforces it."""
    if memory_mb:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if pids_max and os.geteuid() != 0:
        # RLIMIT_NPROC counts every process of this user, so allow for the
        # ones already running; the kernel ignores it for root.
        running = _processes_of_user()
        limit = running + int(pids_max)
        resource.setrlimit(resource.RLIMIT_NPROC, (limit, limit))


def _processes_of_user():
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                count += len(list((entry / "task").iterdir()))
        except OSError:
            continue
    return count


def join_pids_cgroup(pids_max):
    """As root, cap processes with a cgroup v1 pids controller if any."""
    base = Path("/sys/fs/cgroup/pids")
    if os.geteuid() != 0 or not (base / "cgroup.procs").exists():
        return None
    group = base / f"autograder-{os.getpid()}"
    try:
        group.mkdir(exist_ok=True)
        (group / "pids.max").write_text(str(pids_max))
        (group / "cgroup.procs").write_text(str(os.getpid()))
    except OSError:
        return None
    return group


def remove_stale_cgroups():
    """Remove this grader's empty pids cgroups (their kernels have ended)."""
    base = Path("/sys/fs/cgroup/pids")
    for group in base.glob("autograder-*"):
        try:
            group.rmdir()
        except OSError:
            pass  # still in use, or not ours to remove


def _system_paths():
    paths = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/etc"]
    for prefix in {sys.prefix, sys.base_prefix, sys.exec_prefix,
                   os.path.dirname(os.path.realpath(sys.executable))}:
        paths.append(os.path.realpath(prefix))
        paths.append(prefix)
    for package in ("autograder", "cnn_course", "data"):
        paths.append(str(COURSE_ROOT / package))
    return paths


def bwrap_arguments(unit, runtime, workdir):
    """The bwrap command line that confines a kernel started in workdir."""
    unit = Path(unit)
    scratch = unit / "scratch"
    _copy_lesson_files(workdir, scratch)
    args = [bwrap_path(), "--die-with-parent", "--unshare-all",
            "--new-session", "--proc", "/proc", "--dev", "/dev",
            "--tmpfs", "/tmp"]
    seen = set()
    for path in _system_paths():
        if path not in seen and os.path.exists(path):
            seen.add(path)
            args += ["--ro-bind", path, path]
    reference = unit / "reference"
    args += ["--ro-bind", str(reference), str(reference),
             "--bind", str(runtime), str(runtime),
             "--bind", str(scratch), str(workdir), "--chdir", str(workdir),
             "--clearenv"]
    environment = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp", "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "COURSE_SOLUTIONS": str(reference),
        "CNN_COURSE_DATA": str(COURSE_ROOT / "data" / "mnist.npz"),
        "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION",
                                             "autograde"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
    }
    for name in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND", "MPLBACKEND"):
        if name in os.environ:
            environment[name] = os.environ[name]
    for name, value in environment.items():
        args += ["--setenv", name, value]
    return args + ["--"]


def _copy_lesson_files(workdir, scratch):
    """Files nbgrader put beside the notebook, minus the notebook itself."""
    for item in Path(workdir).iterdir():
        if item.suffix == ".ipynb" or item.name.startswith("."):
            continue
        if item.is_file():
            shutil.copy(item, scratch / item.name)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder.sandbox")
    parser.add_argument("--unit", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--memory-mb", type=int, default=0)
    parser.add_argument("--pids-max", type=int, default=DEFAULT_PIDS_MAX)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] \
        else args.command
    join_pids_cgroup(args.pids_max)
    set_limits(args.memory_mb, args.pids_max)
    if bubblewrap_available():
        command = bwrap_arguments(args.unit, args.runtime,
                                  os.getcwd()) + command
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
