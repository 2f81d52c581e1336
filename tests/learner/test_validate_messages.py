"""What nbgrader's Validate shows of a failing visible test: each line of the error is cut to 83
characters, so the first line of a failure must hold what failed and what was expected, whole
(course_tools.failure)."""

import io
import shutil

import nbformat
import pytest

from autograder.notebook_format import is_tests, split_hidden
from judge_support import PROJECT, replace_regions

# (chapter, piece, the learner's code, the first line of the failure as Validate must show it)
WRONG = [
    (
        "01_autograd",
        "value_mul",
        "return Value(self.data * other.data, (self, other), (self.data, other.data))",
        "AssertionError: a * b: the local gradient for child [0] is 2.0; expected -3.5",
    ),
    (
        "06_adam",
        "learning_rate",
        "return lr * (1 - (step + 1) / num_steps)",
        "AssertionError: learning_rate(...): the result is 0.00999; expected 0.01",
    ),
    (
        "06_adam",
        "adam_step",
        """lr_t = learning_rate(step, num_steps, lr)
for i, p in enumerate(params):
    m[i] = beta1 * m[i] + (1 - beta1) * p.grad
    v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
    m_hat = m[i] / (1 - beta1 ** (step + 1))
    v_hat = v[i] / (1 - beta2 ** (step + 1))
    p.data -= lr_t * m_hat / (v_hat + eps) ** 0.5
    p.grad = 0""",
        "AssertionError: gradients below eps: item [0] is 0.5; expected 0.499901",
    ),
]


@pytest.mark.parametrize(
    "chapter, piece, code, first", WRONG, ids=[f"{c}-{p}" for c, p, _, _ in WRONG]
)
def test_validate_shows_what_failed_and_what_was_expected(tmp_path, chapter, piece, code, first):
    from nbgrader.validator import Validator

    folder = tmp_path / chapter
    shutil.copytree(PROJECT / "chapters" / chapter, folder)
    nb = replace_regions(nbformat.read(folder / f"{chapter}.ipynb", as_version=4), {piece: code})
    for cell in nb.cells:
        if is_tests(cell):
            cell.source = split_hidden(cell.source)[0]  # as released: the visible tests only
    nbformat.write(nb, folder / f"{chapter}.ipynb")
    validator = Validator()
    validator.stream = io.StringIO()
    validator.validate_and_print(str(folder / f"{chapter}.ipynb"))
    shown = validator.stream.getvalue()
    assert "VALIDATION FAILED ON 1 CELL(S)" in shown, shown
    lines = [line.strip() for line in shown.splitlines()]
    at = next((i for i, line in enumerate(lines) if line.startswith("AssertionError:")), None)
    assert at is not None and lines[at] == first, (
        f"Validate shows {lines[at : at + 1]}; expected {first!r}:\n{shown}"
    )
    rest = lines[at + 1 : lines.index("", at)] if "" in lines[at:] else lines[at + 1 :]
    assert not any(line.endswith("...") for line in rest), (
        f"Validate cuts the lines after it: {rest}"
    )
