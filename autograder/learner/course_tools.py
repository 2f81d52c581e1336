"""Learner helpers: the visible tests' comparisons, and error messages a learner can act on.

This file uses the standard library only: it is copied next to every chapter notebook as
course_tools.py, and the visible tests do `from course_tools import ...`. Each helper prints what it
compared, raises AssertionError when something is off, and prints an "ok" line when all is well.
Results may be numbers, nested lists of numbers, or Values (anything with .data, compared by .data).

Imported in IPython (Jupyter, VS Code), it also rewrites errors for the learner: a stub that still
raises NotImplementedError names the exercise to finish, a NameError at the top of a cell says which
earlier cell to run, and every other error shows its own line first (where Validate and the notebook
show it at the top), then, when it was raised in given code or a visible test's stand-in that the
learner's function called, a sentence naming that function, its call and the likely cause, then the
traceback without the frames of these helpers and of the course's grading code. The error keeps its
type, so Jupyter, nbval and nbgrader still see an error.
"""

import contextlib
import linecache
import math
import os
import re
import sys
import textwrap
import types
from html import escape as _html_escape

SHOWN = 8  # list items printed
# nbgrader's Validate prints each line of an error cut to 83 characters, "AssertionError: " (16)
# included: a failure's first line holds what failed and what was expected within the rest, the call
# goes after it
FIRST_LINE = 66
LINE = 80


def _plain(x):
    """x with every Value replaced by its .data, and tuples by lists."""
    if hasattr(x, "data"):
        return x.data
    if isinstance(x, (list, tuple)):
        return [_plain(item) for item in x]
    return x


def _show(x):
    """Short text for x: floats to 6 significant digits, lists and dicts trimmed to a few items."""
    if isinstance(x, float):
        return repr(x) if len(repr(x)) <= 9 else f"{x:.6g}"
    if isinstance(x, dict):
        items = [f"{key!r}: {_show(value)}" for key, value in list(x.items())[:SHOWN]]
    elif isinstance(x, list):
        items = [_show(item) for item in x[:SHOWN]]
    else:
        return repr(x)
    if len(x) > SHOWN:
        items.append(f"... ({len(x)} items)")
    return ("{%s}" if isinstance(x, dict) else "[%s]") % ", ".join(items)


def _mismatch(got, expected, same, where="the result"):
    """How got differs from expected (a sentence), or None; lists are compared item by item."""
    if got is None and expected is not None:
        return f"{where} is None (did you forget return?)"
    if isinstance(expected, list):
        if not isinstance(got, list):
            return f"{where} is {_show(got)}; expected a list of {len(expected)} items"
        if len(got) != len(expected):
            return f"{where} has {len(got)} items; expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _mismatch(
                g, e, same, f"{where}[{i}]" if where != "the result" else f"item [{i}]"
            )
            if problem:
                return problem
        return None
    if same(got, expected):
        return None
    shown = _show(got), _show(expected)
    if shown[0] == shown[1]:  # 6 digits do not tell them apart: all of them do
        shown = repr(got), repr(expected)
    return f"{where} is {shown[0]}; expected {shown[1]}"


def _wrapped(first, rest=""):
    """first wrapped for Validate (its first line within FIRST_LINE, the others within LINE), then
    rest."""
    lines = textwrap.wrap(first, FIRST_LINE, break_on_hyphens=False) or [""]
    lines = lines[:1] + textwrap.wrap(" ".join(lines[1:]), LINE, break_on_hyphens=False)
    return "\n".join(lines + textwrap.wrap(rest, LINE, break_on_hyphens=False))


def failure(label, problem, detail=""):
    """The text of a failed test: `label: problem` when it fits Validate's first line; else the
    problem first (headed by the call's name when label is a call), then `checking LABEL`, lines
    wrapped for Validate. detail (say, the likely cause) follows on the next lines."""
    first = f"{label}: {problem}"
    if len(first) > FIRST_LINE:
        call = re.match(r"[A-Za-z_][\w.]*\(", label)
        short = f"{call.group(0)}...): {problem}" if call else problem
        first = short if len(short) <= FIRST_LINE else problem
        rest = f"checking {label}"
    else:
        rest = ""
    return _wrapped(first, " ".join(filter(None, [rest, detail])))


