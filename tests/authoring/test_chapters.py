"""Every chapter notebook in chapters/: built from its source, valid for nbgrader, passing nbval,
released without answers, and graded fairly (full marks, zero, one piece wrong = that piece lost).

One temporary nbgrader course per chapter (module-scoped fixture): release once, then
autograde every made-up learner in one loop (trial_grading.trial_grade, the tests' support code).
Run with the project's .venv/bin first on PATH (nbgrader calls `alembic` by name).
"""

import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest

import trial_grading
from autograder import notebook_format as fmt
from autograder.authoring import build_chapters
from autograder.notebook_format import (
    is_exercise,
    is_grade,
    is_solution,
    is_written_answer,
    nbgrader_meta,
)

ROOT = Path(__file__).resolve().parents[2]
SANITIZE = Path(__file__).parents[1] / "nbval_sanitize.cfg"
CHAPTER_DIRS = (
    sorted(p for p in (ROOT / "chapters").iterdir() if (p / f"{p.name}.ipynb").exists())
    if (ROOT / "chapters").is_dir()
    else []
)
MICROGPT_IMPORT = re.compile(r"^\s*(from|import)\s+microgpt\b", re.MULTILINE)
CHECK_NAME = re.compile(r"\bcheck_\w+")


@pytest.fixture(scope="module", params=CHAPTER_DIRS, ids=[p.name for p in CHAPTER_DIRS])
def chapter(request):
    return request.param


