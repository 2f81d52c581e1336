"""Every chapter notebook in chapters/: built from its source, valid for nbgrader, passing nbval,
released without answers, and graded fairly (full marks, zero, one piece wrong = that piece lost).

One temporary nbgrader course per chapter (module-scoped fixture): release once, then
autograde every made-up learner in one loop (autograder.grading.trial_grade).
Run with the project's .venv/bin first on PATH (nbgrader calls `alembic` by name).
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from autograder import build_chapters, grading

ROOT = Path(__file__).resolve().parents[1]
SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")
CHAPTER_DIRS = sorted(p for p in (ROOT / "chapters").iterdir() if (p / f"{p.name}.ipynb").exists()) \
    if (ROOT / "chapters").is_dir() else []
NBVAL_SECONDS = 60  # the whole notebook under nbval, kernel start included
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
    result = grading.trial_grade(chapter, tmp_path_factory.mktemp(f"course-{chapter.name}"))
    print(f"\n{grading.report(result)}")
    return result


def _hidden_blocks(nb):
    return [(grading.nbgrader_meta(c)["grade_id"], block) for c in nb.cells if grading.is_grade(c)
            for block in grading.regions(c.source, grading.BEGIN_HIDDEN, grading.END_HIDDEN)]


# --------------------------------------------------------------------------- a. no drift


def test_notebook_matches_a_fresh_build(chapter):
    source = build_chapters.SOURCES / f"{chapter.name}.cells"
    assert source.exists(), f"{chapter.name} has no source {source.relative_to(ROOT)}"
    problems = build_chapters.check_chapter(build_chapters.Chapter(chapter.name, source))
    assert not problems, (
        f"{chapter.name} differs from what its source and the reference make now "
        f"(rebuild: python -m autograder.build_chapters {chapter.name[:2]}):\n  " + "\n  ".join(problems)
    )


# --------------------------------------------------------------------------- b. nbgrader metadata


def test_nbgrader_metadata_is_valid(chapter, source_nb):
    from nbgrader.nbgraderformat import MetadataValidator

    MetadataValidator().validate_nb(source_nb)  # schema 3, grade ids present and unique, points on grade cells
    ids = [grading.nbgrader_meta(c)["grade_id"] for c in source_nb.cells if grading.nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade ids: {ids}"
    problems = []
    for index, cell in enumerate(source_nb.cells):
        meta = grading.nbgrader_meta(cell)
        where = f"cell {index} ({meta.get('grade_id', cell.cell_type)})"
        text = cell.source
        if meta and set(meta) - {"schema_version", "grade", "solution", "locked", "grade_id", "points"}:
            problems.append(f"{where}: unexpected nbgrader keys {sorted(meta)}")
        if meta.get("solution"):
            if cell.cell_type != "code" or meta.get("grade") or meta.get("locked"):
                problems.append(f"{where}: a solution cell is an unlocked, ungraded code cell")
            if text.count("### BEGIN SOLUTION") < 1 or \
                    text.count("### BEGIN SOLUTION") != text.count("### END SOLUTION"):
                problems.append(f"{where}: solution cell without matching BEGIN/END SOLUTION markers")
        elif "BEGIN SOLUTION" in text or "END SOLUTION" in text:
            problems.append(f"{where}: solution markers outside a solution cell")
        if meta.get("grade"):
            if not (meta.get("locked") and meta.get("points", 0) > 0):
                problems.append(f"{where}: a grade cell is locked and has points > 0")
            blocks = grading.regions(text, grading.BEGIN_HIDDEN, grading.END_HIDDEN)
            if text.count("### BEGIN HIDDEN TESTS") != 1 or len(blocks) != 1:
                problems.append(f"{where}: a grade cell holds exactly one BEGIN/END HIDDEN TESTS block")
            else:
                lines = [ln.strip() for ln in blocks[0].split("\n") if ln.strip()]
                calls = [ln for ln in lines if re.fullmatch(r"check_\w+\(.*\)", ln)]
                imports = [ln for ln in lines if re.fullmatch(r"from autograder\.checks import check_\w+", ln)]
                if len(lines) != 2 or len(calls) != 1 or len(imports) != 1 or \
                        imports[0].split()[-1] != calls[0].split("(")[0]:
                    problems.append(f"{where}: the hidden block is one import and a single check call: {lines}")
            outside = grading.outside_regions(text, grading.BEGIN_HIDDEN, grading.END_HIDDEN)
            if any(ln.strip() and not ln.strip().startswith("#") for ln in outside):
                problems.append(f"{where}: code outside the hidden block would be shown to learners")
        elif "BEGIN HIDDEN TESTS" in text or "END HIDDEN TESTS" in text:
            problems.append(f"{where}: hidden-test markers outside a grade cell")
        if cell.cell_type == "code" and meta and not meta.get("solution") and not meta.get("locked"):
            problems.append(f"{where}: given and visible-test cells are locked")
        if cell.cell_type == "code" and MICROGPT_IMPORT.search(text):
            problems.append(f"{where}: imports microgpt (give code with a `given` cell instead)")
    assert not problems, "\n".join(problems)

    graded_pieces = grading.pieces(source_nb)
    assert graded_pieces, "a chapter has at least one graded piece"
    for piece, grade_ids in graded_pieces:
        assert grade_ids, f"solution {piece!r} has no hidden cell after it"
    total = sum(grading.points(source_nb).values())
    first = source_nb.cells[0]
    assert first.cell_type == "markdown" and re.search(rf"(?<![\d.]){total:g} points?\b", first.source), \
        f"the first Markdown cell states the chapter's {total:g} points"


# --------------------------------------------------------------------------- c. nbval


def test_stored_outputs_match_a_fresh_run(chapter):
    env = dict(os.environ, PATH=str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""))
    env.pop("NBGRADER_EXECUTION", None)
    notebook = chapter / f"{chapter.name}.ipynb"
    command = [sys.executable, "-m", "pytest", "--nbval", "--nbval-current-env", "--nbval-sanitize-with",
               str(SANITIZE), str(notebook), "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    started = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
                         stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - started
    print(f"\n{chapter.name}: nbval {seconds:.1f} s")
    assert run.returncode == 0, \
        f"nbval failed on {notebook.relative_to(ROOT)}:\n{run.stdout[-6000:]}{run.stderr[-2000:]}"
    assert seconds < NBVAL_SECONDS, f"{chapter.name} takes {seconds:.0f} s under nbval (limit {NBVAL_SECONDS} s)"


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
        outside = grading.outside_regions(cell.source, grading.BEGIN_SOLUTION, grading.END_SOLUTION)
        outside = grading.outside_regions("\n".join(outside), grading.BEGIN_HIDDEN, grading.END_HIDDEN)
        public.update(ln.strip() for ln in outside)
    released = {grading.nbgrader_meta(c)["grade_id"]: c for c in release.cells if grading.nbgrader_meta(c)}
    for cell in source.cells:
        if not grading.is_solution(cell):
            continue
        grade_id = grading.nbgrader_meta(cell)["grade_id"]
        assert grade_id in released, f"solution cell {grade_id!r} is missing from the release"
        assert released[grade_id].source == build_chapters.stub_solutions(cell.source), \
            f"released {grade_id!r} is not its source with the solution stubbed out"
        for region in grading.regions(cell.source, grading.BEGIN_SOLUTION, grading.END_SOLUTION):
            for line in region.split("\n"):
                if line.strip() and line.strip() not in public:
                    assert line.strip() not in release_lines, f"the release shows solution code: {line.strip()!r}"

    # hidden tests: no markers, no autograder, no check names used by hidden blocks
    assert "autograder" not in text, "the release mentions autograder (a hidden test left in?)"
    assert "HIDDEN TESTS" not in text, "the release still holds a hidden-test marker"
    for grade_id, block in _hidden_blocks(source):
        for name in CHECK_NAME.findall(block):
            assert name not in text, f"the release mentions {name} (hidden test of {grade_id})"
    assert not MICROGPT_IMPORT.search(sources), "the release imports microgpt"

    # files: the notebook and the learners' helpers, nothing compiled or private
    notebook = f"{graded.assignment}.ipynb"
    assert notebook in graded.release_files and "course_tools.py" in graded.release_files, graded.release_files
    assert not [f for f in graded.release_files if f.endswith(".pyc") or "checkpoint" in f], graded.release_files
    tools = (graded.course.release_dir / "course_tools.py").read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import)\s+(microgpt|autograder)\b", tools, re.MULTILINE), \
        "course_tools.py imports the reference or the checks"


# --------------------------------------------------------------------------- e, f, g. grading


def test_source_notebook_scores_full_marks(graded):
    score, max_score = graded.totals["source"]
    assert max_score == graded.max_points, f"gradebook max {max_score}, notebook points {graded.max_points}"
    assert score == max_score, f"the source notebook scores {score}/{max_score}; lost: {graded.lost('source')}"
    manual = [g for g, (_, _, needs_manual) in graded.grades["source"].items() if needs_manual]
    assert not manual, f"cells flagged for manual grading: {manual}"


def test_untouched_release_scores_zero(graded):
    score, max_score = graded.totals["release"]
    assert score == 0, f"the blank release scores {score}/{max_score}: " + ", ".join(
        f"{g} {s:g}" for g, (s, _, _) in graded.grades["release"].items() if s)


def test_each_wrong_piece_loses_exactly_its_points(graded):
    failures = []
    for piece, grade_ids in graded.pieces:
        student = f"wrong_{piece}"
        lost = graded.lost(student)
        score, _ = graded.totals[student]
        expected = graded.max_points - sum(graded.points[g] for g in grade_ids)
        if lost != sorted(grade_ids) or score != expected:
            failures.append(f"{piece} wrong: lost {lost} ({score:g}/{graded.max_points:g}), "
                            f"expected to lose only {sorted(grade_ids)} ({expected:g})")
    assert not failures, "\n".join(failures)


def test_feedback_hides_the_hidden_tests(graded):
    html = graded.course.feedback("source")
    assert "HIDDEN TESTS" not in html and "autograder.checks" not in html


# --------------------------------------------------------------------------- the builder itself

GOOD_SOLUTION = """#%% solution id=double
def double(x):
    \"\"\"2 * x.\"\"\"
    ### BEGIN SOLUTION
    return 2 * x
    ### END SOLUTION
