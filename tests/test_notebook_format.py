"""autograder.notebook_format, the one home of the notebook format: read as nbgrader reads it, on
the real chapter notebooks and on made-up cells."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder import notebook_format as fmt

PROJECT = Path(__file__).resolve().parents[1]
CHAPTERS = fmt.chapter_names(PROJECT / "chapters")
CELL = """def f(x):
    \"\"\"Twice x.\"\"\"
    ### BEGIN SOLUTION
    y = x

    return 2 * y
    ### END SOLUTION


def g():
    ### BEGIN SOLUTION
    return 1
    ### END SOLUTION"""


@pytest.fixture(scope="module", params=CHAPTERS)
def source_nb(request):
    return nbformat.read(
        PROJECT / "chapters" / request.param / f"{request.param}.ipynb", as_version=4
    )


def test_markers_and_stubs_are_nbgraders_own():
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    solutions, hidden = ClearSolutions(), ClearHiddenTests()
    assert (fmt.BEGIN_SOLUTION, fmt.END_SOLUTION) == (
        solutions.begin_solution_delimeter,
        solutions.end_solution_delimeter,
    )
    assert (fmt.BEGIN_HIDDEN, fmt.END_HIDDEN) == (
        hidden.begin_test_delimeter,
        hidden.end_test_delimeter,
    )
    assert (fmt.CODE_STUB, fmt.TEXT_STUB) == (solutions.code_stub["python"], solutions.text_stub)
    assert fmt.marker_line(fmt.BEGIN_SOLUTION) == "### BEGIN SOLUTION"
    with pytest.raises(AttributeError, match="NO_SUCH_MARKER"):
        fmt.NO_SUCH_MARKER  # noqa: B018


def test_regions_split_and_join_back():
    fixed, regions = fmt.split_regions(CELL)
    assert len(fixed) == len(regions) + 1 == 3
    assert regions == [["    y = x", "", "    return 2 * y"], ["    return 1"]]
    assert fixed[0] == ["def f(x):", '    """Twice x."""']
    # the regions put back (dedented, then indented like their begin line): the cell without its
    # marker lines
    back = fmt.with_regions(CELL, ["\n".join(r) for r in regions])
    assert back == "\n".join(line for line in CELL.split("\n") if "SOLUTION" not in line)
    assert fmt.with_regions(CELL, ["return 3", "  a = 1\n  return a"]).split("\n")[2:4] == [
        "    return 3",
        "",
    ]
    assert fmt.with_regions(CELL, ["return 3", "  a = 1\n  return a"]).endswith(
        "def g():\n    a = 1\n    return a"
    )
    stubbed = fmt.stub_solutions(CELL)
    assert (
        stubbed.count("    # YOUR CODE HERE\n    raise NotImplementedError()") == 2
        and "SOLUTION" not in stubbed
    )


def test_a_region_left_open_runs_to_the_end_of_the_cell():
    fixed, regions = fmt.split_regions("a\n### BEGIN SOLUTION\nb\nc")
    assert (fixed, regions) == ([["a"], []], [["b", "c"]])
    assert fmt.split_hidden("x = 1\n### BEGIN HIDDEN TESTS\ncheck()") == ("x = 1", "check()")


def test_stubs_and_visible_tests_are_what_nbgrader_releases(source_nb):
    from nbgrader.preprocessors import ClearHiddenTests, ClearSolutions

    released = ClearHiddenTests().preprocess(
        ClearSolutions().preprocess(copy.deepcopy(source_nb), {})[0], {}
    )[0]
    for mine, theirs in zip(source_nb.cells, released.cells):
        if fmt.is_exercise(mine):
            assert fmt.stub_solutions(mine.source) == theirs.source
        elif fmt.is_tests(mine):
            visible, hidden = fmt.split_hidden(mine.source)
            assert visible == theirs.source and "check_" in hidden
        elif fmt.is_written_answer(mine):
            assert theirs.source == fmt.TEXT_STUB
        else:
            assert mine.source == theirs.source