def _compare(label, got, expected, same):
    got, expected = _plain(got), _plain(expected)
    problem = _mismatch(got, expected, same)
    line = f"{label}: got {_show(got)}, expected {_show(expected)}"
    if problem:
        print(f"FAIL {line}")
        raise AssertionError(failure(label, problem))
    print(f"ok   {line}")


def expect_equal(label, got, expected):
    """got must equal expected exactly (item by item for lists)."""
    _compare(label, got, expected, lambda a, b: a == b)


def expect_close(label, got, expected, rel_tol=1e-6, abs_tol=1e-9):
    """got must match expected within math.isclose(rel_tol, abs_tol) for numbers (item by item for
    lists); anything else must be equal."""

    def same(a, b):
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            return isinstance(a, (int, float)) and math.isclose(
                a, b, rel_tol=rel_tol, abs_tol=abs_tol
            )
        return a == b

    _compare(label, got, expected, same)


def expect_none(label, got):
    """got must be None: a function that updates its inputs in place returns nothing."""
    if got is not None:
        print(f"FAIL {label}: returned {_show(_plain(got))}")
        raise AssertionError(
            failure(label, f"returned {_show(_plain(got))}; expected None (it works in place)")
        )
    print(f"ok   {label}: returned None")


def _snapshot(x, grads=True):
    """What of x a change in place would alter: the items themselves (by identity), each Value's
    data and, with grads, its grad."""
    if isinstance(x, (list, dict)):
        items = list(x.items()) if isinstance(x, dict) else list(enumerate(x))
        return type(x), [(key, id(item), _snapshot(item, grads)) for key, item in items]
    if hasattr(x, "data"):
        return "Value", x.data, getattr(x, "grad", None) if grads else None
    return x


def _first_change(before, after, path):
    """(path, what) for the first difference between two snapshots, or None: what is 'list' or
    'dict' (items replaced, added or removed), 'data' or 'grad' (of the Value at path), or
    'value'."""
    if before == after:
        return None
    if isinstance(before, tuple) and before[0] in (list, dict):
        kind, items = before
        if [(key, i) for key, i, _ in items] != [(key, i) for key, i, _ in after[1]]:
            return path, kind.__name__
        for (key, _, b), (_, _, a) in zip(items, after[1]):
            change = _first_change(b, a, f"{path}[{key!r}]" if kind is dict else f"{path}[{key}]")
            if change:
                return change
        return None
    if isinstance(before, tuple) and before[0] == "Value" and isinstance(after, tuple):
        return path, "data" if before[1] != after[1] else "grad"
    return path, "value"


# what to do instead, for each kind of change _first_change finds
INSTEAD = {
    "list": "build a new list instead",
    "dict": "build a new dict instead",
    "data": "compute new Values instead (v - m, not v.data -= m)",
    "grad": "leave .grad alone: run no backward here (only a training step does)",
    "value": "build a new one instead",
}


def _changed_in_place(name, change):
    """The failure for a function that changed its input `name` in place (printed, and returned to
    raise); change is _first_change's (path, what)."""
    path, what = change
    where = (
        "" if path == name else f"{path}{'.' + what if what in ('data', 'grad') else ''} changed; "
    )
    print(f"FAIL you changed {name} in place")
    return AssertionError(_wrapped(f"you changed {name} in place: {where}{INSTEAD[what]}"))


@contextlib.contextmanager
def unchanged(name, x):
    """Within the block, x (a list or dict, nested, of numbers or Values) must not be changed in
    place (its items replaced, added or removed, a Value's data or grad changed): on leaving the
    block a change fails first, saying where, before any other failure raised in it."""
    before = _snapshot(x)
    try:
        yield
    except NotImplementedError:  # an unwritten exercise: its own message
        raise
    except Exception as error:
        change = _first_change(before, _snapshot(x), name)
        if change:
            raise _changed_in_place(name, change) from error
        raise
    change = _first_change(before, _snapshot(x), name)
    if change:
        raise _changed_in_place(name, change)
    print(f"ok   {name} left unchanged")


