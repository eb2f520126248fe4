"""Confine a student's kernel, and the judge: bubblewrap, limits, nobody.

nbgrader runs student code with the grader's rights (its FAQ suggests a
container kernel). Here each notebook's kernel is started through

    python -m trusted_grader.sandbox --unit UNIT --runtime DIR \
        --inputs DIR --answers DIR --memory-mb M \
        -- python -m ipykernel_launcher -f {connection_file}

which sets the limits and, where bubblewrap (`bwrap`, Debian package
`bubblewrap`) works, runs the kernel in fresh namespaces (no network) that
see only, read-only: the system's programs and libraries, the few files of
/etc that Python, NumPy, TensorFlow and matplotlib read, Python and the
virtual environment, the kernel-side packages `autograder` and
`cnn_course`, `data/`, and this lesson's grader inputs; and, writable: a
scratch folder where nbgrader runs the notebook, the answers folder, an
empty /tmp and the folder of the kernel's connection file and sockets.
Nothing of solutions/, the trusted grader, other submissions or the grades
is there to read. Graded as root, the kernel runs as `nobody`.

The judge (`judge_command`) runs confined the same way: no network, the
course code and solutions read-only, the submissions' answers read-only,
its own folder writable, as `nobody` when graded as root.
"""

import argparse
import json
import os
import pwd
import resource
import shutil
import subprocess
import sys
from pathlib import Path

from autograder.feedback import FORBIDDEN_LIBRARIES
from cnn_course.messages import LANGUAGE_VARIABLE
from trusted_grader.paths import COURSE_ROOT, DATA, KERNEL_PACKAGES

KERNEL_NAME = "course-sandbox"
# The kernel's writable folder in the unit, over the notebook's folder.
SCRATCH = "scratch"
INSTALL_HINT = "sudo apt-get install bubblewrap"
# Processes (threads count too) the kernel may have at once. TensorFlow
# starts about a hundred threads.
PIDS_MAX = 512
# The largest file the kernel may write (its answers included).
FILE_SIZE_LIMIT = 1024 * 2**20
# Of /etc, only what the kernel's libraries read; passwd and group are
# written by the sandbox with root and nobody alone.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime",
             "nsswitch.conf", "mime.types")
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64")
# The course's packages are imported from the course root, whose folders
# the sandbox mounts, not from wherever the virtual environment's editable
# install points (a second clone of the course grades with its own code).
COURSE_IMPORTS = {"PYTHONPATH": str(COURSE_ROOT)}
UNPRIVILEGED = "nobody"
# The kernel that answers the from-scratch exercises runs without the
# packages of FORBIDDEN_LIBRARIES (autograder.feedback): each is covered,
# wherever Python could find it, by a package whose import raises
# ImportError.
# The first words of the ImportError such a package raises; the judge
# reads the package's name after them (see replay.blocked_library).
BLOCKED_MARK = "not available while from-scratch exercises are graded:"

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
        return ("student kernels and the judge run in bubblewrap: no "
                "network, no access to solutions/, other submissions or "
                "the grades" + (", as nobody" if is_root() else ""))
    return ("WARNING: bubblewrap is not available, so student code runs "
            "with your rights (it can read solutions/ and other "
            "submissions and use the network); only the time, memory and "
            f"process limits apply. Install it: {INSTALL_HINT}")


def is_root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def unprivileged_ids():
    """(uid, gid) of `nobody`."""
    entry = pwd.getpwnam(UNPRIVILEGED)
    return entry.pw_uid, entry.pw_gid


def hand_over(*paths):
    """Give folders (and their files) to nobody when grading as root."""
    if not is_root():
        return
    uid, gid = unprivileged_ids()
    for path in paths:
        path = Path(path)
        os.chown(path, uid, gid)
        if path.is_dir():
            for item in path.rglob("*"):
                os.chown(item, uid, gid, follow_symlinks=False)


