"""course_tools, the learner-side helpers copied next to every notebook: standard library only, and
each helper prints what it compared, passes what is right and rejects what is not with a clear
message."""

import ast
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st
from microgpt import Value, rmsnorm, softmax

from autograder.learner import course_tools
from autograder.learner.course_tools import (
    check_probabilities,
    check_rms_near_one,
    check_shape,
    expect_close,
    expect_equal,
    expect_value,
    gradient_check,
)
from mutants import notebook_value_class

SOURCE = Path(course_tools.__file__)


def test_it_imports_only_the_standard_library():
    tree = ast.parse(SOURCE.read_text())
    modules = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    modules |= {
        node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
    }
    assert modules <= set(sys.stdlib_module_names)


STANDALONE = """
import sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("microgpt", "autograder"):
            raise ImportError(f"{name} is not available next to a notebook")

sys.meta_path.insert(0, Blocker())
from course_tools import (check_probabilities, check_rms_near_one, check_shape, expect_close,
                          expect_equal)
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
print(gradient_check(lambda v: v[0] * v[1], [2.0, 3.0], Value))
"""


def test_it_works_where_microgpt_and_autograder_cannot_be_imported(tmp_path):
    # as in a chapter folder: a copy of the file, run by a Python that cannot import the reference
    shutil.copy(SOURCE, tmp_path / "course_tools.py")
    result = subprocess.run(
        [sys.executable, "-c", STANDALONE], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("ok ") == 6
    assert result.stdout.rstrip().endswith("None")


def test_expect_equal_prints_an_ok_line(capsys):
    expect_equal("encode('ab')", [26, 0, 1, 26], [26, 0, 1, 26])
    assert (
        capsys.readouterr().out
        == "ok   encode('ab'): got [26, 0, 1, 26], expected [26, 0, 1, 26]\n"
    )


@pytest.mark.parametrize(
    "got, expected, problem",
    [
        ([26, 0, 1], [26, 0, 1, 26], "the result has 3 items; expected 4"),
        ([26, 0, 2, 26], [26, 0, 1, 26], "item [2] is 2; expected 1"),
        ("ab", "abc", "the result is 'ab'; expected 'abc'"),
        (None, [1], "the result is None (did you forget return?)"),
        (None, 3, "the result is None (did you forget return?)"),
        ([[1, 2], [3, 5]], [[1, 2], [3, 4]], "item [1][1] is 5; expected 4"),
    ],
)
def test_expect_equal_says_where_it_differs(capsys, got, expected, problem):
    with pytest.raises(AssertionError, match="^label: ") as info:
        expect_equal("label", got, expected)
    assert str(info.value) == f"label: {problem}"
    assert capsys.readouterr().out.startswith("FAIL label: got ")


def test_long_dicts_are_trimmed_like_lists(capsys):
    shapes = {f"layer{i}": (16, 16) for i in range(10)}
    expect_equal("param_shapes", shapes, dict(shapes))
    out = capsys.readouterr().out
    assert out.count("(16, 16)") == 2 * 8 and out.count("... (10 items)}") == 2, out


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
    assert gradient_check(lambda v: sum(p * p for p in softmax(v)), [0.5, -1.0, 2.0], Value) is None
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["input", "analytic", "numeric", "rel.", "error"]
    assert "x[2] = 2" in out and out.rstrip().endswith("(largest relative error < 1e-07)")


def test_gradient_check_reports_a_true_zero_gradient_as_a_match(capsys):
    # d/dx1 of x0 * x0 is exactly 0: analytic 0 and numeric 0 match (error 0, not 1)
    gradient_check(lambda v: v[0] * v[0] + v[1] * 0, [1.5, 2.0], Value)
    row = next(
        line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("x[1]")
    )
    assert row.split()[-4:] == ["0", "0", "<", "1e-07"], row


def test_printed_gradient_tables_do_not_depend_on_the_last_bits(capsys):
    # the same check with every gradient perturbed in its last bits prints the same table
    gradient_check(lambda v: (v[0] * v[1]).exp().log() + v[1].exp(), [0.3, -0.7], Value)
    first = capsys.readouterr().out

    class Jittered(Value):
        def exp(self):
            out = super().exp()
            out.data *= 1 + 2e-16
            return out

    gradient_check(lambda v: (v[0] * v[1]).exp().log() + v[1].exp(), [0.3, -0.7], Jittered)
    assert capsys.readouterr().out == first


def test_gradient_check_catches_a_wrong_local_gradient():
    def exp_wrong(self):
        import math

        return type(self)(math.exp(self.data), (self,), (self.data,))

    with pytest.raises(AssertionError, match=r"^backward gives x\[0\].grad = 1.5; expected 4.48"):
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
    assert capsys.readouterr().out.startswith("ok   root mean square 1, within 0.001 of 1")
    with pytest.raises(
        AssertionError, match="the root mean square is 3.53553, not within 0.001 of 1"
    ):
        check_rms_near_one([3.0, 4.0])


@given(st.lists(st.integers(0, 4), min_size=1, max_size=3))
def test_check_shape_accepts_exactly_its_shape(shape):
    def nested(dims):
        return 0.5 if not dims else [nested(dims[1:]) for _ in range(dims[0])]

    check_shape("m", nested(shape), shape)
    with pytest.raises(AssertionError, match="^m"):
        check_shape("m", nested(shape), [shape[0] + 1] + shape[1:])


@pytest.mark.parametrize(
    "obj, problem",
    [
        ([[1, 2], [3, 4], [5]], "m[2] has 1 items; expected 2"),
        ([1, 2, 3], "m[0] is 1; expected a list of 2 items"),
        ([[[1], [2]], [[3], [4]], [[5], [6]]], "m[0][0] is a list; expected a single value"),
        (None, "m is None (did you forget return?)"),
    ],
)
def test_check_shape_says_where(obj, problem):
    with pytest.raises(AssertionError) as info:
        check_shape("m", obj, (3, 2))
    assert str(info.value) == problem


def test_expect_value_checks_data_children_and_local_grads(capsys):
    a, b = Value(2.0), Value(-3.5)
    expect_value("a + b", a + b, -1.5, children=(a, b), local_grads=(1, 1))
    assert capsys.readouterr().out.startswith("ok   a + b: a Value with data -1.5")
    for got, problem in [
        (None, "a + b: the result is None (did you forget return?)"),
        (-1.5, "the result is -1.5; expected a Value"),
        (Value(-1.5, (b, a), (1, 1)), "its children are [-3.5, 2.0]; expected the nodes"),
        (Value(-1.5, (a, b), (1, 0)), "a + b: the local gradient for child [1] is 0; expected 1"),
        (Value(1.5, (a, b), (1, 1)), "a + b: its data is 1.5; expected -1.5"),
        # nodes as local gradients match by their data: named as what they are
        (
            Value(-1.5, (a, b), (Value(1.0), 1)),
            "a + b: local gradient [0] is a Value; expected a "
            "number\n(that Value's data is 1.0: store plain",
        ),
    ]:
        with pytest.raises(AssertionError) as info:
            expect_value("a + b", got, -1.5, children=(a, b), local_grads=(1, 1))
        assert str(info.value).startswith(problem), str(info.value)


def gelu_from_exp(x):
    u = 0.8 * x.data
    return Value((math.exp(2 * u) - 1) / (math.exp(2 * u) + 1), (x,), (1.0,))


def test_explain_errors_names_the_call_the_error_and_its_cause(capsys):
    hint = "expected tanh(u) to level off at +-1: compute it with math.tanh"
    with pytest.raises(AssertionError) as info:
        with course_tools.explain_errors("gelu(Value(1000.0))", OverflowError=hint):
            gelu_from_exp(Value(1000.0))
    first, *rest = str(info.value).split("\n")
    assert first == "gelu(Value(1000.0)) raised OverflowError: expected tanh(u) to"
    assert " ".join(rest).startswith(
        "level off at +-1: compute it with math.tanh (OverflowError: math range error (in "
        "gelu_from_exp, line "
    )
    assert all(len(line) <= 80 for line in rest) and info.value.__cause__ is None
    # a base class names a family; a function of the error picks the errors it explains (None: as it
    # is)
    with pytest.raises(AssertionError, match="^d raised KeyError: no such key"):
        with course_tools.explain_errors("d", LookupError="no such key"):
            {}["x"]

    def compared(error):
        return "not supported between" in str(error) and "take the largest number"

    with pytest.raises(AssertionError, match="take the largest number"):
        with course_tools.explain_errors("max(logits)", TypeError=compared):
            max([Value(1.0), Value(2.0)])
    for error in (TypeError("unsupported operand"), ValueError("other"), NotImplementedError()):
        with pytest.raises(type(error)):
            with course_tools.explain_errors("f(x)", TypeError=compared):
                raise error


FRIENDLY = [
    "from course_tools import expect_close",
    "def linear(x, w):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
    "y = linear([1.0], [[2.0]])",
    "class Value:\n    def exp(self):\n        raise NotImplementedError()\n\nValue().exp()",
    "print(docs[:3])",
    "def helper():\n    return undefined_name\n\nhelper()",
    "expect_close('linear(x, w)', [1.0, 2.0], [1.0, 2.5])",
    "raise NotImplementedError('a message of its own')",
]


def test_learners_get_sentences_instead_of_tracebacks_in_a_real_kernel(tmp_path):
    """In a Jupyter kernel: a stub names the exercise, a NameError at the top of a cell says to run
    the cells above, helper frames are left out, and every one is still an error output."""
    import re

    import nbformat
    from nbclient import NotebookClient

    shutil.copy(SOURCE, tmp_path / "course_tools.py")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code) for code in FRIENDLY])
    NotebookClient(nb, allow_errors=True, resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = []
    for cell in nb.cells[2:]:
        errors = [o for o in cell.outputs if o.output_type == "error"]
        assert len(errors) == 1, f"{cell.source!r} gave no error output: {cell.outputs}"
        shown.append(
            (errors[0].ename, re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(errors[0].traceback)))
        )
    stub, method, name, inner, helper, own = shown
    assert stub[0] == "NotImplementedError" and " ".join(stub[1].split()) == (
        "NotImplementedError: linear is not written yet: replace `raise NotImplementedError()` "
        "in its cell with your code, run that cell, then run this one again."
    )
    # Validate cuts longer lines
    assert max(len(line) for line in stub[1].splitlines()) <= course_tools.LINE
    assert method[1].startswith("NotImplementedError: Value.exp is not written yet")
    assert name[1].startswith("NameError: docs is not defined yet: a cell above defines it")
    assert (
        inner[0] == "NameError" and "in helper()" in inner[1] and "not defined yet" not in inner[1]
    )
    assert (
        helper[0] == "AssertionError" and "linear(x, w): item [1] is 2.0; expected 2.5" in helper[1]
    )
    assert "course_tools.py" not in helper[1] and "_compare" not in helper[1]
    assert "a message of its own" in own[1] and "not written yet" not in own[1]


