"""What every check shares: calling the learner's code, describing what came back, comparing it
with the reference `microgpt`, and backpropagating through it.

A check raises AssertionError with a message that names the piece, the input, what came back and
what was expected, plus a hint pointing at the cause when the mistake is a known one.
"""

import contextlib
import contextvars
import functools
import math
import os
import random
import re
import sysconfig
import traceback

import microgpt

from autograder.learner.course_tools import GIVEN, likely_cause

REL_TOL = 1e-9  # the same maths in another order differs in the last bits, never by this much
ABS_TOL = 1e-12  # for results that should be 0 but come out as rounding noise
SHOWN = 6  # items of a list shown in a message
SHORT_CALL = 40  # a call label this short leads its message; a longer one follows it (about)
# a list shown longer than this is described by its first difference first (expect_close)
LONG_VALUE = 40
NAME = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")
# the grad of a piece's input Values when it is called: a piece must leave it alone
GRAD_BEFORE = 0.25
LEAVE_INPUTS = (
    "Leave the inputs as they are: compute new Values (z - m, not z.data -= m) in new lists, and "
    "leave .grad alone (only backward sets gradients)."
)


# the judge sets a secret per grading run: the random cases cannot be known in advance
CASE_SECRET = ""


def case_rng(name):
    """The generator of a check's random cases: fixed for the course's own tests, secret when
    grading."""
    return random.Random(name + CASE_SECRET)


def fail(message):
    raise AssertionError(message)


def about(shown, rest):
    """The message of a failure of the call `shown` (how the learner would write it, with its
    inputs); rest says what happened, from its verb on (" returned X; expected Y. Advice." or ":
    ..."). A failure's first line must say what failed and what was expected (Validate, the
    self-check and the feedback page show its first 80 characters or so first): a short call leads;
    a longer one (its inputs written out) goes last, the function's name and the part of the label
    after the call (": maps[0][1]") standing first."""
    if len(shown) <= SHORT_CALL:
        return f"{shown}{rest}"
    call, part = split_label(shown)
    name = NAME.match(call)
    name = name.group(0) if name else "your code"
    head = f"{name}{': ' + part if part else ''}{rest}".rstrip()
    head += "" if head.endswith((".", "?", "!")) else "."
    return head if call == name else f"{head} (For {call}.)"


def split_label(label):
    """(the call, the part after it) of a label such as "gpt(...) with config = ...: afterwards
    keys[0]": the part is what follows the label's last ': ' outside brackets and quotes ('' when
    there is none)."""
    depth, quote, cut = 0, None, None
    for i, c in enumerate(label):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == ":" and depth == 0 and label[i + 1 : i + 2] == " ":
            cut = i
    return (label, "") if cut is None else (label[:cut], label[cut + 2 :])


def is_node(x):
    """A Value of any class: anything with data, _children and _local_grads."""
    return hasattr(x, "_children") and hasattr(x, "_local_grads") and hasattr(x, "data")


def is_number(x):
    return isinstance(x, (int, float))


# --- describing values in messages ---


def show(x, digits=6):
    """Short text for x: Values by their data, long floats rounded, long lists trimmed."""
    if is_node(x):
        x = x.data
    if isinstance(x, float):
        text = repr(x)
        return text if len(text) <= digits + 3 else f"{x:.{digits}g}"
    if isinstance(x, (list, tuple)):
        items = [show(item, digits) for item in x[:SHOWN]]
        if len(x) > SHOWN:
            items.append(f"... ({len(x)} items)")
        text = ", ".join(items)
        return f"[{text}]" if isinstance(x, list) else f"({text}{',' if len(x) == 1 else ''})"
    try:
        text = repr(x)
    # the learner's own __repr__ may be broken; the message must still be shown
    except Exception as err:
        return f"<a {type(x).__name__} whose repr raised {type(err).__name__}>"
    return text if len(text) <= 80 else text[:77] + "..."


def show_pair(got, expected):
    """got and expected shown with just enough digits to tell them apart."""
    for digits in (6, 10):
        pair = show(got, digits), show(expected, digits)
        if pair[0] != pair[1]:
            return pair
    return show(got, 17), show(expected, 17)


def kind(x):
    """What x is, for a message: 'None', 'a Value', 'the number 0.5', "a str 'ab'", 'a list of 3
    items'."""
    if x is None:
        return "None"
    if is_node(x):
        return f"a Value (data {show(x.data)})"
    if is_number(x):
        return f"the number {show(x)}"
    if isinstance(x, (list, tuple)):
        return f"a {type(x).__name__} of {len(x)} items"
    return f"a {type(x).__name__} {show(x)}"