def expect_same_objects(label, got, expected):
    """got must be a list holding the very objects of the list expected, in order (identity, not
    equal values): what must be updated in place is never replaced by a new object."""
    detail = ""
    if got is not expected and (not isinstance(got, list) or len(got) != len(expected)):
        problem = f"is {_show(_plain(got))}; expected the same {len(expected)} objects"
    else:
        new = [i for i, (a, b) in enumerate(zip(got, expected)) if a is not b]
        problem = new and f"item [{new[0]}] is new; expected the same object"
        detail = new and (
            f"({len(new)} of {len(expected)} are new: change the data of the object that is there, "
            f"instead of putting a new one in its place)"
        )
    if problem:
        print(f"FAIL {label}: {problem}")
        raise AssertionError(failure(label, problem, detail))
    print(f"ok   {label}: the same {len(expected)} objects")


def relative_error(a, b, floor=1e-9):
    """|a - b| / max(|a|, |b|), and 0 when |a - b| <= floor: two gradients that are both (nearly)
    zero match, instead of showing a relative error of 1."""
    difference = abs(a - b)
    return 0.0 if difference <= floor else difference / max(abs(a), abs(b))


def _error_text(error):
    # below 1e-7 the digits come from the platform's last bits of exp and log: print a bound instead
    return "< 1e-07" if error < 1e-7 else f"{error:.1e}"


def gradient_check(f, inputs, value_cls, h=1e-6, tol=1e-6):
    """Compare the gradients backward() gives with central differences.

    f maps a list of value_cls nodes to one node; inputs are the numbers (or Values) to check at.
    Prints a table of input, analytic and numeric gradient and relative error
    |a - n| / max(|a|, |n|) (0 when both are zero to within 1e-9; with h = 1e-6 a correct gradient
    gives an error below 1e-7); raises AssertionError if any relative error exceeds tol.
    Returns None, so that a tests cell ending with it shows no value (nbgrader would read a
    number there as partial credit)."""
    xs = [float(_plain(x)) for x in inputs]

    def evaluate(nodes):
        out = f(nodes)
        if not hasattr(out, "data"):
            raise AssertionError(
                f"gradient_check: {getattr(f, '__name__', 'f')} returned {_show(_plain(out))}; "
                f"it must return one Value: what your code returned holds no Value (numbers, "
                f"or .data taken?)"
            )
        return out

    nodes = [value_cls(x) for x in xs]
    before = _snapshot(nodes, grads=False)
    evaluate(nodes).backward()
    change = _first_change(before, _snapshot(nodes, grads=False), "the list of inputs")
    if change:  # the gradients would be of another computation: name the cause instead
        raise _changed_in_place("the list of inputs", change)
    analytic = [node.grad for node in nodes]
    numeric = []
    for i in range(len(xs)):
        up = evaluate([value_cls(x + h if j == i else x) for j, x in enumerate(xs)])
        down = evaluate([value_cls(x - h if j == i else x) for j, x in enumerate(xs)])
        numeric.append((up.data - down.data) / (2 * h))
    errors = [relative_error(a, n) for a, n in zip(analytic, numeric)]
    worst = max(range(len(xs)), key=errors.__getitem__)
    rows = sorted(set(range(min(len(xs), 12))) | {worst})
    print(f"{'input':>16} {'analytic':>12} {'numeric':>12} {'rel. error':>11}")
    for i in rows:
        print(
            f"{f'x[{i}] = {xs[i]:.4g}':>16} {analytic[i]:>12.6g} "
            f"{numeric[i]:>12.6g} {_error_text(errors[i]):>11}"
        )
    if len(xs) > len(rows):
        print(f"({len(xs)} inputs; the first 12 and the worst shown)")
    if errors[worst] > tol:
        raise AssertionError(
            f"backward gives x[{worst}].grad = "
            f"{analytic[worst]:.8g}; expected {numeric[worst]:.8g}\n"
            f"(central differences; relative error {errors[worst]:.2e} > {tol})"
        )
    print(
        "ok   gradients match central differences (largest "
        f"relative error {_error_text(errors[worst])})"
    )


