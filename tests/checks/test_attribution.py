"""Issue 13, item 3, per chapter: no message tells a learner to fix given (locked) code.

For each chapter, a classmate's slip in one graded piece whose code calls given code (or, where none
does, the judge's stand-in for an earlier exercise) is judged: the message (the self-check's and the
feedback page's) says what failed first, names the visible test's call, says the error came from
given code called from the learner's function and line, and a likely cause; never "fix it there" for
given code. Where no graded piece calls given code that can raise, that fact is asserted from the
chapter's source, and no mistake variant's visible failure (tests/piece_variants, the last line a
learner reads in Validate) points at given code. One piece judged per chapter (judging_only): the
visible test fails, so no hidden check runs.
"""

from __future__ import annotations

import ast
import functools
import re
import shutil
import textwrap
from pathlib import Path

import nbclient
import nbformat
import pytest

from autograder.checks.core import where_raised_in_worker
from autograder.learner import course_tools
from autograder.notebook_format import cell_kind, graded_pieces, nbgrader_meta, split_regions
from autograder.pipeline.sandbox import Limits
from judge_support import PROJECT, JudgedChapter, replace_regions
from visible_tests import _source, chapter_variants, visible_failure

GIVEN = "(given code: leave it as it is)"
STAND_IN = (
    "(the course's version of that exercise, standing in for yours while this piece is judged)"
)

# chapter -> (piece, a classmate's slip, the start of the judge's message, where it was raised, the
# likely cause)
GIVEN_CALLED = {
    "02_tokenization": (
        "encode",
        """
bos = bos_id(len(chars))  # the vocabulary's length, where bos_id takes the vocabulary
return [bos] + [chars.index(c) for c in doc] + [bos]
""",
        "TypeError: object of type 'int' has no len() (in the visible test",
        f"raised in bos_id {GIVEN}, called from your encode (line 20)",
        "Likely cause: bos_id got an int where it needs a list.",
    ),
    # the whole list x
    "03_components": (
        "linear",
        "return [sum(w_oi * x for w_oi in w_o) for w_o in w]",
        "TypeError: can't multiply sequence by non-int of type 'float' (in the visible test",
        f"raised in __mul__ {GIVEN}, called from your linear (line 18)",
        "Likely cause: __mul__ got a whole list where it needs one Value or number.",
    ),
    "05_gpt": (
        "attention_head",
        """
scale = len(q) ** 0.5  # the scores below are numbers (.data), not Values
weights = softmax([sum(q_j.data * k_j.data for q_j, k_j in zip(q, k)) / scale for k in keys])
return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]
""",
        "AttributeError: 'float' object has no attribute 'data' (in the visible test",
        f"raised in softmax {GIVEN}, called from your attention_head (line 25)",
        "Likely cause: softmax got a float where it needs a Value.",
    ),
    "07_training": (
        "document_loss",
        """
keys, values = empty_kv_cache(config)
n = min(config.block_size, len(tokens) - 1)
losses = []
for t in range(n):
    probs = softmax(gpt(tokens, t, keys, values, state_dict, config))  # every token, not tokens[t]
    losses.append(-probs[tokens[t + 1]].log())
return (1 / n) * sum(losses)
""",
        "TypeError: list indices must be integers or slices, not list (in the visible test",
        f"raised in gpt {GIVEN}, called from your document_loss (line 28)",
        "Likely cause: gpt got a list where it needs an int (an index, such as one token id).",
    ),
    "08_generation": (
        "temperature_probs",
        "return softmax([z.data / temperature for z in logits])",
        "AttributeError: 'float' object has no attribute 'data' (in the visible test",
        f"raised in softmax {GIVEN}, called from your temperature_probs (line 13)",
        "Likely cause: softmax got a float where it needs a Value.",
    ),
    "09_analysis": (
        "mean_loss",
        """
losses = [document_loss(doc, state_dict, config).data for doc in docs]  # not encode(doc, chars)
return sum(losses) / len(docs)
""",
        "TypeError: list indices must be integers or slices, not str (in the visible test",
        f"raised in gpt, inside document_loss {GIVEN}, called from your mean_loss (line 11)",
        "Likely cause: gpt got a str where it needs an int (an index, such as one token id).",
    ),
    "10_experiments": (
        "layernorm",
        """
mean = sum(x) / len(x)
return rmsnorm(x - mean, eps)  # a list minus a Value, as if x were an array
""",
        "TypeError: unsupported operand type(s) for +: 'float' and 'list' (in the visible test",
        f"raised in __add__, inside __rsub__ {GIVEN}, called from your layernorm (line 14)",
        "Likely cause: __add__ got a whole list where it needs one Value or number.",
    ),
}