# --- calling the learner's code ---

# Files whose frames are not the learner's: the check library, the reference, Python's own library.
NOT_LEARNERS = (
    os.path.dirname(os.path.abspath(__file__)),
    os.path.dirname(os.path.abspath(microgpt.__file__)),
    sysconfig.get_paths()["stdlib"],
)


# the file of the learner's function under check (a notebook cell's file in a kernel): frames of
# other notebook cells (given code) are then not the learner's
LEARNER_FILE = contextvars.ContextVar("LEARNER_FILE", default=None)


def learner_file(fn):
    """The file fn's code was compiled from, when fn is a function outside the course's code; else
    None."""
    filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
    if filename is None or os.path.abspath(filename).startswith(NOT_LEARNERS):
        return None
    return filename


@contextlib.contextmanager
def checking(fn):
    """While the block runs, where_raised knows fn's file as the learner's (when fn has one)."""
    token = LEARNER_FILE.set(learner_file(fn) or LEARNER_FILE.get())
    try:
        yield
    finally:
        LEARNER_FILE.reset(token)


def where_raised(err, cause=True):
    """A sentence naming the learner's function in which err was raised (the innermost frame of its
    traceback in the learner's file, or else outside NOT_LEARNERS), or pointing at the given or
    course function it was raised in, called from the learner's, and the likely cause (likely_cause)
    unless cause is false (the caller names it)."""
    # raised in the judge's worker: cells by their names
    if getattr(err, "frames", None) is not None:
        return where_raised_in_worker(err.frames, err if cause else None)
    frames = traceback.extract_tb(err.__traceback__)
    mine = [
        frame
        for frame in frames
        if not os.path.abspath(frame.filename).startswith(NOT_LEARNERS)
        and not frame.filename.startswith("<frozen")
    ]
    own = [frame for frame in mine if frame.filename == LEARNER_FILE.get()]
    mine = own or mine
    if not mine:
        return ""
    # a comprehension or lambda is named after the function around it
    frame = next((frame for frame in reversed(mine) if not frame.name.startswith("<")), mine[-1])
    name = "code" if frame.name.startswith("<") else frame.name
    if mine[-1] is frames[-1]:
        return f"It was raised in your {name} (line {mine[-1].lineno}): fix it there."
    course = frames[frames.index(mine[-1]) + 1 :]
    raiser = next(
        (frame.name for frame in reversed(course) if not frame.name.startswith("<")),
        course[-1].name,
    )
    called = next(
        (
            frame.name
            for frame in course
            if frame.filename == course[-1].filename
            # the given function the learner called
            and not frame.name.startswith("<")
        ),
        raiser,
    )
    given = (
        f" ({GIVEN})"
        if own
        and course[-1].filename != own[-1].filename
        and not os.path.abspath(course[-1].filename).startswith(NOT_LEARNERS)
        else ""
    )
    where = f"{raiser}, inside {called}{given}" if called != raiser else f"{raiser}{given}"
    return " ".join(
        filter(
            None,
            [
                f"It was raised in {where}, called from your {name} (line {mine[-1].lineno}): "
                f"check what your code passes to it.",
                likely_cause(err if cause else None, raiser),
            ],
        )
    )


STAND_IN = "the course's version of that exercise, standing in for yours while this piece is judged"


def where_raised_in_worker(frames, error=None):
    """where_raised for an error from the worker: frames are [cell name, line, function], innermost
    last; the learner's own cell is named '<your PIECE>', the notebook's given cells '<cell N>', the
    judge's stand-ins for the chapter's other exercises '<stand-in NAME>' (worker.stand_in). error
    (the exception, optional) lets a likely cause be named when given code raised it."""
    mine = [f for f in frames if str(f[0]).startswith("<your ")]
    if not mine:
        return ""
    name = next((f[2] for f in reversed(mine) if not str(f[2]).startswith("<")), "code")
    if mine[-1] is frames[-1]:
        return f"It was raised in your {name} (line {mine[-1][1]}): fix it there."
    course = frames[frames.index(mine[-1]) + 1 :]
    raiser = next((f[2] for f in reversed(course) if not str(f[2]).startswith("<")), course[-1][2])
    innermost = str(course[-1][0])
    # the given function the learner's code called (not a visible test's own helper, a spy around
    # it)
    called = next(
        (
            f[2]
            for f in course
            if str(f[0]).startswith(("<cell ", "<stand-in ")) and not str(f[2]).startswith("<")
        ),
        raiser,
    )
    given = (
        f" ({GIVEN})"
        if innermost.startswith("<cell ")
        else f" ({STAND_IN})"
        if innermost.startswith("<stand-in ")
        else ""
    )
    where = f"{raiser}, inside {called}{given}" if called != raiser else f"{raiser}{given}"
    return " ".join(
        filter(
            None,
            [
                f"It was raised in {where}, called from your {name} (line {mine[-1][1]}): "
                f"check what your code passes to it.",
                likely_cause(error, raiser),
            ],
        )
    )


