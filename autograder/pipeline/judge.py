"""The judge: scores one graded piece with the check running here, in the trusted grading process,
and the learner's code running in a sandboxed worker (worker.py) that holds nothing secret.

The worker gets the chapter's public cells (given code, the visible tests), the learner's code of
the piece under judgement, and, for every other exercise of the chapter, a stand-in that asks the
judge to run the reference's function (so one wrong piece costs only its own points, as in the
kernel, and no solution code enters the sandbox). The piece's hidden check (the instructor's hidden
test cell) runs here: it reaches the learner's functions and classes through the wire (wire.py),
sends them inputs as data and judges the data that comes back. Nothing the learner's code does in
the worker can change the check or its verdict; a worker that lies can only answer with data, and
the random cases come from a secret seed per run, so the right answers cannot be known in advance.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import math
import os
import random
import secrets
import select
import signal
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

from . import sandbox
from .wire import Endpoint, Mirror, Remote, RemoteError, WireError, WorkerGone

HERE = Path(__file__).resolve().parent
WORKER, WIRE = HERE / "worker.py", HERE / "wire.py"
# where worker.py, wire.py and the chapter's files are inside the sandbox: no host path
INSIDE = "/grader"
RUN_SECRET = secrets.token_hex(16)  # one per grading process: the checks' random cases


@dataclass
class Cell:
    """One cell as the worker runs it: source (public, or the learner's), its name in tracebacks."""

    source: str
    name: str


@dataclass
class Verdict:
    passed: bool
    message: str
    kind: str | None = None  # a flag kind for the instructor: "timeout", "crash"


def defined_functions(source: str) -> list[str]:
    """Names of the functions a cell defines at its top level."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [
        node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    ]


def without_functions(source: str, names: set[str]) -> str:
    """source with the top-level definitions of `names` removed (decorators too), the rest as it
    was."""
    tree = ast.parse(source)
    lines = source.split("\n")
    drop = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            drop |= set(range(first, node.end_lineno + 1))
    return "\n".join(line for number, line in enumerate(lines, 1) if number not in drop)


def reference_function(name: str):
    """The judge's stand-in for an exercise the worker does not run: the reference's version.

    Chapter 1's Value methods (value_add is Value.__add__, backward) run on the worker's nodes as
    they are, building nodes of the worker's own class; every other function runs on the judge's
    own copies of the worker's Values (localized), so its arithmetic never crosses the wire."""
    import microgpt

    if name.startswith("value_") or name == "backward":
        op = name.removeprefix("value_")
        method = getattr(microgpt.Value, f"__{op}__" if op in ("add", "mul", "pow") else op)

        def on_worker_nodes(self, *args):
            computable(op, self, args)
            cls = self._class if isinstance(self, Mirror) else microgpt.Value
            return types.FunctionType(
                method.__code__, {"Value": cls, "math": math}, method.__name__
            )(self, *args)

        return on_worker_nodes
    return localized(getattr(microgpt, name))


NUMBERS = (int, float, bool)  # the types of what crosses the wire as a number


def computable(op: str, node, args) -> None:
    """Raise unless chapter 1's reference op can run here on node and args quickly.

    The stand-ins run in the judge, on data the worker chose, and the piece's clock is not checked
    while the judge computes (nor is its memory capped). Without this, in value_log's worker
    `Value(3) ** 10**9` (the stand-in for value_pow) would keep the judge busy for hours (10**7 took
    8 s), and in value_pow's worker `Value("ab") * 10**9` (the stand-in for value_mul) would make it
    build a 2 GB string. So: the node
    and every node argument must hold a number, every other argument must be a number, and a power
    of ints must fit the digits the wire carries back (sys.get_int_max_str_digits, 4,300 by
    default)."""
    import microgpt

    def number(x):
        return type(x) in NUMBERS

    nodes = (Mirror, microgpt.Value)
    if not (isinstance(node, nodes) and number(node.data)):
        raise TypeError("the judge's stand-in works on Values that hold a number")
    for arg in args:
        if not (number(arg.data) if isinstance(arg, nodes) else number(arg)):
            raise TypeError(
                "the judge's stand-in works on Values that hold a number, and plain numbers"
            )
    if (
        op == "pow"
        and args
        and type(node.data) is int
        and type(args[0]) is int
        and args[0] > 0
        and abs(node.data) > 1
    ):
        digits = sys.get_int_max_str_digits() or 4300
        if args[0] * math.log10(abs(node.data)) > digits:
            raise OverflowError(f"the result of this power has more than {digits} digits")


def localized(function):
    """function run on the judge's Values: each of the worker's nodes among the arguments (in lists,
    dicts and tuples) is replaced by a reference Value leaf holding its data and grad while function
    runs; afterwards the nodes take the leaves' data and grad back, the containers their nodes, and
    the new nodes function built point at the worker's nodes instead of the leaves."""
    import microgpt

    def run(*args, **kwargs):
        leaves, mirrors = {}, {}  # id(Mirror) -> leaf, id(leaf) -> Mirror

        def to_leaves(x, seen):
            if isinstance(x, Mirror):
                if id(x) not in leaves:
                    leaf = leaves[id(x)] = microgpt.Value(x.data)
                    leaf.grad, mirrors[id(leaf)] = x.grad, x
                return leaves[id(x)]
            return swap_items(x, seen, to_leaves)

        # as in computable: the reference's arithmetic runs here, on numbers only (a str times an
        # int from the worker would be computed, at any size, in the judge); checked before any swap
        if not all(numbers_in(x, set()) for x in [*args, *kwargs.values()]):
            raise TypeError("the judge's stand-in works on Values whose data and grad are numbers")
        args = [to_leaves(a, set()) for a in args]
        kwargs = {key: to_leaves(value, set()) for key, value in kwargs.items()}
        try:
            result = function(*args, **kwargs)
        finally:
            for leaf in leaves.values():
                mirrors[id(leaf)].data, mirrors[id(leaf)].grad = leaf.data, leaf.grad

            def to_mirrors(x, seen):
                if id(x) in mirrors:
                    return mirrors[id(x)]
                if isinstance(x, microgpt.Value) and id(x) not in seen:
                    seen.add(id(x))
                    x._children = tuple(to_mirrors(child, seen) for child in x._children)
                    return x
                return swap_items(x, seen, to_mirrors)

            seen = set()
            for value in [*args, *kwargs.values()]:
                to_mirrors(value, seen)
        return to_mirrors(result, seen)

    run.__name__ = function.__name__
    return run


def numbers_in(x, seen) -> bool:
    """Whether every worker node in x (in lists, dicts and tuples) holds a number as data and
    grad."""
    if isinstance(x, Mirror):
        return type(x.data) in NUMBERS and type(x.grad) in NUMBERS
    if type(x) in (list, dict, tuple) and id(x) not in seen:
        seen.add(id(x))
        return all(numbers_in(item, seen) for item in (x.values() if type(x) is dict else x))
    return True


def swap_items(x, seen, swap):
    """x with swap(item, seen) in place of each item: lists and dicts changed in place (they are the
    worker's, by identity), tuples rebuilt; anything else as it is."""
    if type(x) is tuple:
        return tuple(swap(item, seen) for item in x)
    if type(x) in (list, dict) and id(x) not in seen:
        seen.add(id(x))
        if type(x) is list:
            x[:] = [swap(item, seen) for item in x]
        else:
            for key in list(x):
                x[key] = swap(x[key], seen)
    return x


class Session:
    """One worker and the judge's side of its wire, for one piece."""

    def __init__(self, process, deadline):
        self.endpoint = Endpoint(
            "judge",
            process.stdout.fileno(),
            process.stdin.fileno(),
            lambda wire: Mirror(self.endpoint, wire),
            lambda wire, c: Remote(self.endpoint, wire, c),
            self.serve,
            deadline,
        )

    def serve(self, op, args, kwargs):
        """The worker may only call what the judge handed it, and read public attributes of the
        random generators it was given (rng.random): nothing else of this process is reachable."""
        target = args[0] if args else None
        handed = self.endpoint.handed
        if (
            op == "call"
            and not isinstance(target, type)
            and self.endpoint.ids.get(id(target)) in handed
        ):
            return target(*args[1:], **kwargs)
        if (
            op == "getattr"
            and len(args) == 2
            and isinstance(args[1], str)
            and not args[1].startswith("_")
            and isinstance(target, random.Random)
        ):
            # a generator's method (rng.random): handed over as it crosses
            return getattr(target, args[1])
        raise PermissionError(
            f"the judge does not answer {op!r} here"
            + (f" ({args[1]!r})" if op == "getattr" else "")
        )

    def run(self, cell: Cell):
        """Run one cell in the worker; None, or the RemoteError it raised."""
        try:
            self.endpoint.request("run", [cell.source, cell.name])
        except RemoteError as error:
            return error
        return None


def describe(error) -> str:
    """The learner-facing text of an error raised in the worker."""
    text = str(error).strip()
    if isinstance(error, NotImplementedError) and not text:
        return "not written yet: the function still raises NotImplementedError"
    return text or f"{type(error).__name__} (with no message)"


def judge_piece(
    cells: list[Cell],
    references: dict,
    grade_cell: str,
    hidden: str,
    *,
    chapter_files: Path,
    limits: sandbox.Limits,
    confinement: sandbox.Confinement = sandbox.BUBBLEWRAP,
    base_seconds: float = 60.0,
    solution_name: str = "",
) -> Verdict:
    """Run `cells` in a new worker (the piece's solution cell named solution_name among them), with
    each name of `references` bound first to the judge's function; then the grade cell's visible
    part in the worker and its hidden part here. The verdict: passed, or the first failure's
    message."""
    started = time.monotonic()
    mounts = {
        WORKER: f"{INSIDE}/worker.py",
        WIRE: f"{INSIDE}/wire.py",
        chapter_files: f"{INSIDE}/chapter",
    }
    with sandbox.spawn(
        [sandbox.PYTHON, f"{INSIDE}/worker.py", f"{INSIDE}/chapter"],
        mounts=mounts,
        limits=limits,
        env={"MPLBACKEND": "Agg"},
        confinement=confinement,
    ) as process:
        session = Session(process.process, started + base_seconds)
        try:
            for name, function in references.items():
                session.endpoint.request("bind", [name, function])
            solution_error = None
            for cell in cells:
                # the piece's own time starts with the learner's cell
                if cell.name == solution_name:
                    session.endpoint.deadline = time.monotonic() + limits.piece_seconds
                error = session.run(cell)
                if cell.name == solution_name:
                    solution_error = error
            failed = session.run(Cell(grade_cell, "<tests>"))
            if failed is None:
                failed = run_hidden(session, hidden)
        except WorkerGone as gone:
            if str(gone) == "time is up":
                return Verdict(
                    False,
                    f"the check did not finish within {limits.piece_seconds:g} s (an endless "
                    f"loop?)",
                    "timeout",
                )
            return Verdict(
                False, "the process running your code ended before the check did", "crash"
            )
        except WireError as error:
            return Verdict(
                False,
                f"the process running your code answered with malformed data ({error})",
                "crash",
            )
    if failed is None:
        return Verdict(True, "")
    # the root cause: the tests failed because the learner's cell did
    if solution_error is not None:
        return Verdict(
            False,
            f"your solution cell raised {type(solution_error).__name__}: "
            f"{describe(solution_error)}",
        )
    return Verdict(False, visible_test_failure(failed, grade_cell))


def visible_test_failure(error, grade_cell: str) -> str:
    """describe(error), and for an error the learner's code raised in a visible test (not the test's
    own failure, an AssertionError) the test's line, which names the call, and where it was
    raised."""
    from autograder.checks.core import where_raised_in_worker

    frames = getattr(error, "frames", [])
    # a test's own failure says what it tested; a stub's error needs no more than "not written yet"
    if (
        isinstance(error, (AssertionError, NotImplementedError))
        or not frames
        or frames[0][0] != "<tests>"
    ):
        return describe(error)
    test = statement_at(grade_cell, frames[0][1])
    where = where_raised_in_worker(frames, error)
    return " ".join(
        filter(
            None,
            [
                f"{type(error).__name__}: {describe(error)}"
                + (f" (in the visible test `{test}`)." if test else "."),
                where,
            ],
        )
    )


def statement_at(grade_cell: str, line: int) -> str:
    """The statement of grade_cell running at line, on one line: the innermost simple statement
    there (the call inside a loop or a with block, not the whole loop), or else that line (a loop's
    own header)."""
    try:
        tree = ast.parse(grade_cell)
    except SyntaxError:
        return ""
    simple = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.stmt)
        and not hasattr(node, "body")
        and node.lineno <= line <= node.end_lineno
    ]
    if simple:
        innermost = min(simple, key=lambda node: node.end_lineno - node.lineno)
        test = " ".join(ast.get_source_segment(grade_cell, innermost).split())
    else:
        lines = grade_cell.splitlines()
        test = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return test if len(test) <= 200 else test[:197] + "..."