# chapters where no graded piece calls given code that can raise: the given names their instructor's
# code uses (only Value, as a constructor that only stores its arguments), and a slip in a call they
# do make (a stand-in for an earlier exercise, or the learner's own call) with its message
NOT_CALLED = {
    "01_autograd": (
        {"Value"},
        (
            "value_add",
            """
return Value(self.data + other.data, (self, other), (1, 1))  # a plain number not wrapped
""",
            # the visible test
            "a + 4 raised AttributeError: 4 is a plain "
            "number, with no .data: wrap it in Value first",
            "(other = other if isinstance(other, Value) else Value(other))",
        ),
    ),
    # the visible test's stand-in for param_shapes takes only a config, as the judge's does: the
    # slip fails there
    "04_parameters": (
        {"Value"},
        (
            "init_params",
            """
return {name: [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config.vocab_size).items()}  # not the config
""",
            "init_params called param_shapes(27): pass it the config itself, param_shapes(config)",
            "",
        ),
    ),
    # the instructor's adam_step (tests/piece_variants/06_adam.py) with num_steps left out of
    # learning_rate
    "06_adam": (
        set(),
        (
            "adam_step",
            chapter_variants()["06_adam"].adam_with(
                "learning_rate(step, num_steps, lr)", "learning_rate(step, lr)"
            ),
            "TypeError: linear_decay() missing 1 required "
            "positional argument: 'lr' (in the visible test",
            "It was raised in your adam_step (line 31): fix it there.",
        ),
    ),
}
CHAPTERS = sorted([*GIVEN_CALLED, *NOT_CALLED])
LIMITS = Limits(piece_seconds=60)  # a busy machine: grading's own limit


def test_every_chapter_is_covered():
    assert CHAPTERS == sorted(chapter_variants()), "a chapter was added: give it a slip here"


@functools.lru_cache(maxsize=None)
def given_names(chapter: str) -> dict[str, ast.AST]:
    """{name: its definition} for everything the chapter's given cells define at their top level."""
    names = {}
    for cell in _source(chapter).cells:
        if cell.cell_type == "code" and cell_kind(cell) == "given":
            for node in ast.parse(cell.source).body:
                for target in node.targets if isinstance(node, ast.Assign) else [node]:
                    if isinstance(target, (ast.FunctionDef, ast.ClassDef, ast.Name)):
                        names[getattr(target, "name", getattr(target, "id", None))] = node
    return names


def given_uses(chapter: str) -> dict[str, dict[str, list[ast.AST]]]:
    """{piece: {given name: the parents of the nodes naming it}} in the instructor's solution
    regions of the chapter's graded pieces."""
    nb, names, uses = _source(chapter), given_names(chapter), {}
    for piece in graded_pieces(nb):
        uses[piece.solution_id] = found = {}
        for region in split_regions(nb.cells[piece.solution_index].source)[1]:
            tree = ast.parse(textwrap.dedent("\n".join(region)))
            parents = {
                child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)
            }
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id in names:
                    found.setdefault(node.id, []).append(parents.get(node))
    return uses


