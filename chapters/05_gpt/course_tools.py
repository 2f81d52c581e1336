"""Helpers for the visible tests in the course notebooks.

This file uses the standard library only: it is copied next to every chapter notebook as
course_tools.py, and the visible tests do `from course_tools import ...`. Each helper prints what it
compared, raises AssertionError when something is off, and prints an "ok" line when all is well.
Results may be numbers, nested lists of numbers, or Values (anything with .data, compared by .data).
"""

import math

SHOWN = 8  # list items printed


def _plain(x):
    """x with every Value replaced by its .data, and tuples by lists."""
    if hasattr(x, "data"):
        return x.data
    if isinstance(x, (list, tuple)):
        return [_plain(item) for item in x]
    return x


def _show(x):
    """Short text for x: floats to 6 significant digits, lists trimmed to a few items."""
    if isinstance(x, float):
        return repr(x) if len(repr(x)) <= 9 else f"{x:.6g}"
    if isinstance(x, list):
        items = [_show(item) for item in x[:SHOWN]]
        if len(x) > SHOWN:
            items.append(f"... ({len(x)} items)")
        return "[" + ", ".join(items) + "]"
    return repr(x)


def _mismatch(got, expected, same, where="the result"):
    """How got differs from expected (a sentence), or None; lists are compared item by item."""
    if isinstance(expected, list):
        if not isinstance(got, list):
            return f"{where} is {_show(got)}; expected a list of {len(expected)} items"
        if len(got) != len(expected):
            return f"{where} has {len(got)} items; expected {len(expected)}"
        for i, (g, e) in enumerate(zip(got, expected)):
            problem = _mismatch(g, e, same, f"{where}[{i}]" if where != "the result" else f"item [{i}]")
            if problem:
                return problem
        return None
    if got is None and expected is not None:
        return f"{where} is None (did you forget return?)"
    return None if same(got, expected) else f"{where} is {_show(got)}; expected {_show(expected)}"


def _compare(label, got, expected, same):
    got, expected = _plain(got), _plain(expected)
    problem = _mismatch(got, expected, same)
    line = f"{label}: got {_show(got)}, expected {_show(expected)}"
    if problem:
        print(f"FAIL {line}")
        raise AssertionError(f"{label}: {problem}")
    print(f"ok   {line}")


def expect_equal(label, got, expected):
    """got must equal expected exactly (item by item for lists)."""
    _compare(label, got, expected, lambda a, b: a == b)


def expect_close(label, got, expected, rel_tol=1e-6, abs_tol=1e-9):
    """got must match expected within math.isclose(rel_tol, abs_tol) for numbers (item by item for lists);
    anything else must be equal."""
    def same(a, b):
        if isinstance(b, (int, float)) and not isinstance(b, bool):
            return isinstance(a, (int, float)) and math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)
        return a == b

    _compare(label, got, expected, same)


def gradient_check(f, inputs, value_cls, h=1e-6, tol=1e-6):
    """Compare the gradients backward() gives with central differences.

    f maps a list of value_cls nodes to one node; inputs are the numbers (or Values) to check at.
    Prints a table of input, analytic and numeric gradient and relative error |a-n| / max(|a|, |n|, 1e-12);
    raises AssertionError if any relative error exceeds tol. Returns the largest relative error."""
    xs = [float(_plain(x)) for x in inputs]

    def evaluate(nodes):
        out = f(nodes)
        if not hasattr(out, "data"):
            raise AssertionError(f"gradient_check: f returned {_show(_plain(out))}; it must return one Value")
        return out

    nodes = [value_cls(x) for x in xs]
    evaluate(nodes).backward()
    analytic = [node.grad for node in nodes]
    numeric = []
    for i in range(len(xs)):
        up = evaluate([value_cls(x + h if j == i else x) for j, x in enumerate(xs)])
        down = evaluate([value_cls(x - h if j == i else x) for j, x in enumerate(xs)])
        numeric.append((up.data - down.data) / (2 * h))
    errors = [abs(a - n) / max(abs(a), abs(n), 1e-12) for a, n in zip(analytic, numeric)]
    worst = max(range(len(xs)), key=errors.__getitem__)
    rows = sorted(set(range(min(len(xs), 12))) | {worst})
    print(f"{'input':>16} {'analytic':>14} {'numeric':>14} {'rel. error':>11}")
    for i in rows:
        print(f"{f'x[{i}] = {xs[i]:.4g}':>16} {analytic[i]:>14.8g} {numeric[i]:>14.8g} {errors[i]:>11.2e}")
    if len(xs) > len(rows):
        print(f"({len(xs)} inputs; the first 12 and the worst shown)")
    if errors[worst] > tol:
        raise AssertionError(f"gradient_check: at x[{worst}] backward gives {analytic[worst]:.8g} but central "
                             f"differences give {numeric[worst]:.8g} (relative error {errors[worst]:.2e} > {tol})")
    print(f"ok   gradients match central differences (largest relative error {errors[worst]:.2e})")
    return errors[worst]


def check_probabilities(probs, tol=1e-9):
    """probs (numbers or Values) must each lie in [0, 1] and sum to 1 within tol."""
    ps = _plain(probs)
    if not isinstance(ps, list) or not ps:
        raise AssertionError(f"check_probabilities: expected a non-empty list of probabilities, got {_show(ps)}")
    for i, p in enumerate(ps):
        if not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise AssertionError(f"check_probabilities: item [{i}] is {_show(p)}, not a probability in [0, 1]")
    total = sum(ps)
    if abs(total - 1) > tol:
        raise AssertionError(f"check_probabilities: the {len(ps)} probabilities sum to {total!r}, not 1")
    print(f"ok   {len(ps)} probabilities in [0, 1], summing to {total!r}")


def check_rms_near_one(values, tol=1e-3):
    """The root mean square of values (numbers or Values) must be within tol of 1."""
    xs = _plain(values)
    rms = math.sqrt(sum(x * x for x in xs) / len(xs))
    if abs(rms - 1) > tol:
        raise AssertionError(f"check_rms_near_one: the root mean square is {rms:.6g}, not within {tol} of 1")
    print(f"ok   root mean square {rms:.8g}, within {tol} of 1")


def _shape_problem(obj, shape, where):
    if not shape:
        return f"{where} is a list; expected a single value" if isinstance(obj, (list, tuple)) else None
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