@pytest.fixture(scope="module")
def source_nb(chapter):
    return nbformat.read(chapter / f"{chapter.name}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def graded(chapter, tmp_path_factory):
    """Release the chapter and autograde source, release and one-piece-wrong submissions."""
    result = trial_grading.trial_grade(chapter, tmp_path_factory.mktemp(f"course-{chapter.name}"))
    print(f"\n{trial_grading.report(result)}")
    return result


def _hidden_blocks(nb):
    return [
        (nbgrader_meta(c)["grade_id"], fmt.split_hidden(c.source)[1])
        for c in nb.cells
        if is_grade(c)
    ]


# --------------------------------------------------------------------------- a. no drift


def test_notebook_and_text_source_match_a_fresh_build(chapter):
    problems = build_chapters.check_chapter(build_chapters.Chapter(chapter.name))
    assert not problems, (
        f"{chapter.name} differs from what its source and the reference make now "
        f"(rebuild: python -m autograder.authoring.build_chapters {chapter.name[:2]}):\n  "
        + "\n  ".join(problems)
    )


# --------------------------------------------------------------------------- b. nbgrader metadata


def test_nbgrader_metadata_is_valid_and_every_piece_is_graded(source_nb):
    from nbgrader.nbgraderformat import MetadataValidator

    # schema 3, grade ids present and unique, points on grade cells
    MetadataValidator().validate_nb(source_nb)
    ids = [nbgrader_meta(c)["grade_id"] for c in source_nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade ids: {ids}"
    exercises = [nbgrader_meta(c)["grade_id"] for c in source_nb.cells if is_exercise(c)]
    graded_pieces = trial_grading.pieces(source_nb)
    assert exercises and [piece for piece, _ in graded_pieces] == exercises, graded_pieces
    total = sum(fmt.points(source_nb).values())
    assert re.search(rf"(?<![\d.]){total:g} points?\b", source_nb.cells[0].source), (
        f"the first Markdown cell states the chapter's {total:g} points"
    )


def test_notebook_opens_clean_and_fits_a_laptop_screen(source_nb):
    # Jupyter marks a notebook modified on opening when language_info lacks the kernel's version
    assert source_nb.metadata.language_info.get("version"), "language_info has no version"
    long_lines = [
        line
        for cell in source_nb.cells
        if cell.cell_type == "code"
        for line in cell.source.split("\n")
        if len(line) > build_chapters.MAX_LINE
    ]
    assert not long_lines, (
        f"{len(long_lines)} code lines over {build_chapters.MAX_LINE} characters: {long_lines[:3]}"
    )


# --------------------------------------------------------------------------- c. nbval


def test_stored_outputs_match_a_fresh_run(chapter):
    env = dict(
        os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    )
    env.pop("NBGRADER_EXECUTION", None)
    notebook = chapter / f"{chapter.name}.ipynb"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(SANITIZE),
        str(notebook),
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
    ]
    started = time.perf_counter()
    run = subprocess.run(
        command,
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        stdin=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - started
    print(f"\n{chapter.name}: nbval {seconds:.1f} s")
    assert run.returncode == 0, (
        f"nbval failed on {notebook.relative_to(ROOT)}:\n{run.stdout[-6000:]}{run.stderr[-2000:]}"
    )


# --------------------------------------------------------------------------- d. the release


def test_release_holds_no_answers_and_no_hidden_tests(graded):
    source, release = graded.source_nb, graded.release_nb
    text = nbformat.writes(release)
    sources = "\n".join(c.source for c in release.cells)
    release_lines = {ln.strip() for ln in sources.split("\n")}

    # solutions: each solution cell is its source with the regions stubbed, and no line of a
    # region is a line of the release unless the source shows that line outside the regions too
    public = set()
    for cell in source.cells:
        outside = sum(fmt.split_regions(cell.source)[0], [])
        public.update(ln.strip() for ln in fmt.split_hidden("\n".join(outside))[0].split("\n"))
    released = {nbgrader_meta(c)["grade_id"]: c for c in release.cells if nbgrader_meta(c)}
    for cell in source.cells:
        if is_written_answer(cell):  # the rubric becomes the text stub
            grade_id = nbgrader_meta(cell)["grade_id"]
            assert released[grade_id].source == fmt.TEXT_STUB, (
                f"written answer {grade_id!r} shows its rubric"
            )
            continue
        if not is_solution(cell):
            continue
        grade_id = nbgrader_meta(cell)["grade_id"]
        assert grade_id in released, f"solution cell {grade_id!r} is missing from the release"
        assert released[grade_id].source == fmt.stub_solutions(cell.source), (
            f"released {grade_id!r} is not its source with the solution stubbed out"
        )
        for region in fmt.split_regions(cell.source)[1]:
            for line in region:
                if line.strip() and line.strip() not in public:
                    assert line.strip() not in release_lines, (
                        f"the release shows solution code: {line.strip()!r}"
                    )

    # hidden tests: no markers, no autograder, no check names used by hidden blocks
    assert "autograder" not in text, "the release mentions autograder (a hidden test left in?)"
    assert "HIDDEN TESTS" not in text, "the release still holds a hidden-test marker"
    for grade_id, block in _hidden_blocks(source):
        for name in CHECK_NAME.findall(block):
            assert name not in text, f"the release mentions {name} (hidden test of {grade_id})"
    assert not MICROGPT_IMPORT.search(sources), "the release imports microgpt"

    # files: the notebook and what the chapter ships (helpers, data), nothing compiled or private
    shipped = fmt.shipped_files(source)
    assert sorted(graded.release_files) == sorted([f"{graded.assignment}.ipynb", *shipped]), (
        graded.release_files
    )
    tools = (graded.course.release_dir / "course_tools.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+(microgpt|autograder)\b", tools, re.MULTILINE), (
        "course_tools.py imports the reference or the checks"
    )


def _code_lines(text):
    """The lines of code in text, each stripped with its spaces collapsed; blank and comment lines
    left out."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.split("\n"))
    return [line for line in lines if line and not line.startswith("#")]


def _answers(source_nb):
    """{(piece, what): code lines} of each exercise: its solution regions, and the body of the
    reference's function of the same name (which a given cell would copy)."""
    import ast
    import inspect

    import microgpt

    found = {}
    for cell in source_nb.cells:
        if not is_exercise(cell):
            continue
        piece = nbgrader_meta(cell)["grade_id"]
        for number, region in enumerate(fmt.split_regions(cell.source)[1], start=1):
            found[piece, f"solution region {number}"] = _code_lines("\n".join(region))
        for node in ast.parse(fmt.stub_solutions(cell.source)).body:
            reference = getattr(microgpt, getattr(node, "name", ""), None)
            if inspect.isfunction(reference):
                text = textwrap.dedent(inspect.getsource(reference))
                body = ast.parse(text).body[0].body
                body = (
                    body[1:]
                    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                    else body
                )
                found[piece, f"the reference's {node.name}"] = _code_lines(
                    "\n".join(ast.get_source_segment(text, stmt) for stmt in body)
                )
    return found


def _holds(lines, body):
    return any(lines[i : i + len(body)] == body for i in range(len(lines) - len(body) + 1))


def test_no_release_holds_the_answer_to_this_or_a_later_chapter(graded):
    """A chapter gives the earlier chapters' pieces (so that it runs on its own) and nothing of its
    own or a later chapter's graded work: no exercise's solution, nor the reference's function it
    asks for."""
    released = _code_lines(
        "\n".join(c.source for c in graded.release_nb.cells if c.cell_type == "code")
    )
    found = []
    for chapter in (d for d in CHAPTER_DIRS if d.name >= graded.assignment):
        nb = (
            graded.source_nb
            if chapter.name == graded.assignment
            else nbformat.read(chapter / f"{chapter.name}.ipynb", as_version=4)
        )
        found += [
            f"release/{graded.assignment}/{graded.assignment}.ipynb "
            f"holds {what} of {chapter.name}'s graded piece {piece}"
            for (piece, what), body in _answers(nb).items()
            if _holds(released, body)
        ]
    assert not found, "\n".join(found)


# --------------------------------------------------------------------------- e, f, g. grading


def test_source_notebook_scores_full_marks(graded):
    score, max_score = graded.totals["source"]
    assert max_score == graded.max_points, (
        f"gradebook max {max_score}, notebook points {graded.max_points}"
    )
    assert score == graded.auto_points, (
        f"the source notebook scores {score}/{graded.auto_points} "
        f"automatic points; lost: {graded.lost('source')}"
    )
    manual = [g for g, (_, _, needs_manual) in graded.grades["source"].items() if needs_manual]
    assert manual == graded.manual, (
        f"cells flagged for grading by hand: {manual}; written answers: {graded.manual}"
    )


def test_untouched_release_scores_zero(graded):
    score, max_score = graded.totals["release"]
    assert score == 0, f"the blank release scores {score}/{max_score}: " + ", ".join(
        f"{g} {s:g}" for g, (s, _, _) in graded.grades["release"].items() if s
    )


def test_each_wrong_piece_loses_exactly_its_points(graded):
    failures = []
    for piece, grade_ids in graded.pieces:
        student = f"wrong_{piece}"
        lost = graded.lost(student)
        score, _ = graded.totals[student]
        expected = graded.auto_points - sum(graded.points[g] for g in grade_ids)
        if lost != sorted(grade_ids) or score != expected:
            failures.append(
                f"{piece} wrong: lost {lost} ({score:g}/{graded.auto_points:g}), "
                f"expected to lose only {sorted(grade_ids)} ({expected:g})"
            )
    assert not failures, "\n".join(failures)


def test_the_judge_gives_every_trial_submission_the_kernels_points(graded):
    """`microgpt-course grade` records the points of the judge (each piece run on its own in a
    sandbox, with only the instructor cells it depends on): on this chapter's trial submissions they
    must be exactly the points nbgrader's kernel run gave, piece by piece."""
    from autograder.pipeline.confirm import check_pieces

    course, name = graded.course, graded.assignment
    differences = []
    for student, grades in graded.grades.items():
        submitted = course.root / "submitted" / student / name / f"{name}.ipynb"
        confirmed = {
            r.grade_id: r.points
            for r in check_pieces(course.root / "chapters" / name / f"{name}.ipynb", submitted)
        }
        in_kernel = {
            grade_id: score
            for grade_id, (score, _, _) in grades.items()
            if grade_id not in graded.manual
        }
        if confirmed != in_kernel:
            differences.append(f"{student}: the kernel gave {in_kernel}, the judge {confirmed}")
    assert not differences, "\n".join(differences)


VISIBLE_CHECK = re.compile(
    r"\b(expect_\w+|check_probabilities|check_shape|check_rms_near_one|gradient_check)\("
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def test_no_check_passes_before_its_exercise_is_written(graded):
    """In the blank release as nbgrader ran it, each tests cell fails with the sentence that its own
    exercise is not written yet, and every other cell that checks what an exercise made fails too
    (never "ok" on nothing, as a comparison of 0 losses with the recorded run's 0 would)."""
    from autograder.learner.course_tools import not_written
    from autograder.pipeline.dependencies import cell_names
    from autograder.pipeline.judge import defined_functions

    name = graded.assignment
    nb = nbformat.read(
        graded.course.root / "autograded" / "release" / name / f"{name}.ipynb", as_version=4
    )
    piece_of = {
        nbgrader_meta(nb.cells[p.grade_index])["grade_id"]: p.solution_id
        for p in fmt.graded_pieces(nb)
    }
    unwritten, problems = set(), []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if is_exercise(cell):
            unwritten |= set(defined_functions(cell.source))
            continue
        names = cell_names(cell.source)
        depends = bool(names.reads & unwritten)
        if depends:
            unwritten |= names.binds
        errors = [
            " ".join(ANSI.sub("", "\n".join(o.traceback)).split())
            for o in cell.outputs
            if o.output_type == "error"
        ]
        grade_id = nbgrader_meta(cell).get("grade_id")
        if grade_id in piece_of:
            sentence = not_written(piece_of[grade_id])
            if not errors or sentence not in errors[0]:
                problems.append(
                    f"tests cell {grade_id}: {errors[0][-200:] if errors else 'passed'}; expected "
                    f"{sentence!r}"
                )
        elif depends and VISIBLE_CHECK.search(cell.source) and not errors:
            problems.append(
                f"cell {index} checks what an unwritten exercise made and passed: "
                f"{''.join(o.get('text', '') for o in cell.outputs)[-200:]!r}"
            )
    assert not problems, f"{name}'s blank release:\n" + "\n".join(problems)


def test_feedback_hides_the_hidden_tests(graded):
    html = graded.course.feedback("source")
    assert "HIDDEN TESTS" not in html and "autograder.checks" not in html


# --------------------------------------------------------------------------- h. validate tells the
# truth


def test_validate_fails_on_the_release_and_on_a_wrong_piece_and_passes_correct_work(graded):
    course, pieces = graded.course, graded.pieces
    state, failed = course.validate("release", graded.release_nb)
    every_graded_cell = [
        nbgrader_meta(c)["grade_id"] for c in graded.release_nb.cells if is_grade(c)
    ]
    assert state == "failed" and failed == every_graded_cell, (
        f"validate on the untouched release: {state}, "
        f"failing {failed}; every tests cell and unanswered written answer should fail"
    )
    piece, grade_ids = pieces[-1]
    state, failed = course.validate(
        "wrong", fmt.submission(graded.source_nb, graded.release_nb, stubs={piece})
    )
    assert (state, failed) == ("failed", grade_ids), (
        f"validate with {piece} left undone: {state}, failing {failed}"
    )
    state, failed = course.validate("correct", fmt.submission(graded.source_nb, graded.release_nb))
    assert (state, failed) == ("passed", []), f"validate on correct work: {state}, failing {failed}"


# --------------------------------------------------------------------------- i. a release runs on
# its own


# run first in the kernel: this environment has the reference and the checks installed, a learner's
# has not
WITHOUT_THE_COURSE = """import sys


class CourseBlocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("microgpt", "autograder"):
            raise ImportError(f"{name} is not installed where a learner works")


sys.meta_path.insert(0, CourseBlocker())"""


def test_a_released_chapter_runs_alone_in_any_folder(graded, tmp_path):
    """The release folder, copied alone elsewhere with correct work filled in, runs without error
    and without the reference or the checks."""
    folder = tmp_path / "somewhere else" / graded.assignment
    shutil.copytree(graded.course.release_dir, folder)
    nb = fmt.submission(graded.source_nb, graded.release_nb)
    nb.cells.insert(0, nbformat.v4.new_code_cell(WITHOUT_THE_COURSE))
    env = {k: v for k, v in os.environ.items() if k not in ("MICROGPT_DATA", "NBGRADER_EXECUTION")}
    env.update(HOME=str(tmp_path), PYTHONDONTWRITEBYTECODE="1")
    started = time.perf_counter()
    build_chapters.execute_notebook(nb, folder, env=env)
    print(f"\n{graded.assignment}: the release ran alone in {time.perf_counter() - started:.1f} s")


# --------------------------------------------------------------------------- the builder itself

SOLUTION = """# %% exercise=double
def double(x):
    \"\"\"2 * x.\"\"\"
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
"""
TESTS = """# %% tests=double points=1
assert double(2) == 4
### BEGIN HIDDEN TESTS
from autograder.checks import check_double
check_double(double)
### END HIDDEN TESTS
"""
GOOD = "# %% [markdown]\n# Title, 1 point\n\n" + SOLUTION + "\n" + TESTS
TOOLBAR_TESTS = (
    '# %% nbgrader={"grade": true, "grade_id": "double_tests", "locked": false, "points": 1, '
    '"schema_version": 3, "solution": false}'
)


def _source(tmp_path, text, name="09_try"):
    path = tmp_path / name / f"{name}.py"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return build_chapters.Chapter(name, path, tmp_path / "chapters" / name)


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("x = 1\n" + GOOD, 1, "every cell starts with a `# %%` line"),
        ("# %%\nx = 1\n" + GOOD, 1, "the first cell is Markdown"),
        (GOOD.replace("points=1", "points=0"), 11, "points must be a positive number"),
        (GOOD.replace("exercise=double", 'exercise="dou ble"'), 4, "may only use letters"),
        (
            GOOD.replace("tests=double", "tests=triple"),
            11,
            "these are the tests of 'triple', but the exercise above",
        ),
        (GOOD.replace("points=1", "points=1 pionts=2"), 11, "unknown header word 'pionts'"),
        (GOOD.replace("exercise=double", "exercise=double fetch"), 4, "not several"),
        (
            GOOD.replace("# %% tests=double", "# %% answer=double"),
            11,
            "answer marks a markdown cell",
        ),
        (
            GOOD.replace("# %% exercise=double", "# %% exercise=double points=1"),
            4,
            "only tests and written answers",
        ),
        (GOOD.replace("# %% tests=double points=1", TOOLBAR_TESTS), 11, "this is none of them"),
        (
            GOOD.replace(
                "# %% tests=double points=1",
                TOOLBAR_TESTS.replace('"double_tests"', '"dt"').replace(
                    '"locked": false', '"locked": true'
                ),
            ),
            11,
            "followed by _tests",
        ),
        (
            GOOD.replace("# Title", "# Title ### BEGIN SOLUTION"),
            1,
            "solution markers outside an exercise cell",
        ),
        (GOOD.replace("    ### END SOLUTION\n", ""), 4, "not closed"),
        (GOOD.replace("check_double(double)\n", "check_double(double)\nprint(1)\n"), 13, "exactly"),
        (
            GOOD.replace("### END HIDDEN TESTS\n", "### END HIDDEN TESTS\nprint(1)\n"),
            16,
            "closes the tests cell",
        ),
        (
            GOOD.replace("assert double(2) == 4", "import autograder"),
            11,
            "only the hidden block may use autograder",
        ),
        (GOOD.replace("    return 2 * x\n", "    import microgpt\n"), 8, "never import microgpt"),
        (
            GOOD.replace("    return 2 * x\n", "    return open('../data/x')\n"),
            8,
            "a path out of the chapter folder",
        ),
        (
            GOOD.replace("    return 2 * x\n", "    return " + "x + " * 30 + "x\n"),
            8,
            "a line of 132 characters",
        ),
        (GOOD + "\n" + SOLUTION + "\n" + TESTS, 18, "already used"),
        (GOOD.replace("1 point", "one point"), 1, "must state the total, 1 points"),
        ("# %% [markdown]\n# 1 point\n\n" + SOLUTION, 4, "has no tests cell"),
        ("# %% [markdown]\n# 1 point\n\n" + TESTS + "\n" + SOLUTION, 4, "there is none"),
        (GOOD.replace("assert double(2) == 4", "def f(:"), 12, "does not parse"),
        (GOOD.replace("    return 2 * x\n", "    return (2 *\n"), 8, "does not parse"),
        (
            "# %% [markdown]\n# 1 point\n\n# %% [markdown] passage=nope\n\n"
            + SOLUTION
            + "\n"
            + TESTS,
            4,
            "no passage 'nope'",
        ),
    ],
)
def test_malformed_sources_are_rejected_with_file_and_line(tmp_path, text, line, message):
    chapter = _source(tmp_path, text)
    with pytest.raises(build_chapters.BuildError) as error:
        build_chapters.build_notebook(chapter)
    assert str(error.value).startswith(f"{build_chapters._rel(chapter.source)}:{line}:"), str(
        error.value
    )
    assert message in str(error.value)


def test_short_headers_give_nbgrader_its_metadata_and_read_back_as_written(tmp_path):
    chapter = _source(
        tmp_path,
        GOOD.replace("1 point", "3 points")
        + "\n# %% [markdown] answer=why points=2\n# A rubric.\n",
    )
    built = build_chapters.build_notebook(chapter)
    assert [c.metadata.get("nbgrader") for c in built.cells[2:]] == [
        {
            "grade": False,
            "grade_id": "double",
            "locked": False,
            "schema_version": 3,
            "solution": True,
        },
        {
            "grade": True,
            "grade_id": "double_tests",
            "locked": True,
            "points": 1,
            "schema_version": 3,
            "solution": False,
        },
        {
            "grade": True,
            "grade_id": "why",
            "locked": False,
            "points": 2,
            "schema_version": 3,
            "solution": True,
        },
    ]
    canonical = build_chapters.source_text(built)
    assert [line for line in canonical.split("\n") if line.startswith("# %%")] == [
        "# %% [markdown]",
        "# %% fetch",
        "# %% exercise=double",
        "# %% tests=double points=1",
        "# %% [markdown] answer=why points=2",
    ]
    chapter.source.write_text(canonical, encoding="utf-8")
    assert build_chapters.source_text(build_chapters.build_notebook(chapter)) == canonical
    for line in [
        "# %% given=microgpt.nn:linear,softmax",
        '# %% given="microgpt.autograd:Value microgpt.nn:relu"',
        '# %% claims={"about 0.31 ±": "x ± 0.01"} tags=["nbval-ignore-output"]',
        "# %% tests=a_b-c points=1.5",
        "# %% [markdown] passage=how_to_work",
        "# %% fetch",
    ]:
        assert build_chapters.header_line(*build_chapters.parse_header(line, "here")) == line


def _given(tmp_path, spec):
    chapter = _source(
        tmp_path, f'# %% [markdown]\n# 1 point\n\n# %% given="{spec}"\n\n' + SOLUTION + "\n" + TESTS
    )
    # after the introduction and the fetch cell
    return build_chapters.build_notebook(chapter).cells[2]


def test_given_code_is_the_reference_source_with_its_stdlib_imports(tmp_path):
    import inspect

    from microgpt import data, nn

    cell = _given(tmp_path, "microgpt.data:DataError,read_docs microgpt.nn:softmax")
    assert cell.source.startswith(
        "# Given code: DataError, read_docs, softmax. Run this cell; leave it as it is.\n"
        "from pathlib import Path\n\n\n"
    )
    assert inspect.getsource(data.read_docs).strip() in cell.source
    assert inspect.getsource(nn.softmax).strip() in cell.source
    assert "microgpt" not in cell.source and "from ." not in cell.source
    assert cell.metadata["nbgrader"] == {
        "grade": False,
        "grade_id": "given_DataError",
        "locked": True,
        "schema_version": 3,
        "solution": False,
    }
    assert (
        f'NAMES_SHA256 = "{data.NAMES_SHA256}"'
        in _given(tmp_path, "microgpt.data:NAMES_SHA256").source
    )
    long = _given(
        tmp_path,
        "microgpt.model:GPTConfig,param_shapes,init_params,parameters,empty_kv_cache "
        "microgpt.autograd:Value",
    ).source
    first, second = long.split("\n")[:2]
    assert (
        first.startswith("# Given code: GPTConfig")
        and second.startswith("# ")
        and "leave it as it is." in second
    )
    assert max(len(line) for line in long.split("\n")) <= build_chapters.MAX_LINE

    members = _given(tmp_path, "microgpt.autograd:Value(__slots__,__init__,__neg__)").source
    assert "def __init__" in members and "def __neg__" in members and "__slots__" in members
    assert (
        "def __add__" not in members
        and "def backward" not in members
        and "import math" not in members
    )

    with pytest.raises(build_chapters.BuildError, match="add microgpt.data:DataError"):
        _given(tmp_path, "microgpt.data:read_docs")
    with pytest.raises(build_chapters.BuildError, match="give it in this or an earlier given cell"):
        _given(tmp_path, "microgpt.model:param_shapes,init_params")  # Value comes from .autograd
    with pytest.raises(build_chapters.BuildError, match="defined in microgpt.nn; name that module"):
        _given(tmp_path, "microgpt.model:linear")
    with pytest.raises(build_chapters.BuildError, match="has no member nope"):
        _given(tmp_path, "microgpt.autograd:Value(nope)")


def test_build_is_deterministic_and_canonical_and_unknown_chapters_exit_2(capsys):
    chapter = build_chapters.discover_chapters()[0]
    first = build_chapters.build_notebook(chapter)
    assert build_chapters.notebook_text(first) == build_chapters.notebook_text(
        build_chapters.build_notebook(chapter)
    )
    assert build_chapters.source_text(first) == chapter.source.read_text(encoding="utf-8")
    assert build_chapters.main(["99"]) == 2
    assert (
        "no chapter '99' in autograder/chapter_sources (chapters: 01_autograd,"
        in capsys.readouterr().err
    )


def _edit_in_jupyterlab(tmp_path, name):
    """Copy a chapter into tmp_path; open its notebook as JupyterLab does (no pairing), add a
    sentence to a Markdown cell, give a tests cell one point more through nbgrader's metadata as the
    Create Assignment toolbar does (the total in the introduction follows), save. Returns (chapter,
    saved notebook, tests cell's id)."""
    from jupyter_server.services.contents.largefilemanager import LargeFileManager

    shutil.copytree(ROOT / "chapters" / name, tmp_path / "chapters" / name)
    shutil.copytree(
        build_chapters.SOURCES / name, tmp_path / "autograder" / "chapter_sources" / name
    )
    contents = LargeFileManager(root_dir=str(tmp_path))
    model = contents.get(f"chapters/{name}/{name}.ipynb")
    nb = model["content"]
    prose = next(
        c
        for i, c in enumerate(nb.cells)
        if i and c.cell_type == "markdown" and "passage" not in c.metadata
    )
    prose.source += "\n\nA sentence the instructor added."
    tests = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))
    tests.metadata["nbgrader"]["points"] += 1
    total = sum(
        c.metadata["nbgrader"]["points"]
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    )
    nb.cells[0].source = re.sub(
        r"\b\d+ points in total", f"{total} points in total", nb.cells[0].source
    )
    contents.save(model, f"chapters/{name}/{name}.ipynb")
    source = tmp_path / "autograder" / "chapter_sources" / name / f"{name}.py"
    chapter = build_chapters.Chapter(name, source, tmp_path / "chapters" / name)
    return chapter, nbformat.read(chapter.notebook, as_version=4), tests.metadata["nbgrader"]