def check_probabilities(probs, tol=1e-9):
    """probs (numbers or Values) must each lie in [0, 1] and sum to 1 within tol."""
    ps = _plain(probs)
    if not isinstance(ps, list) or not ps:
        raise AssertionError(
            f"check_probabilities: expected a non-empty list of probabilities, got {_show(ps)}"
        )
    for i, p in enumerate(ps):
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise AssertionError(
                f"check_probabilities: item [{i}] is {_show(p)}, not a probability in [0, 1]"
            )
    total = sum(ps)
    if abs(total - 1) > tol:
        raise AssertionError(
            f"check_probabilities: the {len(ps)} probabilities sum to {total!r}, not 1"
        )
    print(f"ok   {len(ps)} probabilities in [0, 1], summing to {total:.6g}")


def check_rms_near_one(values, tol=1e-3):
    """The root mean square of values (numbers or Values) must be within tol of 1."""
    xs = _plain(values)
    rms = math.sqrt(sum(x * x for x in xs) / len(xs))
    if abs(rms - 1) > tol:
        raise AssertionError(
            f"check_rms_near_one: the root mean square is {rms:.6g}, not within {tol} of 1"
        )
    print(f"ok   root mean square {rms:.6g}, within {tol} of 1")


def _shape_problem(obj, shape, where):
    if obj is None:
        return f"{where} is None (did you forget return?)"
    if not shape:
        return (
            f"{where} is a list; expected a single value"
            if isinstance(obj, (list, tuple))
            else None
        )
    if not isinstance(obj, (list, tuple)):
        return f"{where} is {_show(_plain(obj))}; expected a list of {shape[0]} items"
    if len(obj) != shape[0]:
        return f"{where} has {len(obj)} items; expected {shape[0]}"
    for i, item in enumerate(obj):
        problem = _shape_problem(item, shape[1:], f"{where}[{i}]")
        if problem:
            return problem
    return None


def check_shape(label, obj, shape):
    """obj must be nested lists of the given shape, e.g. (27, 16): 27 rows of 16 values."""
    problem = _shape_problem(obj, tuple(shape), label)
    if problem:
        print(f"FAIL {problem}")
        raise AssertionError(problem)
    print(f"ok   {label} has shape {tuple(shape)}")


def expect_value(label, got, data, children=None, local_grads=None):
    """got must be one Value (anything with data, _children and _local_grads) with the given data,
    plain numbers as its local gradients, and, when given, exactly these children (the same objects,
    in order) and these local gradients; numbers match as in expect_close (relative 1e-6, absolute
    1e-9)."""

    def same(a, b):
        return isinstance(a, (int, float)) and math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)

    detail = ""
    if got is None:
        problem = "the result is None (did you forget return?)"
    elif not all(hasattr(got, name) for name in ("data", "_children", "_local_grads")):
        problem = (
            f"the result is {_show(_plain(got))}; expected a "
            "Value (with data, _children and _local_grads)"
        )
    else:
        problem = _mismatch(got.data, data, same, "its data")
        if (
            not problem
            and children is not None
            and (
                len(got._children) != len(children)
                or any(a is not b for a, b in zip(got._children, children))
            )
        ):
            problem = (
                f"its children are {_show(_plain(list(got._children)))}; expected the nodes "
                f"{_show(_plain(list(children)))} themselves, in that order"
            )
        odd = [i for i, g in enumerate(got._local_grads) if not isinstance(g, (int, float))]
        # a Value as a local gradient would match by its data: say what it is
        if not problem and odd:
            odd = got._local_grads[odd[0]], odd[0]
            problem = (
                f"local gradient [{odd[1]}] is "
                f"{'a Value' if hasattr(odd[0], 'data') else _kind(odd[0])}; expected a number"
            )
            detail = (
                f"(that Value's data is {_show(_plain(odd[0]))}: "
                if hasattr(odd[0], "data")
                else "("
            ) + "store plain numbers, the derivative's value here: other.data, not other)"
        if not problem and local_grads is not None:
            problem = _mismatch(
                _plain(list(got._local_grads)), list(local_grads), same, "its local gradients"
            )
            problem = problem and problem.replace(
                "its local gradients[", "the local gradient for child ["
            )
    if problem:
        print(f"FAIL {label}: {problem}")
        raise AssertionError(failure(label, problem, detail))
    print(
        f"ok   {label}: a Value with data {_show(got.data)}"
        + (
            f" and local gradients {_show(_plain(list(got._local_grads)))}"
            if local_grads is not None
            else ""
        )
    )