def install_kernelspec(unit, runtime, inputs, answers, memory_mb,
                       language="en", without_libraries=False):
    """Write UNIT/jupyter/kernels/KERNEL_NAME; return the JUPYTER_PATH.

    `runtime` holds the connection file and the kernel's sockets;
    `inputs` the grader's calls for this lesson, `answers` the kernel's;
    UNIT/scratch is the writable folder over the notebook's folder.
    `without_libraries`: the kernel cannot import FORBIDDEN_LIBRARIES.
    """
    folder = Path(unit) / "jupyter" / "kernels" / KERNEL_NAME
    folder.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "trusted_grader.sandbox",
            "--unit", str(unit), "--runtime", str(runtime),
            "--inputs", str(inputs), "--answers", str(answers),
            "--memory-mb", str(memory_mb),
            "--language", language,
            *(["--without-libraries"] if without_libraries else []),
            "--", sys.executable, "-m", "ipykernel_launcher",
            "-f", "{connection_file}"]
    # A signal would reach bwrap, not the kernel inside its own session:
    # interrupt over the control channel instead (a timed-out cell).
    spec = {"argv": argv, "display_name": "Python 3 (grading sandbox)",
            "language": "python", "interrupt_mode": "message"}
    (folder / "kernel.json").write_text(json.dumps(spec, indent=1),
                                        encoding="utf-8")
    (Path(unit) / SCRATCH).mkdir(exist_ok=True)
    Path(answers).mkdir(parents=True, exist_ok=True)
    return str(Path(unit) / "jupyter")


def blocked_import_message(package, language="en"):
    """The ImportError text of a blocked package, in the learner's
    language; it starts with the package's name and BLOCKED_MARK."""
    from cnn_course.messages import t, use_language

    with use_language(language):
        advice = t("this exercise is answered by a Python process in "
                   "which TensorFlow, Keras, SciPy, PyTorch and JAX do not "
                   "exist. Compute it with NumPy.")
    return f"{package} {BLOCKED_MARK} {advice}"


def blocked_package_paths():
    """Folders of FORBIDDEN_LIBRARIES in every site folder the kernel
    sees."""
    import glob
    import site

    folders = set(site.getsitepackages())
    for prefix in python_paths():
        folders.update(glob.glob(os.path.join(
            prefix, "lib", "python3*", "*-packages")))
    for system in ("/usr/lib", "/usr/local/lib"):
        folders.update(glob.glob(os.path.join(system, "python3*",
                                              "*-packages")))
    found = []
    for folder in sorted(folders):
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(folder, entry)
            name = entry.removesuffix(".libs")
            if name in FORBIDDEN_LIBRARIES and os.path.isdir(path) and \
                    not os.path.islink(path):
                found.append(path)
    return found


