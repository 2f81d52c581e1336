"""Which instructor cells a confirmation runs (autograder/pipeline/dependencies.py): the names a
cell reads and binds, its side effects, and the cells kept for the graded ones. The analysis may
keep a cell it could skip, never skip one a graded cell needs: test_chapters shows that on every
chapter."""

import pytest

from autograder.pipeline.dependencies import cell_names, needed_cells


@pytest.mark.parametrize(
    "source, reads",
    [
        # a loop variable is the cell's own
        ("for h in range(n):\n    print(h)", {"range", "n", "print"}),
        ("x = x + 1", {"x"}),  # read before it is bound
        ("x += 1", {"x"}),
        ("y = 2\nz = y * 3", set()),
        # a function's free names, not its locals
        ("def f(a):\n    b = a + c\n    return b", {"c"}),
        # a method sees the notebook's k, not A.k
        ("class A:\n    k = 1\n    def m(self):\n        return k", {"k"}),
        ("squares = [i * i for i in items if i > limit]", {"items", "limit"}),
        ("f = lambda t, s=scale: t * s + shift", {"scale", "shift"}),
        ("try:\n    pass\nexcept ValueError as error:\n    print(error)", {"ValueError", "print"}),
        ("import math\nr = math.sqrt(2)", set()),
    ],
)
def test_reads_are_the_names_taken_from_the_notebook(source, reads):
    assert set(cell_names(source).reads) == reads, source


@pytest.mark.parametrize(
    "source, binds",
    [
        ("a, (b, c) = 1, (2, 3)", {"a", "b", "c"}),
        ("import os.path as p, json\nfrom math import tau", {"p", "json", "tau"}),
        ("def f():\n    global G\n    G = 1", {"f", "G"}),
        ("class A:\n    k = 1", {"A"}),
    ],
)
def test_binds_are_the_names_left_in_the_notebook(source, binds):
    assert set(cell_names(source).binds) == binds, source


@pytest.mark.parametrize(
    "source, effect",
    [
        ("random.seed(42)", True),
        ("random.shuffle(docs)", True),
        ("rng = random.Random(42)\nrng.shuffle(docs)", False),  # a generator of its own
        ("math.sqrt(2)", False),
        ("sys.path.append('..')", True),
        ("config.n_head = 2", True),  # changes an object other cells share
        ("state_dict['wte'] = []", True),
        ("del cache[0]", True),
        ("d = {}\nd['k'] = 1\nd.k = 2", False),  # an object the cell made itself
        ("def f():\n    global G\n    G = 1", True),
        ("print('hello')", False),
        ("def broken(:", True),  # does not parse: kept
    ],
)
def test_side_effects(source, effect):
    assert cell_names(source).side_effect is effect, source


def test_keeps_given_code_exercises_and_what_tests_read_and_skips_demonstrations():
    cells = [
        (0, "import random", {"grade_id": "given_imports"}),
        (1, "def f(x):\n    return x + 1", {"grade_id": "f", "solution": True}),
        (2, "table = [f(i) for i in range(10)]\nprint(table)", {}),  # a demonstration
        (3, "expected = 2", {}),  # read by the tests
        (4, "assert f(1) == expected", {"grade_id": "f_tests", "grade": True, "points": 1}),
        # a test with an effect
        (5, "random.seed(0)", {"grade_id": "seed_tests", "grade": True, "points": 1}),
        (6, "plot = draw(table)", {}),
    ]
    assert needed_cells(cells, last=5) == {0, 1, 3, 5}


def test_a_cell_is_needed_only_by_later_readers_not_by_itself_or_earlier_cells():
    cells = [
        # reads late, bound below
        (0, "def f(x):\n    return x + late", {"grade_id": "f", "solution": True}),
        (
            1,
            "tiny = 3\ndef g():\n    return tiny\nassert f(g()) == 3",  # reads its own tiny
            {"grade_id": "f_tests", "grade": True, "points": 1},
        ),
        (2, "late = 1", {}),
        (3, "print(late)", {}),
    ]
    assert needed_cells(cells, last=1) == {0}