def test_cell_kinds_and_pieces_of_a_real_chapter(source_nb):
    kinds = [fmt.cell_kind(c) for c in source_nb.cells]
    assert kinds[0] == "markdown" and "solution" in kinds and "tests" in kinds
    for cell, kind in zip(source_nb.cells, kinds):
        assert fmt.is_exercise(cell) == (kind == "solution")
        assert fmt.is_tests(cell) == (kind == "tests")
        assert fmt.is_written_answer(cell) == (kind == "answer")
        assert fmt.is_locked(cell) == (kind in ("fetch", "given", "tests")), (kind, cell.metadata)
    pieces = fmt.graded_pieces(source_nb)
    exercises = [i for i, kind in enumerate(kinds) if kind == "solution"]
    assert [p.solution_index for p in pieces] == exercises  # one tests cell per exercise, after it
    for piece in pieces:
        assert piece.solution_index < piece.grade_index
        assert kinds[piece.solution_index + 1 : piece.grade_index].count("solution") == 0
        assert (
            fmt.nbgrader_meta(source_nb.cells[piece.solution_index])["grade_id"]
            == piece.solution_id
        )
    written = sum(
        fmt.nbgrader_meta(c)["points"] for c in source_nb.cells if fmt.is_written_answer(c)
    )
    assert sum(p.points for p in pieces) + written == sum(fmt.points(source_nb).values())
    assert fmt.hidden_lines(source_nb) and all(
        line.startswith(("from autograder", "check_")) for line in fmt.hidden_lines(source_nb)
    )


def test_the_pieces_of_chapter_2():
    nb = nbformat.read(
        PROJECT / "chapters" / "02_tokenization" / "02_tokenization.ipynb", as_version=4
    )
    pieces = fmt.graded_pieces(nb)
    assert [p.solution_id for p in pieces] == ["build_vocab", "encode", "decode"]
    assert sum(p.points for p in pieces) == 4


def test_a_learners_notebook_is_the_release_filled_in():
    source = new_notebook(
        cells=[
            new_markdown_cell("# 1 point"),
            new_code_cell(CELL, metadata={"nbgrader": {"solution": True, "grade_id": "f"}}),
            new_code_cell("x", metadata={"nbgrader": {"solution": True, "grade_id": "h"}}),
        ]
    )
    release = copy.deepcopy(source)
    for cell in release.cells[1:]:
        cell.source = fmt.stub_solutions(cell.source)
    learner = fmt.submission(source, release, answers={"h": "mine"}, stubs={"f"})
    assert [c.source for c in learner.cells] == ["# 1 point", release.cells[1].source, "mine"]
    assert (
        fmt.submission(source, release).cells[1].source == CELL and release.cells[2].source == "x"
    )


def test_chapters_resolve_by_number_full_name_or_name():
    known = ["01_autograd", "02_tokenization", "10_experiments"]
    assert fmt.resolve_chapters(["1", "01", "01_autograd", "autograd", " 2 ", "10"], known) == [
        "01_autograd",
        "02_tokenization",
        "10_experiments",
    ]
    assert fmt.chapter_aliases("01_autograd") == ["01_autograd", "autograd", "01", "1"]
    assert fmt.match_chapter("auto", known) is None


@pytest.mark.parametrize("bad", ["99", "", "auto", "1x", "01-autograd", "-1"])
def test_an_unknown_chapter_is_a_clear_error(bad):
    with pytest.raises(fmt.UnknownChapter) as error:
        fmt.resolve_chapters(["1", bad], ["01_autograd", "02_tokenization"], "chapters")
    assert (
        str(error.value)
        == f"no chapter {bad!r} in chapters (chapters: 01_autograd, 02_tokenization)"
    )


def test_chapter_folders_are_named_NN_name(tmp_path):
    for name in ("01_a", "2_b", "03-c", "04_d", "05_e"):
        (tmp_path / name).mkdir()
        (tmp_path / name / f"{name}.ipynb").write_text("{}")
    (tmp_path / "05_e" / "05_e.ipynb").unlink()
    assert fmt.chapter_names(tmp_path) == ["01_a", "04_d"]
    assert fmt.chapter_names(PROJECT / "autograder" / "chapter_sources", ".py") == CHAPTERS


def test_every_data_file_is_shipped_by_a_chapter_that_names_it():
    shipped = {}
    for chapter in CHAPTERS:
        nb = nbformat.read(PROJECT / "chapters" / chapter / f"{chapter}.ipynb", as_version=4)
        files = fmt.shipped_files(nb)
        assert files["course_tools.py"] == fmt.COURSE_TOOLS
        shipped.update(files)
    assert set(shipped) == {"course_tools.py", *fmt.DATA_FILES}
    assert all(
        path == fmt.REPOSITORY_DATA / name
        for name, path in shipped.items()
        if name in fmt.DATA_FILES
    )


def test_one_notebook_size_limit_for_collect_and_grade():
    from autograder.pipeline import collect, grade

    assert (
        collect.MAX_NOTEBOOK_BYTES
        == grade.MAX_NOTEBOOK_BYTES
        == fmt.MAX_NOTEBOOK_BYTES
        == 20 * 2**20
    )