def _assert_short_and_edited(chapter, saved, tests):
    """The chapter's source, rebuilt, has short headers, no derived bodies, and the edits."""
    text = build_chapters.source_text(build_chapters.build_notebook(chapter))
    exercise = tests["grade_id"][: -len("_tests")]
    assert f"\n# %% tests={exercise} points={tests['points']:g}\n" in text
    assert "A sentence the instructor added." in text
    assert (
        "nbgrader=" not in text
        and "# Given code" not in text
        and "def fetch_course_files" not in text
    )
    assert all(
        len(header) <= 100 or "given=" in header or "claims=" in header
        for header in text.split("\n")
        if header.startswith("# %%")
    )
    for header in (
        line for line in text.split("\n") if line.startswith(("# %% given", "# %% fetch"))
    ):
        after = text.split(header + "\n", 1)[1]
        assert after.startswith("\n# %%"), f"{header} keeps a body"
    rebuilt = build_chapters.build_notebook(chapter)
    assert [(c.cell_type, c.source, c.metadata) for c in rebuilt.cells] == [
        (c.cell_type, c.source, c.metadata) for c in saved.cells
    ]


def test_a_notebook_edited_in_jupyterlab_comes_back_into_short_headers(
    tmp_path, monkeypatch, capsys
):
    """Edited and saved in JupyterLab with nbgrader's toolbar, the notebook is not overwritten by a
    plain build; `--from-notebook` takes it into its source, which keeps the edits with short
    headers and no derived code."""
    chapter, saved, tests = _edit_in_jupyterlab(tmp_path, "03_components")
    os.utime(chapter.source, (1, 1))  # the notebook was saved after its source
    with pytest.raises(
        build_chapters.BuildError, match="was saved after its source .* --from-notebook 03"
    ):
        build_chapters.build_chapter(chapter, log=lambda text: None)
    build_chapters.take_notebook(chapter, log=lambda text: None)
    _assert_short_and_edited(chapter, saved, tests)

    monkeypatch.setattr(build_chapters, "SOURCES", chapter.source.parents[1])
    monkeypatch.setattr(build_chapters, "CHAPTERS", chapter.folder.parent)
    assert build_chapters.main(["--from-notebook", "03"]) == 0
    assert chapter.source.read_text(encoding="utf-8") == build_chapters.source_text(saved)
    assert build_chapters.check_chapter(chapter) == []