def write_blocker(folder, language="en"):
    """FOLDER/__init__.py: a package whose import raises ImportError."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    message = blocked_import_message("{name}", language)
    (folder / "__init__.py").write_text(
        f"raise ImportError({message!r}.format(name=__name__))\n",
        encoding="utf-8")
    return folder


def set_limits(memory_mb, pids_max, file_size=FILE_SIZE_LIMIT):
    """Address-space and file-size caps; a process cap where it binds."""
    if memory_mb:
        limit = int(memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if file_size:
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    if pids_max and not is_root():
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
    if not is_root() or not (base / "cgroup.procs").exists():
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


def python_paths():
    """Python, the virtual environment and their real locations."""
    paths = []
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                   os.path.dirname(os.path.realpath(sys.executable))):
        for path in (os.path.realpath(prefix), prefix):
            if path not in paths:
                paths.append(path)
    return paths


def _user_files(folder):
    """passwd and group files naming only root and nobody."""
    uid, gid = unprivileged_ids() if is_root() else (os.getuid(),
                                                      os.getgid())
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        f"nobody:x:{uid}:{gid}:nobody:/tmp:/usr/sbin/nologin\n")
    (folder / "group").write_text(f"root:x:0:\nnogroup:x:{gid}:\n")
    return folder


def mount_arguments(binds):
    """bwrap options for `binds`, a list of ("--ro-bind" or "--bind",
    path), each mounted at its own path.

    bwrap makes the folders above a mount point with the source's mode;
    /root is 0700, so nobody could not reach a Python installed under it.
    They are made 0755 first (/tmp stays the 1777 tmpfs).
    """
    parents = sorted({str(parent) for _, path in binds
                      for parent in Path(path).parents
                      if str(parent) not in ("/", "/tmp")}, key=len)
    args = []
    for parent in parents:
        args += ["--perms", "0755", "--dir", parent]
    seen = set()
    for option, path in binds:
        if path not in seen and os.path.exists(path):
            seen.add(path)
            args += [option, str(path), str(path)]
    return args


def base_arguments(user_files, binds):
    """bwrap options shared by the kernel and the judge, then `binds`."""
    args = [bwrap_path(), "--die-with-parent", "--new-session",
            "--unshare-ipc", "--unshare-pid", "--unshare-net",
            "--unshare-uts", "--unshare-cgroup-try",
            "--proc", "/proc", "--dev", "/dev",
            "--perms", "1777", "--tmpfs", "/tmp"]
    if not is_root():
        args.insert(2, "--unshare-user")
    system = [("--ro-bind", path) for path in [*SYSTEM_DIRS,
                                               *python_paths()]]
    etc = [("--ro-bind", f"/etc/{name}") for name in ETC_FILES]
    args += mount_arguments(system + etc + [(option, str(path))
                                            for option, path in binds])
    for name in ("passwd", "group"):
        args += ["--ro-bind", str(Path(user_files) / name), f"/etc/{name}"]
    return args


def environment(extra):
    """The confined process's whole environment."""
    values = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp", "LANG": "C.UTF-8", "MPLCONFIGDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "CNN_COURSE_DATA": str(DATA / "mnist.npz"),
        **COURSE_IMPORTS,
    }
    for name in ("TF_CPP_MIN_LOG_LEVEL", "KERAS_BACKEND", "MPLBACKEND",
                 "TF_ENABLE_ONEDNN_OPTS"):
        if name in os.environ:
            values[name] = os.environ[name]
    values.update(extra)
    args = ["--clearenv"]
    for name, value in values.items():
        args += ["--setenv", name, str(value)]
    return args


def drop_privileges():
    """Run the confined command as nobody when the grader is root."""
    if not is_root():
        return []
    uid, gid = unprivileged_ids()
    return [shutil.which("setpriv") or "/usr/bin/setpriv",
            f"--reuid={uid}", f"--regid={gid}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--"]


def kernel_arguments(unit, runtime, workdir, inputs, answers,
                     language="en", without_libraries=False):
    """The bwrap command line that confines a kernel started in workdir.

    `without_libraries`: every folder of FORBIDDEN_LIBRARIES is covered by a
    package whose import raises ImportError, so nothing the kernel runs
    can reach them.
    """
    unit = Path(unit)
    scratch = unit / SCRATCH
    _copy_lesson_files(workdir, scratch)
    hand_over(scratch, answers, runtime)
    binds = [("--ro-bind", COURSE_ROOT / package)
             for package in KERNEL_PACKAGES]
    binds += [("--ro-bind", DATA), ("--ro-bind", inputs),
              ("--bind", answers), ("--bind", runtime)]
    args = base_arguments(_user_files(unit / "etc"), binds)
    if without_libraries:
        blocker = write_blocker(unit / "blocked-package", language)
        hand_over(blocker)
        for path in blocked_package_paths():
            args += ["--ro-bind", str(blocker), path]
    args += ["--bind", str(scratch), str(workdir), "--chdir", str(workdir)]
    args += environment({
        "NBGRADER_EXECUTION": os.environ.get("NBGRADER_EXECUTION",
                                             "autograde"),
        "JUPYTER_RUNTIME_DIR": str(runtime),
        "COURSE_GRADING_INPUTS": str(inputs),
        "COURSE_GRADING_ANSWERS": str(answers),
        # The learner's language, for the messages the kernel prints.
        LANGUAGE_VARIABLE: language,
    })
    return args + ["--", *drop_privileges()]