def call(fn, args, shown, piece, hints=()):
    """fn(*args). An exception becomes an AssertionError naming the call, with the hint of the first
    (exception type, hint) pair in hints that matches it and a sentence naming where it was
    raised."""
    with checking(fn):
        try:
            return fn(*args)
        except NotImplementedError:
            raise AssertionError(
                f"{piece} raised NotImplementedError: replace the stub with your code"
            ) from None
        except Exception as err:
            hint = next((text for kinds, text in hints if isinstance(err, kinds)), "")
            text = about(
                shown,
                " "
                + " ".join(
                    filter(
                        None,
                        [
                            f"raised {type(err).__name__}: {err}.",
                            hint,
                            where_raised(err, cause=not hint),
                        ],
                    )
                ),
            )
            raise AssertionError(text) from err


def graded(check):
    """check, with any exception other than AssertionError (raised by the learner's objects while
    the check inspects them: a broken __repr__, __eq__ or operator, a result of the wrong type)
    turned into an AssertionError that names the piece, the error and where it was raised."""
    piece = check.__name__.removeprefix("check_")

    @functools.wraps(check)
    def run(*args, **kwargs):
        with checking(args[0] if args else None):
            try:
                return check(*args, **kwargs)
            except AssertionError:
                raise
            except NotImplementedError as err:
                raise AssertionError(
                    " ".join(
                        filter(
                            None,
                            [
                                f"{piece}: the check reached a stub that raises "
                                f"NotImplementedError.",
                                where_raised(err),
                                "Replace the stub with your code.",
                            ],
                        )
                    )
                ) from err
            except Exception as err:
                hint = where_raised(err) or (
                    "Return exactly what the docstring promises (its types included): "
                    "the check could not use what came back."
                )
                raise AssertionError(
                    f"{piece}: the check stopped with {type(err).__name__}: {err} while it used "
                    f"what your code returned or built. {hint}"
                ) from err

    return run


def expect_returned(result, shown):
    """result must not be None (a function that forgot its return)."""
    if result is None:
        fail(about(shown, " returned None: did you forget return?"))


def expect_vector(result, n, shown, what):
    """result must be a list of n Values whose data are numbers; what describes them ('3 values,
    one per row of w')."""
    expect_returned(result, shown)
    if not isinstance(result, (list, tuple)):
        fail(about(shown, f" returned {kind(result)}; expected a list of {what}."))
    for i, item in enumerate(result):
        if isinstance(item, (list, tuple)):
            fail(
                about(
                    shown,
                    f" returned a list of lists (item {i} is "
                    f"{show(item)}); expected a flat list of {what}.",
                )
            )
    if len(result) != n:
        fail(about(shown, f" returned a list of {len(result)} items; expected {what}."))
    for i, item in enumerate(result):
        if is_number(item):
            fail(
                about(
                    shown,
                    f" returned plain numbers {show(result)}; expected Values, so that gradients "
                    "can flow back: build the result with Value operations (not on .data).",
                )
            )
        if not is_node(item):
            fail(about(shown, f" returned a list whose item {i} is {kind(item)}; expected {what}."))
        if not is_number(item.data):
            fail(
                about(
                    shown,
                    f": item {i} is a Value whose data is {kind(item.data)}; "
                    "data must be a number (wrap numbers, not Values).",
                )
            )


def expect_node(result, shown, what="a Value"):
    """result must be one Value whose data is a number."""
    expect_returned(result, shown)
    if is_number(result):
        fail(
            about(
                shown,
                f" returned the number {show(result)}; expected {what}, so that "
                "gradients can flow back (return the Value itself, not its .data).",
            )
        )
    if not is_node(result):
        fail(about(shown, f" returned {kind(result)}; expected {what}."))
    if not is_number(result.data):
        fail(
            about(
                shown,
                f" returned a Value whose data is {kind(result.data)}; data must be a number.",
            )
        )


# --- comparing with the reference ---