"""
GOOD_HIDDEN = """#%% hidden id=double_tests points=1
# Hidden tests check double when your work is graded.
### BEGIN HIDDEN TESTS
from autograder.checks import check_double
check_double(double)
### END HIDDEN TESTS
"""
GOOD = "#%% markdown\n# Title, 1 point\n" + GOOD_SOLUTION + GOOD_HIDDEN


@pytest.mark.parametrize("text, line, message", [
    ("#%% markdwn\nhi\n", 1, "unknown cell kind"),
    ("stray text\n" + GOOD, 1, "before the first"),
    (GOOD.replace("solution id=double", "solution"), 3, "needs id="),
    (GOOD.replace("points=1", "points=0"), 9, "points must be a positive number"),
    (GOOD.replace("# Title", "# Title ### BEGIN SOLUTION"), 1, "solution markers outside a solution cell"),
    (GOOD.replace("    ### END SOLUTION\n", ""), 3, "not closed"),
    (GOOD.replace("check_double(double)\n", "check_double(double)\nprint(1)\n"), 11, "exactly"),
    (GOOD.replace("# Hidden tests", "x = 1  # Hidden tests"), 10, "only comments"),
    ("#%% markdown\n# 1 point\n#%% code\nimport microgpt\n" + GOOD_SOLUTION + GOOD_HIDDEN, 4, "never import microgpt"),
    (GOOD + GOOD_SOLUTION + GOOD_HIDDEN, 15, "already used"),
    (GOOD.replace("1 point", "one point"), 1, "must state the total, 1 points"),
    ("#%% markdown\n# 1 point\n" + GOOD_SOLUTION, 3, "has no hidden cell"),
    ("#%% markdown\n# 1 point\n" + GOOD_HIDDEN + GOOD_SOLUTION, 3, "there is none"),
    ("#%% markdown\n# 1 point\n#%% given microgpt.nn:linear\nx = 1\n" + GOOD_SOLUTION + GOOD_HIDDEN, 3,
     "has no body"),
    ("#%% markdown\n# 1 point\n#%% code\ndef f(:\n" + GOOD_SOLUTION + GOOD_HIDDEN, 4, "does not parse"),
    (GOOD.replace("    return 2 * x\n", "    return (2 *\n"), 7, "does not parse"),
])
def test_malformed_sources_are_rejected_with_file_and_line(tmp_path, text, line, message):
    path = tmp_path / "09_broken.cells"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(build_chapters.BuildError) as error:
        build_chapters.build_notebook(build_chapters.Chapter("09_broken", path))
    assert str(error.value).startswith(f"{path}:{line}:"), str(error.value)
    assert message in str(error.value)


def _given(tmp_path, spec):
    path = tmp_path / "09_given.cells"
    path.write_text(f"#%% markdown\n# 1 point\n#%% given {spec}\n" + GOOD_SOLUTION + GOOD_HIDDEN, encoding="utf-8")
    nb = build_chapters.build_notebook(build_chapters.Chapter("09_given", path))
    return nb.cells[1]


def test_given_code_is_the_reference_source_with_its_stdlib_imports(tmp_path):
    import inspect

    from microgpt import data, nn

    cell = _given(tmp_path, "microgpt.data:DataError,read_docs microgpt.nn:softmax")
    assert cell.source.startswith("from pathlib import Path\n\n\n")
    assert inspect.getsource(data.read_docs).strip() in cell.source
    assert inspect.getsource(nn.softmax).strip() in cell.source
    assert "microgpt" not in cell.source and "from ." not in cell.source
    assert cell.metadata["nbgrader"] == {"grade": False, "grade_id": "given_DataError", "locked": True,
                                         "schema_version": 3, "solution": False}

    members = _given(tmp_path, "microgpt.autograd:Value(__slots__,__init__,__neg__)").source
    assert "def __init__" in members and "def __neg__" in members and "__slots__" in members
    assert "def __add__" not in members and "def backward" not in members and "import math" not in members

    with pytest.raises(build_chapters.BuildError, match="add microgpt.data:DataError"):
        _given(tmp_path, "microgpt.data:read_docs")
    with pytest.raises(build_chapters.BuildError, match="give it in this or an earlier given cell"):
        _given(tmp_path, "microgpt.model:param_shapes,init_params")  # Value comes from .autograd
    with pytest.raises(build_chapters.BuildError, match="defined in microgpt.nn; name that module"):
        _given(tmp_path, "microgpt.model:linear")
    with pytest.raises(build_chapters.BuildError, match="has no member nope"):
        _given(tmp_path, "microgpt.autograd:Value(nope)")


def test_build_is_deterministic_and_unknown_chapters_exit_2(capsys):
    chapter = build_chapters.discover_chapters()[0]
    first = build_chapters.notebook_text(build_chapters.build_notebook(chapter))
    assert first == build_chapters.notebook_text(build_chapters.build_notebook(chapter))
    assert build_chapters.main(["99"]) == 2
    assert "unknown chapter '99'" in capsys.readouterr().err