def test_standing_in_swaps_names_for_a_block_and_always_puts_them_back():
    from autograder.learner.course_tools import standing_in

    namespace = {"piece": "yours"}
    with standing_in(namespace, piece="stand-in", extra=1):
        assert namespace == {"piece": "stand-in", "extra": 1}
    assert namespace == {"piece": "yours"}
    with pytest.raises(ZeroDivisionError):
        with standing_in(namespace, piece="stand-in"):
            1 / 0
    assert namespace == {"piece": "yours"}


@pytest.mark.parametrize(
    "label, problem, first",
    [
        ("encode('ab')", "item [2] is 2; expected 1", "encode('ab'): item [2] is 2; expected 1"),
        (
            "adam_step(params, grads, m, v, t=2, lr=0.05, beta1=0.9, beta2=0.999, eps=1e-3)",
            "item [0] is 0.0961; expected 0.0952",
            "adam_step(...): item [0] is 0.0961; expected 0.0952",
        ),
        (
            "step 2 of 5 with lr=0.05, beta1=0.9, beta2=0.999, "
            "eps=1e-3: the parameters after the update",
            "item [0] is 0.0961; expected 0.0952",
            "item [0] is 0.0961; expected 0.0952",
        ),
    ],
)
def test_a_failure_shows_what_failed_and_what_was_expected_first_and_the_call_after(
    label, problem, first
):
    lines = course_tools.failure(label, problem).split("\n")
    # what Validate shows of a line
    assert lines[0] == first and len("AssertionError: " + lines[0]) <= 83
    assert all(len(line) <= course_tools.LINE for line in lines)
    assert " ".join(" ".join(lines).split()).endswith(
        label if lines[0] != f"{label}: {problem}" else problem
    )