def test_a_notebook_saved_after_its_source_without_edits_is_rebuilt(tmp_path):
    """Newer than its source, but holding only what the build derives (given code from an older
    reference, stored outputs, metadata keys in JSON's order): nothing an author wrote would be
    lost, so a plain build rewrites it instead of refusing."""
    name = "03_components"
    shutil.copytree(ROOT / "chapters" / name, tmp_path / "chapters" / name)
    shutil.copytree(
        build_chapters.SOURCES / name, tmp_path / "autograder" / "chapter_sources" / name
    )
    source = tmp_path / "autograder" / "chapter_sources" / name / f"{name}.py"
    chapter = build_chapters.Chapter(name, source, tmp_path / "chapters" / name)
    nb = nbformat.read(chapter.notebook, as_version=4)
    given = next(c for c in nb.cells if "given" in c.metadata)
    given.source += "\n# as an older reference had it"
    nbformat.write(nb, chapter.notebook)
    os.utime(chapter.source, (1, 1))  # the notebook was saved after its source
    assert build_chapters.unsaved_edits(chapter, build_chapters.build_notebook(chapter)) == []


def test_a_source_synced_by_jupytext_comes_back_into_short_headers(tmp_path, capsys):
    """A source jupytext wrote from the edited notebook (full nbgrader metadata, derived bodies)
    builds into the same notebook; a given cell's edited code is dropped with a note, a shared
    passage's edit refused."""
    import jupytext
    from jupytext.config import JupytextConfiguration

    chapter, saved, tests = _edit_in_jupyterlab(tmp_path, "03_components")
    config = JupytextConfiguration(
        notebook_metadata_filter="-all",
        cell_metadata_filter="claims,computed,fetch,given,nbgrader,passage,tags,-all",
    )
    given = next(c for c in saved.cells if "given" in c.metadata)
    reference = given.source
    given.source += "\nprint('an edit')"
    chapter.source.write_text(
        jupytext.writes(saved, fmt="py:percent", config=config), encoding="utf-8"
    )
    given.source = reference
    _assert_short_and_edited(chapter, saved, tests)
    assert (
        "the given cell's code differs from the reference's (microgpt.autograd:Value); dropped it"
        in capsys.readouterr().err
    )

    passage = next((c for c in saved.cells if "passage" in c.metadata), None)
    if passage is not None:
        passage.source += " An edit."
        chapter.source.write_text(
            jupytext.writes(saved, fmt="py:percent", config=config), encoding="utf-8"
        )
        with pytest.raises(
            build_chapters.BuildError, match="differs from the passage .* edit autograder/"
        ):
            build_chapters.build_notebook(chapter)