def data(x):
    """Numbers for x: Values replaced by their data, lists (and dicts) element by element."""
    if is_node(x):
        return x.data
    if isinstance(x, (list, tuple)):
        return [data(item) for item in x]
    if isinstance(x, dict):
        return {key: data(item) for key, item in x.items()}
    return x


def close(a, b):
    """a and b agree to the last few bits (nested lists elementwise)."""
    if isinstance(b, list):
        return isinstance(a, list) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
    return is_number(a) and math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def first_difference(got, expected):
    """Index of the first item of got that is not close to expected's, or None."""
    return next((i for i, (a, b) in enumerate(zip(got, expected)) if not close(a, b)), None)


def diagnose(got, mistakes):
    """The hint of the first known mistake whose result matches got, or None.

    mistakes: (hint, produce) pairs; produce() computes, on numbers, what that mistake returns."""
    for hint, produce in mistakes:
        try:
            result = produce()
        except (ArithmeticError, ValueError, IndexError):
            continue  # that mistake would have raised, so it is not this one
        if close(got, result):
            return hint
    return None


def expect_close(got, expected, shown, hint="", verb="returned"):
    """Numbers (or lists of numbers) got must match expected; hint (a string, or a function of got
    returning one, computed only on failure) is added to the message, "{shown} {verb} {got};
    expected ..."."""
    bad = (
        first_difference(got, expected)
        if isinstance(expected, list)
        else (None if close(got, expected) else 0)
    )
    if bad is None:
        return
    hint = hint(got) if callable(hint) else hint
    text_got, text_expected = show_pair(got, expected)
    if isinstance(expected, list) and (bad >= SHOWN or len(text_got) > LONG_VALUE):
        # the first difference leads, so that the first line holds what came back and what was
        # expected
        item_got, item_expected = show_pair(got[bad], expected[bad])
        fail(
            about(
                shown,
                f": item {bad} is {item_got}; expected {item_expected} (it "
                f"{verb} {show(got)}; expected {show(expected)}). {hint}".rstrip(),
            )
        )
    fail(about(shown, f" {verb} {text_got}; expected {text_expected}. {hint}".rstrip()))


# --- gradients ---