def _kind(x):
    """What x (not a Value) is, for a message: "the str 'a'", 'None'."""
    return "None" if x is None else f"the {type(x).__name__} {_show(x)}"


def _raised_at(tb):
    """' (in NAME, line N)' naming the function the block called and, when the error came from
    deeper, the function that raised it; frames of these helpers and of Python's own library are
    left out."""
    stdlib = os.path.dirname(textwrap.__file__)  # Python's own library
    while tb is not None and _hidden(tb.tb_frame):  # explain_errors' own frame
        tb = tb.tb_next
    frames = []
    tb = tb and tb.tb_next  # the frame of the block itself (a tests cell)
    while tb is not None:
        code = tb.tb_frame.f_code
        if not (
            _hidden(tb.tb_frame)
            or code.co_filename.startswith((stdlib, "<frozen"))
            or code.co_name[0] == "<"
        ):
            frames.append(f"{code.co_name}, line {tb.tb_lineno}")
        tb = tb.tb_next
    if not frames:
        return ""
    return f" (in {frames[0]}" + (f", inside {frames[-1]})" if len(frames) > 1 else ")")


@contextlib.contextmanager
def explain_errors(call, **hints):
    """Within the block, an exception whose type (or a base of it) is named in hints fails as `call`
    (the call as the learner would write it) raising it, followed by the hint, the likely cause and
    its fix:
        with explain_errors("softmax([1000.0, 0.0])", OverflowError="subtract the largest logit
        first"):
            probs = softmax(logits)
    A hint may also be a function of the exception, returning the text or None (the error then goes
    on as it is)."""
    try:
        yield
    except NotImplementedError:  # an unwritten exercise: its own message
        raise
    except Exception as error:
        named = next(
            (kind.__name__ for kind in type(error).__mro__ if kind.__name__ in hints), None
        )
        hint = hints.get(named)
        hint = hint(error) if callable(hint) else hint
        if not hint:
            raise
        head, rest = f"{call} raised {type(error).__name__}", ""
        name = re.match(r"[A-Za-z_][\w.]*\(", call)
        # the start of the hint must reach Validate's first line: the call goes after
        if len(head) > 44 and name:
            head, rest = f"{name.group(0)}...) raised {type(error).__name__}", f"checking {call} "
        print(f"FAIL {call} raised {type(error).__name__}: {error}")
        raise AssertionError(
            _wrapped(
                f"{head}: {hint}",
                f"{rest}({type(error).__name__}: {error}{_raised_at(error.__traceback__)})",
            )
        ) from None


@contextlib.contextmanager
def standing_in(namespace, **stand_ins):
    """Within the block, each name of namespace (a notebook's globals()) is its stand-in, and the
    original is put back afterwards, whatever happens: a tests cell checks one exercise with
    stand-ins for the others, so that a slip in one exercise costs only its own points."""
    missing = object()
    saved = {name: namespace.get(name, missing) for name in stand_ins}
    namespace.update(stand_ins)
    try:
        yield
    finally:
        for name, original in saved.items():
            if original is missing:
                namespace.pop(name, None)
            else:
                namespace[name] = original


# --------------------------------------------------------------------------- errors a learner can
# act on

# modules whose frames a learner never needs to read: these helpers and the course's grading code
HIDDEN_MODULES = ("course_tools", "autograder", "microgpt")


def _hidden(frame):
    name = frame.f_globals.get("__name__", "")
    return any(name == m or name.startswith(m + ".") for m in HIDDEN_MODULES)


def _without_hidden_frames(tb):
    """The traceback tb minus the frames of HIDDEN_MODULES (a new chain; tb is unchanged)."""
    frames = []
    while tb is not None:
        if not _hidden(tb.tb_frame):
            frames.append(tb)
        tb = tb.tb_next
    chain = None
    for item in reversed(frames):
        chain = types.TracebackType(chain, item.tb_frame, item.tb_lasti, item.tb_lineno)
    return chain