def judged(chapter: str, piece: str, code: str) -> str:
    judge = JudgedChapter(chapter, LIMITS)
    return judge.judged(judge.learner(**{piece: code}), only=(piece,))[piece].message


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_an_error_raised_in_code_the_learner_called_names_their_function_never_the_given_code(
    chapter,
):
    if chapter in GIVEN_CALLED:
        piece, slip, starts, where, cause = GIVEN_CALLED[chapter]
        message = judged(chapter, piece, slip)
        assert message.startswith(starts), message
        assert f"It was {where}: check what your code passes to it. {cause}" in message, message
        assert (
            GIVEN in message
            and f"called from your {piece}" in message
            and "fix it there" not in message
        )
        return
    names, (piece, slip, starts, where) = NOT_CALLED[chapter]
    uses = given_uses(chapter)
    used = {name for found in uses.values() for name in found}
    assert used == names, (
        f"{chapter}: graded pieces now use given {sorted(used - names)}: give a slip"
    )
    # Value only as a constructor, whose given __init__ only stores its arguments: nothing there can
    # raise
    assert all(
        isinstance(parent, ast.Call)
        for found in uses.values()
        for nodes in found.values()
        for parent in nodes
    ), uses
    if names:
        init = next(
            node
            for node in given_names(chapter)["Value"].body
            if isinstance(node, ast.FunctionDef) and node.name == "__init__"
        )
        assert all(
            isinstance(line, ast.Assign) and all(isinstance(t, ast.Attribute) for t in line.targets)
            for line in init.body
            if not isinstance(line, ast.Expr)
        ), ast.unparse(init)
    # a visible test's message is wrapped for Validate
    message = " ".join(judged(chapter, piece, slip).split())
    assert message.startswith(starts) and where in message, message
    assert "given code" not in message
    # the mistakes of the pieces that call anything (given code, an earlier exercise), as Validate
    # shows them
    calling = {p for p, found in uses.items() if found} | {piece}
    for variant in chapter_variants()[chapter].MISTAKES:
        if variant.piece in calling:
            shown = visible_failure(chapter, variant.piece, variant.code) or ""
            assert "given code" not in shown and "fix it there" not in shown, (variant.name, shown)


def test_an_error_raised_in_the_judges_stand_in_names_the_course_version_called_by_the_learner():
    """The frames the worker reports (cell, line, function), innermost last: the stand-in for an
    earlier exercise is named as the course's version of it, never as the learner's code to fix."""
    frames = [
        ["<your init_params>", 27, "init_params"],
        ["<your init_params>", 27, "<dictcomp>"],
        ["<stand-in param_shapes>", 3, "param_shapes"],
    ]
    said = where_raised_in_worker(frames, AttributeError("'int' object has no attribute 'n_embd'"))
    assert said == (
        f"It was raised in param_shapes {STAND_IN}, called from your "
        "init_params (line 27): check what your code passes to it. Likely "
        "cause: param_shapes got an int where it needs an object with .n_embd."
    ), said


@pytest.mark.parametrize(
    "error, cause",
    [
        (
            AttributeError("'float' object has no attribute 'data'"),
            "softmax got a float where it needs a Value.",
        ),
        (
            AttributeError("'NoneType' object has no attribute 'data'"),
            "softmax got None (a function without return?)",
        ),
        (
            AttributeError("'int' object has no attribute 'n_embd'"),
            "softmax got an int where it needs an object with .n_embd.",
        ),
        (
            TypeError("list indices must be integers or slices, not str"),
            "softmax got a str where it needs an int",
        ),
        (
            TypeError("object of type 'int' has no len()"),
            "softmax got an int where it needs a list.",
        ),
        (
            TypeError("unsupported operand type(s) for *: 'Value' and 'list'"),
            "softmax got a whole list where",
        ),
        (TypeError("'list' object is not callable"), None),
        (IndexError("list index out of range"), "softmax got an index past the end of a list"),
        (ValueError("math domain error"), None),
        (ValueError("max() arg is an empty sequence"), "softmax got an empty list where it needs"),
    ],
)
def test_the_likely_cause_is_named_only_when_the_error_tells_it(error, cause):
    from autograder.learner.course_tools import likely_cause

    said = likely_cause(error, "softmax")
    assert said.startswith(f"Likely cause: {cause}") if cause else said == "", said