def topological_order(root):
    """Every node reachable from root, each after all its children (iterative depth-first search).
    Children that are not Values are skipped; nodes are told apart by identity."""
    order, seen = [], {id(root)}
    stack = [(root, iter(root._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if id(child) not in seen and is_node(child):
                seen.add(id(child))
                if not isinstance(child._children, (tuple, list)):
                    fail(
                        f"The result's graph holds a Value (data {show(child.data)}) "
                        f"whose _children is {kind(child._children)}; expected a tuple of "
                        "Values: write (x,) with a trailing comma, since (x) is just x."
                    )
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def backpropagate(outputs, seeds):
    """Our own reverse pass, independent of any backward method: afterwards every node the outputs
    depend on has grad = dL/dnode for L = sum_k seeds[k] * outputs[k]. Returns the ids of those
    nodes."""
    root = microgpt.Value(0.0, tuple(outputs), tuple(seeds))
    order = topological_order(root)
    reached = {id(node) for node in order}
    for node in order:
        node.grad = 0
    root.grad = 1
    for node in reversed(order):
        for child, local_grad in zip(node._children, node._local_grads):
            if id(child) in reached:
                child.grad += local_grad * node.grad
    return reached


CUT_GRAPH = (
    "Build the result from the input Values with Value operations; computing on .data and "
    "wrapping the result in a new Value cuts the graph."
)


def expect_gradients(got_outputs, ref_outputs, got_inputs, ref_inputs, names, shown, rng):
    """Backpropagate the same random weighted sum L of the learner's outputs and of the reference's,
    and compare the gradients on the inputs (names[i] names input i in messages)."""
    seeds = [rng.uniform(0.5, 1.5) * rng.choice((-1, 1)) for _ in ref_outputs]
    got_reached = backpropagate(got_outputs, seeds)
    ref_reached = backpropagate(ref_outputs, seeds)
    loss = "L = the result" if len(seeds) == 1 else "L = a random weighted sum of the outputs"
    needed = [i for i, x in enumerate(ref_inputs) if id(x) in ref_reached]
    missing = [i for i in needed if id(got_inputs[i]) not in got_reached]
    if missing and len(missing) == len(needed):
        fail(
            about(
                shown,
                ": the gradient does not reach the inputs: backpropagating "
                f"{loss} leaves every input's grad at 0. {CUT_GRAPH}",
            )
        )
    if missing:
        fail(
            about(
                shown,
                f": the gradient does not reach {names[missing[0]]}: the result "
                f"does not depend on it through Value operations. {CUT_GRAPH}",
            )
        )
    for i in needed:
        got, expected = got_inputs[i].grad, ref_inputs[i].grad
        if not close(got, expected):
            text_got, text_expected = show_pair(got, expected)
            fail(
                about(
                    shown,
                    f": backpropagating {loss} gives {names[i]}.grad = "
                    f"{text_got}; expected {text_expected}. The values are right "
                    "but the gradients are not: some step is computed on .data "
                    "(a constant to backward) instead of with Value operations.",
                )
            )


# --- building inputs, swapping pieces ---


def as_values(x, cls):
    """A fresh copy of x (numbers or Values, in nested lists or dicts) with every leaf a new cls
    node."""
    # a class in the judge's worker: built there in one request
    if hasattr(type(cls), "build_values"):
        return cls.build_values(data(x))
    if isinstance(x, dict):
        return {key: as_values(item, cls) for key, item in x.items()}
    if isinstance(x, (list, tuple)):
        return [as_values(item, cls) for item in x]
    return cls(x.data if is_node(x) else x)


@contextlib.contextmanager
def reference_pieces(fn, pieces):
    """While the block runs, each course piece named in pieces (a tuple of names, or one name) that
    fn reaches through its globals is the reference's version; the learner's are put back
    afterwards.

    Name only the pieces the chapter grades in their own cell: one wrong piece then costs one cell,
    while a learner's own helper (say their softmax, in a chapter that gives softmax) is graded
    through the piece that uses it."""
    names = getattr(fn, "__globals__", {})
    pieces = (pieces,) if isinstance(pieces, str) else tuple(pieces)
    saved = {
        name: names[name]
        for name in pieces
        if name in names and names[name] is not getattr(microgpt, name)
    }
    try:
        names.update({name: getattr(microgpt, name) for name in saved})
        yield
    finally:
        names.update(saved)


def leaves(x, name):
    """(name, node) for every Value in x (a Value or nested lists of them), named like 'w[1][0]'."""
    if is_node(x):
        return [(name, x)]
    return [pair for i, item in enumerate(x) for pair in leaves(item, f"{name}[{i}]")]


def named_parameters(state_dict):
    """(name, Value) for every weight, in parameters() order, named like 'wte[3][5]'."""
    return [pair for name, matrix in state_dict.items() for pair in leaves(matrix, name)]


def check_case(
    piece,
    fn,
    inputs,
    cls,
    shown,
    n,
    what,
    rng,
    hint="",
    errors=(),
    options=(),
    keywords=None,
    swap=(),
):
    """One case of a piece that maps Value vectors to a Value vector.

    inputs: name -> numbers (nested lists), passed in order; the learner's copy is built with cls
    (each Value's grad GRAD_BEFORE, as if an earlier backward had left it), the reference's with
    microgpt.Value; options and keywords follow them unchanged. The learner's inputs must be left
    unchanged (lists, data, grads). The result must
    be a list of n Values (what: "3 values, one per row of w") with the reference's data (else the
    message adds hint, a string or a function of the learner's numbers) and the reference's
    gradients. errors: (exception type, hint) pairs for exceptions the learner's code raises. swap:
    the pieces (graded in their own cells) that are the reference's while fn runs, see
    reference_pieces."""
    keywords = keywords or {}
    mine = {name: as_values(x, cls) for name, x in inputs.items()}
    ref = {name: as_values(x, microgpt.Value) for name, x in inputs.items()}
    for _, node in leaves(list(mine.values()), "inputs"):
        node.grad = GRAD_BEFORE
    from .guards import (  # guards builds on this module: import it when needed
        expect_unchanged,
        snapshots,
    )

    before = snapshots(mine)
    with reference_pieces(fn, swap):
        got = call(lambda: fn(*mine.values(), *options, **keywords), (), shown, piece, errors)
    expected = getattr(microgpt, piece)(*ref.values(), *options, **keywords)
    expect_vector(got, n, shown, what)
    expect_unchanged(before, mine, shown, LEAVE_INPUTS)
    expect_close(data(got), data(expected), shown, hint)
    got_inputs = [pair for name, x in mine.items() for pair in leaves(x, name)]
    ref_inputs = [node for name, x in ref.items() for _, node in leaves(x, name)]
    expect_gradients(
        got,
        expected,
        [node for _, node in got_inputs],
        ref_inputs,
        [name for name, _ in got_inputs],
        shown,
        rng,
    )