def _innermost(tb):
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb


def not_written(name, then="run that cell, then run this one again"):
    """The sentence for an exercise whose stub still raises NotImplementedError."""
    return (
        f"{name} is not written yet: replace `raise "
        f"NotImplementedError()` in its cell with your code, {then}."
    )


class NotWritten(NotImplementedError):
    """A cell checked what an exercise made before the exercise was written (expect_written)."""


def expect_written(*functions):
    """Each function must be written, not still the stub: a cell that checks what they made in
    earlier cells would otherwise compare nothing and pass."""
    for fn in functions:
        if getattr(getattr(fn, "__code__", None), "co_names", None) == ("NotImplementedError",):
            raise NotWritten(
                not_written(fn.__name__, "run that cell and the cells after it, then this one")
            )


# the first line of every given cell's code (the builder writes it): code the learner runs and
# leaves as it is
GIVEN_HEADER = "# Given code"
GIVEN = "given code: leave it as it is"
TESTS_CODE = "the visible tests' own code, standing in or watching: leave it as it is"


def _cell_file(filename):
    """True when filename names a notebook cell's code (IPython keeps a cell's lines in linecache
    for good)."""
    entry = linecache.cache.get(filename)
    return entry is not None and len(entry) == 4 and entry[1] is None


def _cell_frames(tb):
    """[(function name, line, kind, file)] of tb's frames in notebook cells, outermost first; kind
    is 'test' for the running cell (the first one: its own helpers and spies), 'given' for a given
    cell, else 'yours'."""
    frames, running = [], None
    while tb is not None:
        code = tb.tb_frame.f_code
        if not _hidden(tb.tb_frame) and _cell_file(code.co_filename):
            running = running or code.co_filename
            first = (linecache.getline(code.co_filename, 1) or "").startswith(GIVEN_HEADER)
            kind = "test" if code.co_filename == running else "given" if first else "yours"
            frames.append((code.co_name, tb.tb_lineno, kind, code.co_filename))
        tb = tb.tb_next
    return frames


def called_code_note(error, tb):
    """For an error raised in code the learner's function called (given code, or the visible tests'
    own stand-ins and spies): a sentence naming that code, the learner's function, line and call,
    and the likely cause (likely_cause); else None (raised in the learner's own code, or a test's
    own failure)."""
    frames = _cell_frames(tb)
    yours = [index for index, frame in enumerate(frames) if frame[2] == "yours"]
    kind = frames[-1][2] if frames else None
    if not yours or kind == "yours" or (kind == "test" and isinstance(error, AssertionError)):
        return None
    mine = frames[yours[-1]]  # the innermost frame of the learner's code: the call out of it
    name = next((frames[i][0] for i in reversed(yours) if not frames[i][0].startswith("<")), "code")
    course = frames[yours[-1] + 1 :]
    raiser = next((f[0] for f in reversed(course) if not f[0].startswith("<")), course[-1][0])
    called = next((f[0] for f in course if f[2] == kind and not f[0].startswith("<")), raiser)
    where = f"{raiser}, inside {called}" if called != raiser else raiser
    text = linecache.getline(mine[3], mine[1]).strip()
    at = f", at `{text}`" if text and len(text) <= 76 else ""
    return " ".join(
        filter(
            None,
            [
                f"It was raised in {where} ({GIVEN if kind == 'given' else TESTS_CODE}), called "
                f"from your {name} (line {mine[1]}){at}: check what your code passes to it.",
                likely_cause(error, raiser),
            ],
        )
    )


