"""microgpt-course collect: per-student folders and LMS files (zips or notebooks named by a pattern)
into submitted/<student>/<chapter>/<chapter>.ipynb; what cannot be placed is reported by name; nothing
placed exits 1; the input is never modified; collecting twice changes nothing."""

import zipfile

import pytest

from autograder.pipeline.cli import main
from pipeline_course import (CHAPTER, OTHER, assert_one_line_error, learner_notebook, make_course, run,
                             tree_fingerprint, write_notebook)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A course where only CHAPTER is released (OTHER exists but is not)."""
    course = make_course(tmp_path_factory.mktemp("course"))
    assert main(["release", "--course", str(course.root), CHAPTER]) == 0
    return course


@pytest.fixture
def course(released, tmp_path):
    """The released course with an empty submitted/ for each test."""
    import shutil

    shutil.rmtree(released.root / "submitted", ignore_errors=True)
    return released


@pytest.fixture(scope="module")
def notebook_bytes(released, tmp_path_factory):
    path = write_notebook(learner_notebook(released), tmp_path_factory.mktemp("nb") / f"{CHAPTER}.ipynb")
    return path.read_bytes()


def make_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def placed(course):
    folder = course.root / "submitted"
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []


def test_per_student_folders(course, capsys, tmp_path, notebook_bytes):
    inbox = tmp_path / "inbox"
    for relative in (f"ada/{CHAPTER}/{CHAPTER}.ipynb", f"bo/{CHAPTER}.ipynb",
                     f"cy/{CHAPTER}/.ipynb_checkpoints/{CHAPTER}-checkpoint.ipynb"):
        (inbox / relative).parent.mkdir(parents=True, exist_ok=True)
        (inbox / relative).write_bytes(notebook_bytes)
    (inbox / "cy" / CHAPTER / f"{CHAPTER}.ipynb").write_bytes(notebook_bytes)
    (inbox / "dee").mkdir()
    (inbox / "dee" / "notes.txt").write_text("no notebook here")
    (inbox / "eve" / "homework").mkdir(parents=True)
    (inbox / "eve" / "homework" / "mine.ipynb").write_bytes(notebook_bytes)
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0, err
    assert placed(course) == [f"{s}/{CHAPTER}/{CHAPTER}.ipynb" for s in ("ada", "bo", "cy")]
    assert (course.submitted("ada", CHAPTER) / f"{CHAPTER}.ipynb").read_bytes() == notebook_bytes
    assert "could not place dee/: no .ipynb notebook inside" in out
    assert "could not place eve/homework/mine.ipynb: neither its name nor its folder names a chapter" in out
    assert "placed 3, could not place 2" in out


def test_lms_zips_by_the_default_pattern(course, capsys, tmp_path, notebook_bytes):
    inbox = tmp_path / "lms"
    inbox.mkdir()
    make_zip(inbox / f"ada_{CHAPTER}.zip", {f"ada/{CHAPTER}/{CHAPTER}.ipynb": notebook_bytes,
                                             "ada/course_tools.py": "print('mine')"})
    make_zip(inbox / "bo.smith_02.zip", {"whatever-I-called-it.ipynb": notebook_bytes})       # the only notebook
    make_zip(inbox / "cy_2.zip", {"a.ipynb": notebook_bytes, "b.ipynb": notebook_bytes})      # which one?
    make_zip(inbox / "dee_02.zip", {"readme.txt": "forgot the notebook"})
    (inbox / "eve_02.zip").write_text("not really a zip")
    make_zip(inbox / "fay_09.zip", {"09_x.ipynb": notebook_bytes})                           # no chapter 09
    make_zip(inbox / f"gus_{OTHER}.zip", {f"{OTHER}.ipynb": notebook_bytes})                 # not released
    make_zip(inbox / "h i_02.zip", {f"{CHAPTER}.ipynb": notebook_bytes})                     # bad student id
    (inbox / "grades.csv").write_text("student,score\n")
    before = tree_fingerprint(inbox)
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0, err
    assert placed(course) == [f"ada/{CHAPTER}/{CHAPTER}.ipynb", f"bo.smith/{CHAPTER}/{CHAPTER}.ipynb"]
    assert (course.submitted("bo.smith", CHAPTER) / f"{CHAPTER}.ipynb").read_bytes() == notebook_bytes
    for expected in ("could not place cy_2.zip: 2 notebooks inside and none named 02_tokenization.ipynb",
                     "could not place dee_02.zip: no .ipynb notebook inside",
                     "could not place eve_02.zip: neither a zip file nor a .ipynb notebook",
                     "could not place fay_09.zip: name does not match the pattern {student}_{chapter}.zip",
                     f"could not place gus_{OTHER}.zip: chapter {OTHER} has not been released",
                     "could not place h i_02.zip: student id 'h i' may hold only",
                     "could not place grades.csv: name does not match the pattern"):
        assert expected in out, out
    assert "placed 2, could not place 7" in out
    assert tree_fingerprint(inbox) == before, "collect modified its input"


def test_a_custom_pattern_and_a_zip_of_the_whole_export(course, capsys, tmp_path, notebook_bytes):
    # Canvas names downloads <login>_<user id>_<submission id>_<file name>; here the files are notebooks
    export = tmp_path / "canvas.zip"
    make_zip(export, {f"ada_1234_5678_{CHAPTER}.ipynb": notebook_bytes,
                      f"bo_1235_5679_{CHAPTER}-1.ipynb": notebook_bytes})
    before = tree_fingerprint(tmp_path)
    code, out, err = run(capsys, "collect", "--course", course.root, export, "--pattern", "{student}_*_*_{chapter}*.ipynb")
    assert code == 0, err
    assert placed(course) == [f"ada/{CHAPTER}/{CHAPTER}.ipynb", f"bo/{CHAPTER}/{CHAPTER}.ipynb"]
    assert tree_fingerprint(tmp_path) == before
    # a pattern without {chapter}: the chapter is named on the command line
    inbox = tmp_path / "moodle"
    inbox.mkdir()
    make_zip(inbox / "cy-assignment.zip", {"work/notebook.ipynb": notebook_bytes})
    code, out, err = run(capsys, "collect", "--course", course.root, inbox, "--pattern", "{student}-assignment.zip",
                         "--chapter", "2")
    assert code == 0, err
    assert f"cy/{CHAPTER}/{CHAPTER}.ipynb" in placed(course)
    # Moodle: one folder per participant, "<full name>_<participant id>_assignsubmission_file_"
    inbox = tmp_path / "moodle-folders"
    for folder in ("Ada_King Lovelace_31_assignsubmission_file_", "Bo Li_32_assignsubmission_file_"):
        (inbox / folder).mkdir(parents=True)
        (inbox / folder / "my notebook.ipynb").write_bytes(notebook_bytes)
    code, out, err = run(capsys, "collect", "--course", course.root, inbox, "--pattern",
                         "*_{student}_assignsubmission_file_", "--chapter", CHAPTER)
    assert code == 0, err
    assert {f"31/{CHAPTER}/{CHAPTER}.ipynb", f"32/{CHAPTER}/{CHAPTER}.ipynb"} <= set(placed(course)), out


def test_nothing_placed_exits_1_naming_every_file(course, capsys, tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "ada.zip").write_text("x")
    (inbox / "bo_02.txt").write_text("x")
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 1
    assert "could not place ada.zip" in out and "could not place bo_02.txt" in out
    assert "placed 0, could not place 2" in out
    assert placed(course) == []


def test_collecting_twice_changes_nothing_and_a_resubmission_updates(course, capsys, tmp_path, notebook_bytes):
    inbox = tmp_path / "inbox"
    write_notebook(learner_notebook(course), inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb")
    assert run(capsys, "collect", "--course", course.root, inbox)[0] == 0
    target = course.submitted("ada", CHAPTER) / f"{CHAPTER}.ipynb"
    first = target.stat().st_mtime_ns
    code, out, _ = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0 and "unchanged" in out and target.stat().st_mtime_ns == first
    write_notebook(learner_notebook(course, blank=True), inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb")
    code, out, _ = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0 and "updated" in out
    assert target.read_bytes() == (inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb").read_bytes()
    assert not list(target.parent.glob("*.partial"))


def test_a_zip_escaping_its_folder_is_refused(course, capsys, tmp_path, notebook_bytes):
    export = make_zip(tmp_path / "export.zip", {f"../evil_{CHAPTER}.ipynb": notebook_bytes})
    code, _, err = run(capsys, "collect", "--course", course.root, export)
    assert_one_line_error(code, err, "a path outside the zip's folder")
    assert not (tmp_path.parent / f"evil_{CHAPTER}.ipynb").exists() and placed(course) == []