# --------------------------------------------------------------------------- the same, in the
# learner's kernel

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def kernel_error(nb: nbformat.NotebookNode, folder: Path) -> list[str]:
    """Run nb's cells in a real kernel in folder, up to and including the first that fails; the
    lines its error output shows (colours removed), as Validate and the notebook show them."""
    nbclient.NotebookClient(
        nb,
        timeout=120,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    ).execute()
    errors = [
        output
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.output_type == "error"
    ]
    assert errors, "no cell failed"
    return ANSI.sub("", "\n".join(errors[0].traceback)).split("\n")


@pytest.mark.parametrize("chapter", sorted(GIVEN_CALLED))
def test_in_the_kernel_an_error_raised_in_given_code_is_led_by_the_same_sentence(chapter):
    """The visible test's failure in the learner's notebook: the error's own line, then the sentence
    the judge writes (the given function, the learner's function and line, the likely cause), before
    the traceback."""
    piece, slip, starts, where, cause = GIVEN_CALLED[chapter]
    nb = replace_regions(_source(chapter), {piece: slip})
    tests = next(
        i
        for i, cell in enumerate(nb.cells)
        if nbgrader_meta(cell).get("grade_id") == f"{piece}_tests"
    )
    nb.cells = nb.cells[: tests + 1]
    lines = kernel_error(nb, PROJECT / "chapters" / chapter)
    assert lines[0] == starts.removesuffix(" (in the visible test"), lines[:6]
    note = " ".join(lines[1 : lines.index("")])
    assert note.startswith(f"It was {where}") and note.endswith(
        f"check what your code passes to it. {cause}"
    ), note
    # whole within Validate's cut
    assert all(len(line) <= 80 for line in lines[: lines.index("")]), lines


def test_in_the_kernel_only_errors_raised_in_given_code_called_by_the_learner_get_the_sentence(
    tmp_path,
):
    """A given cell (marked by its first line, as the builder writes it), the learner's cell and a
    tests cell with a spy standing between them: the sentence names the given function the learner's
    code reached, past the spy; an error raised in the test's own stand-in is named as the tests'
    code; an error raised in the learner's own code, or in given code the test called itself, gets
    no sentence. Every error's own line comes first."""
    shutil.copy(Path(course_tools.__file__), tmp_path / "course_tools.py")
    given = (
        f"{course_tools.GIVEN_HEADER}: scale. Run this cell; leave it as it is.\ndef scale(x, k):\n"
        "    return [k * v for v in x]\n"
    )
    yours = (
        "def double(x):\n    if x == []:\n"
        "        raise ValueError('empty')\n    return scale(x, [2])\n"
    )
    spy = "real = scale\ndef watched(x, k):\n    return real(x, k)\nscale = watched\n"

    def first_lines(*tests):
        cells = [
            nbformat.v4.new_code_cell(s) for s in (given, yours, "import course_tools", *tests)
        ]
        lines = kernel_error(nbformat.v4.new_notebook(cells=cells), tmp_path)
        return lines[: lines.index("") if "" in lines else 3]

    note = " ".join(first_lines(spy + "double([1.0])"))
    assert note.startswith(
        "TypeError: can't multiply sequence by non-int of type 'float' It was raised in scale "
        f"({course_tools.GIVEN}), called from your double (line 4), at `return scale(x, [2])`: "
        "check what your code passes to it. Likely cause: scale got a whole list"
    ), note
    assert "It was raised" not in " ".join(first_lines("double([])")), (
        "raised in the learner's own code"
    )
    assert "It was raised" not in " ".join(first_lines("scale([1.0], [2])")), (
        "given code the test called"
    )
    # a test's stand-in, given what it cannot use by the learner's code: named as the tests' code
    stand_in = "def watched(x, k):\n    return x // k\nscale = watched\ndouble([1.0])"
    note = " ".join(first_lines(stand_in))
    assert (
        "It was raised in watched (the visible tests' own code, standing in or watching: leave it "
        "as it is), called from your double (line 4)" in note
    ), note
    # a failed comparison: its message first, where Validate and the notebook show the top
    failed = first_lines("from course_tools import expect_equal\nexpect_equal('twice 1', 1, 2)")
    assert failed[0] == "AssertionError: twice 1: the result is 1; expected 2", failed
