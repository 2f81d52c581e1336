"""microgpt-course collect: per-student folders and LMS files (zips or notebooks named by a pattern)
into submitted/<student>/<chapter>/<chapter>.ipynb; what cannot be placed is reported by name;
nothing placed exits 1; the input is never modified; collecting twice changes nothing. Hostile
input: links are never followed, ids are exactly the documented characters, damaged, encrypted and
oversized files (zip bombs) are reported by name while the others are collected."""

import os
import stat
import zipfile

import pytest

from autograder.pipeline import collect as collecting
from autograder.pipeline.cli import main
from pipeline_course import (
    CHAPTER,
    OTHER,
    assert_one_line_error,
    learner_notebook,
    make_course,
    run,
    tree_fingerprint,
    write_notebook,
)


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
    path = write_notebook(
        learner_notebook(released), tmp_path_factory.mktemp("nb") / f"{CHAPTER}.ipynb"
    )
    return path.read_bytes()


LINK = "a symbolic link (links are never followed)"
# 20 MB, as grade reads
TOO_LARGE = f"larger than {collecting.megabytes(collecting.MAX_NOTEBOOK_BYTES)}"
# a file of a class's zip
MEMBER_TOO_LARGE = f"larger than {collecting.megabytes(collecting.MAX_MEMBER_BYTES)}"
ID_RULE = "may hold only letters, digits and @ . _ + -, and must start with a letter, digit or _"


def make_zip(path, members, links=(), mode="w"):
    """A zip of members (name -> content) plus `links` (name -> target), members marked as symbolic
    links the way `zip --symlinks` stores them (the target as content, S_IFLNK in the Unix mode
    bits)."""
    with zipfile.ZipFile(path, mode, zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        for name, target in dict(links).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3  # Unix
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, target)
    return path


def patched(data: bytes, local_offset: int, central_offset: int, value: bytes) -> bytes:
    """A one-member zip with a field of both its local and its central header overwritten."""
    data = bytearray(data)
    central = data.index(b"PK\x01\x02")
    data[local_offset : local_offset + len(value)] = value
    data[central + central_offset : central + central_offset + len(value)] = value
    return bytes(data)


def encrypted(data: bytes) -> bytes:
    """A one-member zip whose member is marked encrypted (general purpose flag bit 0)."""
    return patched(data, 6, 8, (1).to_bytes(2, "little"))