# The judge's own environment variables, with or without bubblewrap.
# glibc gives each thread that allocates at once a malloc arena with 64 MiB
# of address space; TensorFlow's threads would make the judge's address
# space (which is capped) grow with the machine's cores, not its use.
# Measured with the four lessons' honest answers: peak address space
# 2.6 GiB with glibc's default, 1.7 GiB with 2 arenas; same resident size.
JUDGE_ENVIRONMENT = {"MALLOC_ARENA_MAX": "2", **COURSE_IMPORTS}


def judge_command(command, readable, writable):
    """`command` confined for judging: the course and the folders in
    `readable` read-only, `writable` writable, no network, as nobody if
    root, with JUDGE_ENVIRONMENT (without bubblewrap, the caller adds it
    to the environment it passes on)."""
    if not bubblewrap_available():
        return command
    hand_over(writable)
    binds = [("--ro-bind", COURSE_ROOT / name) for name in
             (*KERNEL_PACKAGES, "trusted_grader", "solutions", "data")]
    binds += [("--ro-bind", path) for path in readable]
    binds.append(("--bind", writable))
    args = base_arguments(_user_files(Path(writable) / "etc"), binds)
    args += ["--chdir", str(writable)]
    args += environment(JUDGE_ENVIRONMENT)
    return args + ["--", *drop_privileges(), *command]


def _copy_lesson_files(workdir, scratch):
    """Files nbgrader put beside the notebook, minus the notebook itself."""
    for item in Path(workdir).iterdir():
        if item.suffix == ".ipynb" or item.name.startswith("."):
            continue
        if item.is_file():
            shutil.copy(item, scratch / item.name)


def _hand_over_connection_file(command):
    """The kernel (nobody) must read the connection file root wrote."""
    if "-f" in command:
        path = command[command.index("-f") + 1]
        if os.path.isfile(path):
            hand_over(path)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m trusted_grader.sandbox")
    parser.add_argument("--unit", required=True)
    parser.add_argument("--runtime", required=True)
    parser.add_argument("--inputs", required=True)
    parser.add_argument("--answers", required=True)
    # No default: the kernelspec passes the run's setting.
    parser.add_argument("--memory-mb", type=int, required=True,
                        help="address-space cap, MiB (0: none)")
    parser.add_argument("--language", default="en")
    parser.add_argument("--without-libraries", action="store_true")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] \
        else args.command
    join_pids_cgroup(PIDS_MAX)
    if bubblewrap_available():
        _hand_over_connection_file(command)
        command = kernel_arguments(
            args.unit, args.runtime, os.getcwd(), args.inputs,
            args.answers, args.language, args.without_libraries) + command
    else:
        if args.without_libraries:
            # Without namespaces, packages of the same names first on the
            # path: a weaker stand-in (autograder/README.md says so).
            shadow = Path(args.unit) / "blocked-path"
            for package in FORBIDDEN_LIBRARIES:
                write_blocker(shadow / package, args.language)
            os.environ["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(shadow), os.environ.get("PYTHONPATH")]))
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [
            os.environ.get("PYTHONPATH"), str(COURSE_ROOT)]))
        os.environ["COURSE_GRADING_INPUTS"] = args.inputs
        os.environ["COURSE_GRADING_ANSWERS"] = args.answers
        os.environ[LANGUAGE_VARIABLE] = args.language
    set_limits(args.memory_mb, PIDS_MAX)
    os.execv(command[0], command)


if __name__ == "__main__":
    main()