def likely_cause(error, raiser):
    """A sentence naming the likely cause of error, raised in raiser (code the learner's function
    called, not theirs) by what the learner passed to it, for the errors whose text tells it; else
    ''."""
    if error is None:
        return ""
    text = str(error)
    found = re.search(r"'(\w+)' object has no attribute '(\w+)'", text)
    if isinstance(error, AttributeError) and found:
        wanted = (
            "a Value"
            if found[2] in ("data", "grad", "exp", "log", "relu")
            else f"an object with .{found[2]}"
        )
        return f"Likely cause: {raiser} got {article(found[1])} where it needs {wanted}."
    found = re.search(r"(?:list|tuple) indices must be integers or slices, not (\w+)", text)
    if isinstance(error, TypeError) and found:
        return (
            f"Likely cause: {raiser} got {article(found[1])} where "
            "it needs an int (an index, such as one token id)."
        )
    found = re.search(r"object of type '(\w+)' has no len\(\)", text)
    if isinstance(error, TypeError) and found:
        return f"Likely cause: {raiser} got {article(found[1])} where it needs a list."
    if isinstance(error, TypeError) and (
        "can't multiply sequence" in text or "unsupported operand" in text and "'list'" in text
    ):
        return f"Likely cause: {raiser} got a whole list where it needs one Value or number."
    if isinstance(error, IndexError) and "out of range" in text and raiser == "gpt":
        return (
            "Likely cause: gpt got a token id (or position) out of range "
            "for the model: token ids run from 0 to vocab_size - 1, BOS "
            "is bos_id(chars), and positions stop before block_size; or "
            "keys and values are not the KV cache empty_kv_cache(config) "
            "made (one list per layer)."
        )
    if isinstance(error, ValueError) and ("empty sequence" in text or "is empty" in text):
        return f"Likely cause: {raiser} got an empty list where it needs at least one item."
    if isinstance(error, ValueError) and "math domain error" in text and raiser == "log":
        return (
            "Likely cause: log got 0 or a negative number: a probability "
            "of 0, from logits used without softmax, or from weights a "
            "training step pushed out of range (see the tests above)."
        )
    if isinstance(error, IndexError) and "out of range" in text:
        return (
            f"Likely cause: {raiser} got an index past the "
            "end of a list, or a list shorter than it needs."
        )
    return ""


def article(type_name):
    """'an int', 'a float', 'a str'; None for NoneType (what a function without return gives)."""
    if type_name == "NoneType":
        return "None (a function without return?)"
    return f"{'an' if type_name[:1] in 'aeiou' else 'a'} {type_name}"


def friendly_message(error, tb):
    """The sentence that replaces the traceback of error, or None to show a (filtered) traceback."""
    if isinstance(error, NotWritten):
        return str(error)
    if isinstance(error, NotImplementedError) and tb is not None and not str(error):
        stub = getattr(
            _innermost(tb).tb_frame.f_code, "co_qualname", _innermost(tb).tb_frame.f_code.co_name
        )
        return not_written(stub)
    if (
        isinstance(error, NameError)
        and tb is not None
        and _innermost(tb).tb_frame.f_code.co_name == "<module>"
    ):
        return (
            f"{error.name} is not defined yet: a cell above defines it but has not run, or it "
            "failed. Run the cells above in order (Run > Run All Above Selected Cell) and fix "
            f"the first one that fails; if no cell defines {error.name}, check its spelling."
        )
    return None


def _red_lines(name, text):
    """The error's name (in red) and text, each line within Validate's cut: text's own lines kept
    (a test's failure is already wrapped), longer ones wrapped."""
    lines = []
    for part in f"{name}: {text}".split("\n"):
        width = LINE if lines else FIRST_LINE + len("AssertionError: ")
        lines += textwrap.wrap(part, width, break_on_hyphens=False) or [""]
    return [f"\x1b[0;31m{name}\x1b[0m" + "\n".join(lines)[len(name) :]]