def test_expect_written_refuses_a_stub_and_names_it():
    def train_step(tokens):
        """A stub, as released."""
        # YOUR CODE HERE
        raise NotImplementedError()

    def written(tokens):
        return len(tokens)

    course_tools.expect_written(written, len)
    with pytest.raises(course_tools.NotWritten) as info:
        course_tools.expect_written(written, train_step)
    assert str(info.value).startswith(
        "train_step is not written yet: replace `raise NotImplementedError()`"
    )
    assert course_tools.friendly_message(info.value, info.tb) == str(info.value)


def test_expect_none_passes_none_only(capsys):
    course_tools.expect_none("adam_step([p], m, v, 0, 10)", None)
    assert "ok   adam_step([p], m, v, 0, 10): returned None" in capsys.readouterr().out
    with pytest.raises(
        AssertionError, match=r"returned \[0.5, 1\.0\]; expected None \(it works in place\)"
    ):
        course_tools.expect_none("adam_step([p], m, v, 0, 10)", [Value(0.5), 1.0])


def scale_in_place(xs):
    for i, x in enumerate(xs):
        xs[i] = x * 2
    return xs


def scale_data_in_place(xs):
    for x in xs:
        x.data *= 2
    return xs


def raised(block):
    """The message of the AssertionError block() raises, its lines joined by spaces."""
    with pytest.raises(AssertionError) as info:
        block()
    return " ".join(str(info.value).split())