def test_expected_values_are_computed_from_the_reference_and_read_back(tmp_path):
    """`from_reference[EXPRESSION]` in a tests cell is the value's literal in the notebook (a long
    list wrapped after its bracket), the expression again in the source; a literal edited in the
    notebook is refused."""
    from microgpt import nn
    from microgpt.autograd import Value

    probs = "[p.data for p in nn.softmax([Value(float(z)) for z in range(12)])]"
    tests = TESTS.replace(
        "assert double(2) == 4",
        f"assert double(2) == from_reference[2 * 2]\nexpected = (1, from_reference[{probs}])",
    )
    chapter = _source(tmp_path, GOOD.replace(TESTS, tests))
    built = build_chapters.build_notebook(chapter)
    cell = built.cells[-1]
    values = [p.data for p in nn.softmax([Value(float(z)) for z in range(12)])]
    assert "assert double(2) == 4\n" in cell.source and "from_reference" not in cell.source
    namespace = {}
    exec(cell.source.split("### BEGIN HIDDEN")[0].replace("assert double(2) == 4", ""), namespace)
    assert namespace["expected"] == (1, values)
    assert max(len(line) for line in cell.source.split("\n")) <= build_chapters.MAX_LINE
    assert cell.source.split("\n")[2].startswith(" " * len("expected = (1, [")), cell.source
    assert cell.metadata["computed"] == [["2 * 2", 4], [probs, values]]
    assert build_chapters.source_text(built) == build_chapters.source_text(
        build_chapters.build_notebook(chapter)
    )
    assert f"expected = (1, from_reference[{probs}])" in build_chapters.source_text(built)

    cell.source = cell.source.replace(repr(values[3]), "0.25")
    with pytest.raises(
        build_chapters.BuildError, match=r"the value of from_reference\[\[p.data .* was edited"
    ):
        build_chapters.source_text(built)
    with pytest.raises(
        build_chapters.BuildError, match=r"09_try.py:12: from_reference\[nn.nope\] raised"
    ):
        build_chapters.build_notebook(
            _source(tmp_path, GOOD.replace("== 4", "== from_reference[nn.nope]"))
        )