def _show_error(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for every error: a sentence, or the error's own line first (what Validate
    and the notebook show at the top), with a sentence when it was raised in code the learner's
    function called, then the traceback without hidden frames."""
    message = friendly_message(value, tb)
    if message:
        stb = _red_lines(etype.__name__, message)
    else:
        note = called_code_note(value, tb)
        for error in (value, value.__cause__, value.__context__):
            if error is not None and error.__traceback__ is not None:
                error.__traceback__ = _without_hidden_frames(error.__traceback__)
        stb = shell.InteractiveTB.structured_traceback(etype, value, value.__traceback__, tb_offset)
        first = _red_lines(etype.__name__, str(value)) + (textwrap.wrap(note, LINE) if note else [])
        stb = first + [""] + stb
    shell._showtraceback(etype, value, stb)  # sends the error output, so the cell counts as failed


def install_friendly_errors():
    """Show every error (Exception) as above in this IPython kernel."""
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if shell is not None:
        shell.set_custom_exc((Exception,), _show_error)


install_friendly_errors()


# --------------------------------------------------------------------------- pictures where
# matplotlib cannot load

NO_PICTURE = (
    "picture skipped: matplotlib could not be loaded here (in the browser it comes from "
    "the Pyodide package site, and this page is offline); the other cells run as usual"
)


class _NoPicture:
    """What matplotlib's objects become where matplotlib cannot be loaded: every attribute, call,
    index and operation gives a stand-in again and draws nothing, so a picture cell runs through."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return "(no picture)"

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __neg__ = __call__


class _Grid(list):
    """plt.subplots' array of axes: items and rows as in numpy, and .flat."""

    @property
    def flat(self):
        return [ax for row in self for ax in (row if isinstance(row, list) else [row])]


def _stand_in_module(name):
    module = types.ModuleType(
        name, "stands in for matplotlib, which could not be loaded: pictures are skipped"
    )
    module.__path__ = []  # a package: `import matplotlib.pyplot` works
    module.__getattr__ = lambda attribute: _NoPicture()
    if name == "matplotlib.pyplot":

        def subplots(nrows=1, ncols=1, **kwargs):
            rows = [_Grid(_NoPicture() for _ in range(ncols)) for _ in range(nrows)]
            if nrows == 1 and ncols == 1:
                return _NoPicture(), rows[0][0]
            return _NoPicture(), rows[0] if nrows == 1 else (
                _Grid(r[0] for r in rows) if ncols == 1 else _Grid(rows)
            )

        module.subplots = subplots
        module.show = lambda *args, **kwargs: print(NO_PICTURE)
    return module


class _PictureStandIns:
    """The last entry of sys.meta_path: `import matplotlib...` finds a stand-in only when the real
    one is missing (in Pyodide, offline: it is downloaded on first import)."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "matplotlib" or fullname.startswith("matplotlib."):
            import importlib.machinery

            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _stand_in_module(spec.name)

    def exec_module(self, module):
        pass


if sys.platform == "emscripten" and not any(isinstance(f, _PictureStandIns) for f in sys.meta_path):
    sys.meta_path.append(_PictureStandIns())


# --------------------------------------------------------------------------- pictures with their
# text alternative


def show(alt):
    """Show the figures drawn so far, like plt.show(), each with alt (one sentence saying what it
    shows) as its text alternative, in three places of one output: an HTML <img alt="..."> of the
    picture (what JupyterLab, Notebook 7, JupyterLite, VS Code and Colab render, since they prefer
    HTML to PNG and do not read an image's alt metadata), the output's metadata (image/png: alt,
    which nbconvert's classic template and the feedback pages, which keep only the PNG, put on the
    <img>) and its plain text."""
    # the chapter imported it to draw (standard library only here)
    plt = sys.modules.get("matplotlib.pyplot")
    shell = sys.modules["IPython"].get_ipython() if "IPython" in sys.modules else None
    if (
        plt is None
        or shell is None
        or isinstance(getattr(plt, "__loader__", None), _PictureStandIns)
    ):
        if plt is not None:
            plt.show()  # outside a notebook, or no matplotlib here: the stand-in's one line
        return
    for number in plt.get_fignums():
        figure = plt.figure(number)
        data, metadata = shell.display_formatter.format(figure)
        if "image/png" not in data:  # a frontend that draws figures its own way
            plt.show()
            return
        metadata.setdefault("image/png", {})["alt"] = alt
        png = data["image/png"]
        size = "".join(
            f' {key}="{metadata["image/png"][key]}"'
            for key in ("width", "height")
            if key in metadata["image/png"]
        )
        html = (
            f'<img src="data:image/png;base64,{png}" alt="{_html_escape(alt, quote=True)}"{size}>'
        )
        shell.display_pub.publish(
            data={"text/html": html, "image/png": png, "text/plain": alt}, metadata=metadata
        )
        plt.close(figure)