def judge_bounded(*args, limits: sandbox.Limits, base_seconds: float = 60.0, **kwargs) -> Verdict:
    """judge_piece in a process of its own (forked from this one), its memory capped at
    limits.memory_bytes more than it starts with and killed past the piece's time: the judge's own
    work (the check, the reference stand-ins, the generators it lends) is driven by what learner
    code sends, so it is bounded like the learner's. Where there is no fork (Windows), judge_piece
    runs here, unbounded."""
    if not hasattr(os, "fork"):
        return judge_piece(*args, limits=limits, base_seconds=base_seconds, **kwargs)
    seconds = base_seconds + limits.piece_seconds + JUDGE_MARGIN_SECONDS
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the judge's process for this piece: answers with one JSON verdict, then exits
        code = 1
        try:
            os.close(read_fd)
            import resource

            # unwinds: the worker's sandbox is killed
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
            cap = own_memory_bytes() + limits.memory_bytes
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
            try:
                answer = dataclasses.asdict(
                    judge_piece(*args, limits=limits, base_seconds=base_seconds, **kwargs)
                )
            except MemoryError:
                # the learner's data made the check work on too much: no verdict, the parent says so
                raise
            # judge_piece never raises for the learner's input: this is the judge's
            except Exception as error:
                answer = {"judge_failed": f"{type(error).__name__}: {error}"[:2000]}
            with os.fdopen(write_fd, "wb") as out:
                out.write(json.dumps(answer).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    deadline, data = time.monotonic() + seconds, b""
    with os.fdopen(read_fd, "rb", buffering=0) as answer:
        while (left := deadline - time.monotonic()) > 0 and select.select([answer], [], [], left)[
            0
        ]:
            chunk = answer.read(65536)
            if not chunk:
                break
            data += chunk
    if not data:
        os.kill(pid, signal.SIGTERM)
    if not wait_for(pid, 5.0):
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    if not data:
        return Verdict(
            False,
            f"judging this piece ran past {seconds:g} s or out of memory: your code made the "
            f"check work on too much",
            "timeout",
        )
    try:
        answer = json.loads(data)
    except ValueError:
        answer = None
    if isinstance(answer, dict) and "judge_failed" in answer:
        raise JudgeFailed(str(answer["judge_failed"]))
    try:
        return Verdict(**answer)
    except TypeError:
        return Verdict(False, "the judge's process ended before its verdict", "crash")


class JudgeFailed(RuntimeError):
    """The judge itself failed on a piece (not the learner's code): the grader's failure, never a
    score."""


JUDGE_MARGIN_SECONDS = 30.0  # beyond the worker's own clocks: the check's work on what came back


def own_memory_bytes() -> int:
    """This process's virtual memory size (what RLIMIT_AS counts), 0 if unknown."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def wait_for(pid: int, seconds: float) -> bool:
    """Reap pid if it exits within seconds; True if it did."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.waitpid(pid, os.WNOHANG)[0]:
            return True
        time.sleep(0.02)
    return False


def run_hidden(session: Session, hidden: str):
    """Run the hidden test here, its names looked up in the worker; None, or the exception it
    raised."""
    from autograder.checks import core

    class WorkerNames(dict):
        def __missing__(self, name):
            try:
                value = session.endpoint.request("lookup", [name])
            except RemoteError:
                raise KeyError(name) from None  # then builtins, as for any module-level name
            self[name] = value
            return value

    core.CASE_SECRET = RUN_SECRET
    try:
        exec(compile(hidden, "<hidden test>", "exec"), {"__name__": "__hidden__"}, WorkerNames())
    except (WorkerGone, WireError):
        raise
    except Exception as error:
        return error
    finally:
        core.CASE_SECRET = ""
    return None
