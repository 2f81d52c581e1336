"""course_tools, the learner-side helpers copied next to every notebook: standard library only, and each
helper prints what it compared, passes what is right and rejects what is not with a clear message."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder import course_tools
from autograder.course_tools import (check_probabilities, check_rms_near_one, check_shape, expect_close, expect_equal,
                                     gradient_check)
from microgpt import Value, rmsnorm, softmax
from mutants import notebook_value_class

SOURCE = Path(course_tools.__file__)


def test_it_imports_only_the_standard_library():
    tree = ast.parse(SOURCE.read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
               for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert modules <= set(sys.stdlib_module_names)


STANDALONE = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("microgpt", "autograder"):
            raise ImportError(f"{name} is not available next to a notebook")

sys.meta_path.insert(0, Blocker())
from course_tools import check_probabilities, check_rms_near_one, check_shape, expect_close, expect_equal
from course_tools import gradient_check

class Value:  # a notebook's own Value, just enough for a gradient check
    def __init__(self, data, children=(), local_grads=()):
        self.data, self.grad, self._children, self._local_grads = data, 0, children, local_grads

    def __mul__(self, other):
        return Value(self.data * other.data, (self, other), (other.data, self.data))

    def backward(self):
        self.grad = 1
        for child, local_grad in zip(self._children, self._local_grads):
            child.grad += local_grad * self.grad

expect_equal("ids", [26, 0, 26], [26, 0, 26])
expect_close("probs", [Value(0.25), Value(0.75)], [0.25, 0.75])
check_probabilities([0.25, 0.75])
check_rms_near_one([1.0, -1.0])
check_shape("w", [[1, 2], [3, 4], [5, 6]], (3, 2))
print(gradient_check(lambda v: v[0] * v[1], [2.0, 3.0], Value) < 1e-6)
"""


def test_it_works_where_microgpt_and_autograder_cannot_be_imported(tmp_path):
    # as in a chapter folder: a copy of the file, run by a Python that cannot import the reference
    shutil.copy(SOURCE, tmp_path / "course_tools.py")
    result = subprocess.run([sys.executable, "-c", STANDALONE], cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == 6
    assert result.stdout.rstrip().endswith("True")


def test_expect_equal_prints_an_ok_line(capsys):
    expect_equal("encode('ab')", [26, 0, 1, 26], [26, 0, 1, 26])
    assert capsys.readouterr().out == "ok   encode('ab'): got [26, 0, 1, 26], expected [26, 0, 1, 26]\n"


@pytest.mark.parametrize("got, expected, problem", [
    ([26, 0, 1], [26, 0, 1, 26], "the result has 3 items; expected 4"),
    ([26, 0, 2, 26], [26, 0, 1, 26], "item [2] is 2; expected 1"),
    ("ab", "abc", "the result is 'ab'; expected 'abc'"),
    (None, [1], "the result is None; expected a list of 1 items"),
    (None, 3, "the result is None (did you forget return?)"),
    ([[1, 2], [3, 5]], [[1, 2], [3, 4]], "item [1][1] is 5; expected 4"),
])
def test_expect_equal_says_where_it_differs(capsys, got, expected, problem):
    with pytest.raises(AssertionError, match="^label: ") as info:
        expect_equal("label", got, expected)
    assert str(info.value) == f"label: {problem}"
    assert capsys.readouterr().out.startswith("FAIL label: got ")


def test_values_are_compared_by_data_and_long_lists_trimmed(capsys):
    probs = softmax([Value(float(i)) for i in range(20)])
    expect_close("softmax", probs, [p.data for p in probs])
    line = capsys.readouterr().out
    assert line.startswith("ok   softmax: got [3.54164e-09, ") and "... (20 items)]" in line
    assert line.count(",") == 2 * 8 + 1


@settings(max_examples=50)
@given(st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=10))
def test_expect_close_accepts_tiny_relative_differences_only(xs):
    expect_close("xs", [x * (1 + 1e-9) for x in xs], xs)
    with pytest.raises(AssertionError, match=r"xs: item \[0\] is"):
        expect_close("xs", [xs[0] + 1e-3 * max(abs(xs[0]), 1)] + xs[1:], xs)


def test_gradient_check_passes_right_gradients_and_prints_a_table(capsys):
    worst = gradient_check(lambda v: sum(p * p for p in softmax(v)), [0.5, -1.0, 2.0], Value)
    out = capsys.readouterr().out
    assert worst < 1e-6
    assert out.splitlines()[0].split() == ["input", "analytic", "numeric", "rel.", "error"]
    assert "x[2] = 2" in out and out.rstrip().endswith(f"(largest relative error {worst:.2e})")


def test_gradient_check_catches_a_wrong_local_gradient():
    def exp_wrong(self):
        import math
        return type(self)(math.exp(self.data), (self,), (self.data,))

    with pytest.raises(AssertionError, match=r"at x\[0\] backward gives 1.5 but central differences give 4.48"):
        gradient_check(lambda v: v[0].exp(), [1.5], notebook_value_class(exp=exp_wrong))


def test_gradient_check_trims_long_tables(capsys):
    gradient_check(lambda v: sum(rmsnorm(v)), [0.1 * i - 1 for i in range(30)], Value, tol=1e-4)
    assert "(30 inputs; the first 12 and the worst shown)" in capsys.readouterr().out


def test_gradient_check_needs_one_value():
    with pytest.raises(AssertionError, match="it must return one Value"):
        gradient_check(lambda v: [v[0]], [1.0], Value)


def test_check_probabilities(capsys):
    check_probabilities(softmax([Value(1.0), Value(2.0)]))
    assert capsys.readouterr().out.startswith("ok   2 probabilities in [0, 1], summing to ")
    with pytest.raises(AssertionError, match="sum to 0.9, not 1"):
        check_probabilities([0.4, 0.5])
    with pytest.raises(AssertionError, match=r"item \[1\] is -0.5, not a probability"):
        check_probabilities([0.5, -0.5, 1.0])
    with pytest.raises(AssertionError, match="a non-empty list"):
        check_probabilities([])


def test_check_rms_near_one(capsys):
    check_rms_near_one(rmsnorm([Value(3.0), Value(4.0)]))
    assert capsys.readouterr().out.startswith("ok   root mean square 0.9999996, within 0.001 of 1")
    with pytest.raises(AssertionError, match="the root mean square is 3.53553, not within 0.001 of 1"):
        check_rms_near_one([3.0, 4.0])


@given(st.lists(st.integers(0, 4), min_size=1, max_size=3))
def test_check_shape_accepts_exactly_its_shape(shape):
    def nested(dims):
        return 0.5 if not dims else [nested(dims[1:]) for _ in range(dims[0])]

    check_shape("m", nested(shape), shape)
    with pytest.raises(AssertionError, match="^m"):
        check_shape("m", nested(shape), [shape[0] + 1] + shape[1:])


@pytest.mark.parametrize("obj, problem", [
    ([[1, 2], [3, 4], [5]], "m[2] has 1 items; expected 2"),
    ([1, 2, 3], "m[0] is 1; expected a list of 2 items"),
    ([[[1], [2]], [[3], [4]], [[5], [6]]], "m[0][0] is a list; expected a single value"),
    (None, "m is None; expected a list of 3 items"),
])
def test_check_shape_says_where(obj, problem):
    with pytest.raises(AssertionError) as info:
        check_shape("m", obj, (3, 2))
    assert str(info.value) == problem