def bump_grad(xs):
    xs[1].grad += 1.0  # as a backward would


@pytest.mark.parametrize(
    "change, says",
    [
        (scale_in_place, "you changed x in place: build a new list instead"),
        (lambda xs: xs.append(Value(1.0)), "you changed x in place: build a new list instead"),
        (lambda xs: xs.reverse(), "you changed x in place: build a new list instead"),
        (
            scale_data_in_place,
            "you changed x in place: x[0].data changed; compute new Values instead (v - m, not "
            "v.data -= m)",
        ),
        (
            bump_grad,
            "you changed x in place: x[1].grad changed; leave .grad alone: run no backward here",
        ),
    ],
)
def test_unchanged_names_a_change_in_place_and_where_before_any_other_failure(change, says, capsys):
    xs = [Value(1.0), Value(-2.0)]

    def block():
        with course_tools.unchanged("x", xs):
            change(xs)
            expect_close("the result", xs, [9.0, 9.0])  # fails too, but after the cause

    assert raised(block).startswith(says)


def test_unchanged_names_the_row_of_a_dict_that_changed():
    logits = {"a": [1.0, 2.0], "b": [[Value(3.0)]]}

    def replace_item():
        with course_tools.unchanged("logits", logits):
            logits["a"][0] = 5.0

    def change_data():
        with course_tools.unchanged("logits", logits):
            logits["b"][0][0].data = 4.0

    def add_key():
        with course_tools.unchanged("logits", logits):
            logits["c"] = []

    assert (
        raised(replace_item)
        == "you changed logits in place: logits['a'] changed; build a new list instead"
    )
    assert raised(change_data).startswith(
        "you changed logits in place: logits['b'][0][0].data changed; compute"
    )
    assert raised(add_key) == "you changed logits in place: build a new dict instead"


def test_unchanged_lets_a_copy_pass_and_keeps_other_failures_and_stubs(capsys):
    xs = [Value(1.0), 2.0]
    with course_tools.unchanged("x", xs):
        doubled = [x * 2 for x in xs]
    assert "ok   x left unchanged" in capsys.readouterr().out and doubled[1] == 4.0
    with pytest.raises(AssertionError, match="item \\[0\\] is 1.0; expected 3.0"):
        with course_tools.unchanged("x", xs):
            expect_close("x", xs, [3.0, 2.0])
    with pytest.raises(NotImplementedError):
        with course_tools.unchanged("x", xs):
            xs[0] = 7  # changed, but an unwritten exercise keeps its own message
            raise NotImplementedError


def test_gradient_check_names_a_changed_input_instead_of_a_wrong_derivative():
    def rmsnorm_in_place(xs):
        scale = (sum(x * x for x in xs) * (1 / len(xs)) + 1e-5) ** -0.5
        for i in range(len(xs)):
            xs[i] = xs[i] * scale
        return xs

    with pytest.raises(
        AssertionError, match="^you changed the list of inputs in place: build a new list"
    ):
        gradient_check(lambda v: rmsnorm_in_place(v)[0] * 3, [2.0, -1.0, 0.5], Value)
    # the reference builds a new list
    gradient_check(lambda v: rmsnorm(v)[0] * 3, [2.0, -1.0, 0.5], Value)


def test_expect_same_objects_wants_identity_not_equal_values(capsys):
    params = [Value(1.0), Value(2.0)]
    course_tools.expect_same_objects("params after adam_step", params, params)
    course_tools.expect_same_objects("params after adam_step", list(params), params)
    message = raised(
        lambda: course_tools.expect_same_objects(
            "params after adam_step", [params[0], Value(2.0)], params
        )
    )
    # what failed and what was expected, with the label, on Validate's first line (83 characters)
    assert message.startswith(
        "params after adam_step: item [1] is new; expected the same object (1 of 2 are new: "
        "change the data of the object that is there"
    )
    assert (
        len(
            str(
                course_tools.failure(
                    "params after adam_step", "item [1] is new; expected the same object"
                )
            )
        )
        + len("AssertionError: ")
        <= 83
    )
    with pytest.raises(AssertionError, match="is None; expected the same 2 objects"):
        course_tools.expect_same_objects("params after adam_step", None, params)