def lying(data: bytes) -> bytes:
    """A one-member zip whose headers claim its member unpacks to 1,000 bytes."""
    return patched(data, 22, 24, (1000).to_bytes(4, "little"))


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """A zip of 200 MB of zeros (about 200 KB), as one member `zeros.ipynb`."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        with archive.open("zeros.ipynb", "w") as member:
            for _ in range(200):
                member.write(bytes(2**20))
    return path.read_bytes()


def all_bytes(folder):
    """Every file under folder, one after the other."""
    return (
        b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
        if folder.is_dir()
        else b""
    )


def placed(course):
    folder = course.root / "submitted"
    return (
        sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        if folder.is_dir()
        else []
    )


def test_per_student_folders(course, capsys, tmp_path, notebook_bytes):
    inbox = tmp_path / "inbox"
    for relative in (
        f"ada/{CHAPTER}/{CHAPTER}.ipynb",
        f"bo/{CHAPTER}.ipynb",
        f"cy/{CHAPTER}/.ipynb_checkpoints/{CHAPTER}-checkpoint.ipynb",
    ):
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
    assert (
        "could not place eve/homework/mine.ipynb: neither its name nor its folder names a chapter"
        in out
    )
    assert "placed 3, could not place 2" in out


def test_lms_zips_by_the_default_pattern(course, capsys, tmp_path, notebook_bytes):
    inbox = tmp_path / "lms"
    inbox.mkdir()
    make_zip(
        inbox / f"ada_{CHAPTER}.zip",
        {f"ada/{CHAPTER}/{CHAPTER}.ipynb": notebook_bytes, "ada/course_tools.py": "print('mine')"},
    )
    # the only notebook
    make_zip(inbox / "bo.smith_02.zip", {"whatever-I-called-it.ipynb": notebook_bytes})
    # which one?
    make_zip(inbox / "cy_2.zip", {"a.ipynb": notebook_bytes, "b.ipynb": notebook_bytes})
    make_zip(inbox / "dee_02.zip", {"readme.txt": "forgot the notebook"})
    (inbox / "eve_02.zip").write_text("not really a zip")
    # no chapter 09
    make_zip(inbox / "fay_09.zip", {"09_x.ipynb": notebook_bytes})
    # not released
    make_zip(inbox / f"gus_{OTHER}.zip", {f"{OTHER}.ipynb": notebook_bytes})
    # bad student id
    make_zip(inbox / "h i_02.zip", {f"{CHAPTER}.ipynb": notebook_bytes})
    (inbox / "grades.csv").write_text("student,score\n")
    before = tree_fingerprint(inbox)
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0, err
    assert placed(course) == [
        f"ada/{CHAPTER}/{CHAPTER}.ipynb",
        f"bo.smith/{CHAPTER}/{CHAPTER}.ipynb",
    ]
    assert (
        course.submitted("bo.smith", CHAPTER) / f"{CHAPTER}.ipynb"
    ).read_bytes() == notebook_bytes
    for expected in (
        "could not place cy_2.zip: 2 notebooks inside and none named 02_tokenization.ipynb",
        "could not place dee_02.zip: no .ipynb notebook inside",
        "could not place eve_02.zip: neither a zip file nor a .ipynb notebook",
        "could not place fay_09.zip: name does not match the pattern {student}_{chapter}.zip",
        f"could not place gus_{OTHER}.zip: chapter {OTHER} has not been released",
        "could not place h i_02.zip: student id 'h i' may hold only",
        "could not place grades.csv: name does not match the pattern",
    ):
        assert expected in out, out
    assert "placed 2, could not place 7" in out
    assert tree_fingerprint(inbox) == before, "collect modified its input"


def test_a_custom_pattern_and_a_zip_of_the_whole_export(course, capsys, tmp_path, notebook_bytes):
    # Canvas names downloads <login>_<user id>_<submission id>_<file name>; here the files are
    # notebooks
    export = tmp_path / "canvas.zip"
    make_zip(
        export,
        {
            f"ada_1234_5678_{CHAPTER}.ipynb": notebook_bytes,
            f"bo_1235_5679_{CHAPTER}-1.ipynb": notebook_bytes,
        },
    )
    before = tree_fingerprint(tmp_path)
    code, out, err = run(
        capsys,
        "collect",
        "--course",
        course.root,
        export,
        "--pattern",
        "{student}_*_*_{chapter}*.ipynb",
    )
    assert code == 0, err
    assert placed(course) == [f"ada/{CHAPTER}/{CHAPTER}.ipynb", f"bo/{CHAPTER}/{CHAPTER}.ipynb"]
    assert tree_fingerprint(tmp_path) == before
    # a pattern without {chapter}: the chapter is named on the command line
    inbox = tmp_path / "moodle"
    inbox.mkdir()
    make_zip(inbox / "cy-assignment.zip", {"work/notebook.ipynb": notebook_bytes})
    code, out, err = run(
        capsys,
        "collect",
        "--course",
        course.root,
        inbox,
        "--pattern",
        "{student}-assignment.zip",
        "--chapter",
        "2",
    )
    assert code == 0, err
    assert f"cy/{CHAPTER}/{CHAPTER}.ipynb" in placed(course)
    # Moodle: one folder per participant, "<full name>_<participant id>_assignsubmission_file_"
    inbox = tmp_path / "moodle-folders"
    for folder in (
        "Ada_King Lovelace_31_assignsubmission_file_",
        "Bo Li_32_assignsubmission_file_",
    ):
        (inbox / folder).mkdir(parents=True)
        (inbox / folder / "my notebook.ipynb").write_bytes(notebook_bytes)
    code, out, err = run(
        capsys,
        "collect",
        "--course",
        course.root,
        inbox,
        "--pattern",
        "*_{student}_assignsubmission_file_",
        "--chapter",
        CHAPTER,
    )
    assert code == 0, err
    assert {f"31/{CHAPTER}/{CHAPTER}.ipynb", f"32/{CHAPTER}/{CHAPTER}.ipynb"} <= set(
        placed(course)
    ), out


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


def test_collecting_twice_changes_nothing_and_a_resubmission_updates(
    course, capsys, tmp_path, notebook_bytes
):
    inbox = tmp_path / "inbox"
    write_notebook(learner_notebook(course), inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb")
    assert run(capsys, "collect", "--course", course.root, inbox)[0] == 0
    target = course.submitted("ada", CHAPTER) / f"{CHAPTER}.ipynb"
    first = target.stat().st_mtime_ns
    code, out, _ = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0 and "unchanged" in out and target.stat().st_mtime_ns == first
    write_notebook(
        learner_notebook(course, blank=True), inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb"
    )
    code, out, _ = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0 and "updated" in out
    assert target.read_bytes() == (inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb").read_bytes()
    assert not list(target.parent.glob("*.partial"))


def test_a_zip_escaping_its_folder_is_refused(course, capsys, tmp_path, notebook_bytes):
    export = make_zip(tmp_path / "export.zip", {f"../evil_{CHAPTER}.ipynb": notebook_bytes})
    code, _, err = run(capsys, "collect", "--course", course.root, export)
    assert_one_line_error(code, err, "a path outside the zip's folder")
    assert not (tmp_path.parent / f"evil_{CHAPTER}.ipynb").exists() and placed(course) == []


def test_links_are_never_followed(course, capsys, tmp_path, notebook_bytes):
    source = course.source_notebook(CHAPTER)  # the instructor's notebook, answers and hidden tests
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / CHAPTER).mkdir(parents=True)
    (elsewhere / CHAPTER / f"{CHAPTER}.ipynb").symlink_to(source)
    inbox = tmp_path / "inbox"
    (inbox / "ada" / CHAPTER).mkdir(parents=True)
    (inbox / "ada" / CHAPTER / f"{CHAPTER}.ipynb").symlink_to(source)  # a linked notebook
    # a linked student folder
    (inbox / "bo").symlink_to(elsewhere)
    (inbox / "cy").mkdir()
    # a linked chapter folder
    (inbox / "cy" / CHAPTER).symlink_to(elsewhere / CHAPTER)
    (inbox / f"dee_{CHAPTER}.ipynb").symlink_to(source)  # a linked LMS file
    # a link inside a zip
    make_zip(inbox / f"eve_{CHAPTER}.zip", {}, {f"{CHAPTER}.ipynb": str(source)})
    write_notebook(learner_notebook(course), inbox / "fay" / CHAPTER / f"{CHAPTER}.ipynb")
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0, err
    assert placed(course) == [f"fay/{CHAPTER}/{CHAPTER}.ipynb"]
    for name in (f"ada/{CHAPTER}/{CHAPTER}.ipynb", "bo", f"cy/{CHAPTER}", f"dee_{CHAPTER}.ipynb"):
        assert f"could not place {name}: {LINK}" in out, out
    assert f"could not place eve_{CHAPTER}.zip: {CHAPTER}.ipynb is {LINK}" in out, out
    assert "placed 1, could not place 5" in out
    assert source.read_bytes() not in all_bytes(course.root / "submitted")


def test_student_ids_are_exactly_the_documented_characters(
    course, capsys, tmp_path, notebook_bytes
):
    inbox = tmp_path / "inbox"
    (inbox / "ada\n").mkdir(parents=True)  # `$` matches before a trailing newline; the id must not
    (inbox / "ada\n" / f"{CHAPTER}.ipynb").write_bytes(notebook_bytes)
    for student in ("=1+1", "+bo", "-cy", "@dee", "ada.lovelace+cs-101@uni.org", "_eve"):
        make_zip(inbox / f"{student}_{CHAPTER}.zip", {f"{CHAPTER}.ipynb": notebook_bytes})
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0, err
    assert placed(course) == [
        f"{s}/{CHAPTER}/{CHAPTER}.ipynb" for s in ("_eve", "ada.lovelace+cs-101@uni.org")
    ]
    assert f"could not place ada\\n/{CHAPTER}.ipynb: student id 'ada\\n' {ID_RULE}" in out, out
    for student in ("=1+1", "+bo", "-cy", "@dee"):
        assert (
            f"could not place {student}_{CHAPTER}.zip: student id {student!r} {ID_RULE}" in out
        ), out
    assert "a spreadsheet reads a leading = + - @ as a formula" in out
    assert "placed 2, could not place 5" in out


def test_bad_zips_are_reported_by_name_and_the_others_collected(
    course, capsys, tmp_path, notebook_bytes, bomb, monkeypatch
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    good = make_zip(tmp_path / "good.zip", {f"{CHAPTER}.ipynb": notebook_bytes}).read_bytes()
    (inbox / f"ada_{CHAPTER}.zip").write_bytes(good)
    corrupt = bytearray(good)
    start = 30 + len(f"{CHAPTER}.ipynb")  # the compressed notebook, after its local header
    corrupt[start : start + 100] = b"\xff" * 100
    (inbox / f"bo_{CHAPTER}.zip").write_bytes(corrupt)
    (inbox / f"cy_{CHAPTER}.zip").write_bytes(encrypted(good))
    (inbox / f"dee_{CHAPTER}.zip").write_bytes(bomb)  # 200 MB of zeros, as its header says
    # 200 MB of zeros, its header says 1,000 bytes
    (inbox / f"eve_{CHAPTER}.zip").write_bytes(lying(bomb))
    monkeypatch.setattr(collecting, "MAX_ZIP_MEMBERS", 3)
    make_zip(
        inbox / f"fay_{CHAPTER}.zip",
        {f"{CHAPTER}.ipynb": notebook_bytes, "a": "", "b": "", "c": ""},
    )
    (inbox / f"zed_{CHAPTER}.zip").write_bytes(good)
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0, err
    assert placed(course) == [f"{s}/{CHAPTER}/{CHAPTER}.ipynb" for s in ("ada", "zed")]
    for expected in (
        f"could not place bo_{CHAPTER}.zip: damaged zip data (",
        f"could not place cy_{CHAPTER}.zip: {CHAPTER}.ipynb is encrypted",
        f"could not place dee_{CHAPTER}.zip: zeros.ipynb is {TOO_LARGE}",
        f"could not place eve_{CHAPTER}.zip: damaged zip data (Bad CRC-32",
        f"could not place fay_{CHAPTER}.zip: holds more than 3 files",
    ):
        assert expected in out, out
    assert "placed 2, could not place 5" in out


def test_bad_files_in_folders_are_reported_by_name_and_the_others_collected(
    course, capsys, tmp_path, notebook_bytes
):
    inbox = tmp_path / "inbox"
    for student in ("ada", "bo", "cy", "dee"):
        (inbox / student).mkdir(parents=True)
    (inbox / "ada" / f"{CHAPTER}.ipynb").write_bytes(notebook_bytes)
    # one byte over the cap, on no disk space
    with open(inbox / "bo" / f"{CHAPTER}.ipynb", "wb") as sparse:
        sparse.truncate(collecting.MAX_NOTEBOOK_BYTES + 1)
    os.mkfifo(inbox / "cy" / f"{CHAPTER}.ipynb")  # reading it would wait for a writer forever
    (inbox / "dee" / f"{CHAPTER}.ipynb").write_bytes(notebook_bytes)
    code, out, err = run(capsys, "collect", "--course", course.root, inbox)
    assert code == 0, err
    assert placed(course) == [f"{s}/{CHAPTER}/{CHAPTER}.ipynb" for s in ("ada", "dee")]
    assert f"could not place bo/{CHAPTER}.ipynb: {TOO_LARGE}" in out, out
    assert f"could not place cy/{CHAPTER}.ipynb: not a regular file" in out, out


def test_a_whole_export_zip_skips_bad_members_and_is_capped(
    course, capsys, tmp_path, notebook_bytes, bomb, monkeypatch
):
    export = tmp_path / "export.zip"
    export.write_bytes(bomb)  # zeros.ipynb, 200 MB unpacked
    good = make_zip(tmp_path / "good.zip", {f"{CHAPTER}.ipynb": notebook_bytes}).read_bytes()
    make_zip(
        export,
        {
            f"ada_{CHAPTER}.zip": good,
            # a file cannot be a folder too
            f"ada_{CHAPTER}.zip/{CHAPTER}.ipynb": notebook_bytes,
            f"zed_{CHAPTER}.zip": good,
        },
        {f"bo_{CHAPTER}.ipynb": str(course.source_notebook(CHAPTER))},
        mode="a",
    )
    code, out, err = run(capsys, "collect", "--course", course.root, export)
    assert code == 0, err
    assert placed(course) == [f"{s}/{CHAPTER}/{CHAPTER}.ipynb" for s in ("ada", "zed")]
    for expected in (
        f"could not place zeros.ipynb: {MEMBER_TOO_LARGE}",
        f"could not place bo_{CHAPTER}.ipynb: {LINK}",
        f"could not place ada_{CHAPTER}.zip/{CHAPTER}.ipynb: cannot be read or unpacked (",
    ):
        assert expected in out, out
    # past a cap on the whole zip, nothing is collected: one line, exit 2
    (course.root / "submitted").rename(tmp_path / "before")
    monkeypatch.setattr(collecting, "MAX_UNZIPPED_BYTES", 100 * 2**20)
    code, _, err = run(capsys, "collect", "--course", course.root, export)
    assert_one_line_error(
        code, err, "would unpack to more than 100 MB", "unzip it yourself and collect the folder"
    )
    monkeypatch.setattr(collecting, "MAX_ZIP_MEMBERS", 4)
    code, _, err = run(capsys, "collect", "--course", course.root, export)
    assert_one_line_error(code, err, "holds more than 4 files")
    assert placed(course) == []
