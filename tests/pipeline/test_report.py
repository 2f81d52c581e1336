"""microgpt-course report: the class page, checked in headless Chromium against classes of known
mix.

- `graded`: five learners hand in 02_tokenization and are graded by the real `grade` (sandboxed,
  judged), the known mix (build_vocab 1 point, encode 2, decode 1):
  ada_q correct (4/4); bo_q blank (0/4, every piece "not written yet"); cy_q and dee_q an encode
  whose ids are off by one and by two (2/4: two messages that differ only in numbers, one mistake);
  dee_q's build_vocab also imports os (a `policy` flag, its point kept); eli_q a decode raising a
  ValueError whose text is `<script>` and `<img onerror>` (3/4: a hostile message on the page).
- `twenty`: a copy of that course with fifteen more students, whose judged results are written with
  record.record() (what `grade` calls to store a graded submission: the gradebook's scores, the
  results file, the flags) instead of being graded, to show a 20-student page with partial points
  too. Their submissions are not in the grade log, so the page's grading time still counts the five.
"""

import shutil
import time
from types import SimpleNamespace

import pytest

from autograder.pipeline.cli import main
from autograder.pipeline.confirm import PieceResult
from autograder.pipeline.course import Course
from autograder.pipeline.flags import Flag
from autograder.pipeline.record import Graded, record
from autograder.pipeline.report import normalise
from browser import start_chromium
from pipeline_course import (
    CHAPTER,
    OTHER,
    assert_one_line_error,
    learner_notebook,
    make_course,
    run,
    write_notebook,
)

OFF_BY = (
    "def encode(doc, chars):\n"
    "    return [len(chars)] + [chars.index(c) + {k} for c in doc] + [len(chars)]\n"
)
IMPORTS_OS = "def build_vocab(docs):\n    import os\n    return sorted(set(''.join(docs)))\n"
HOSTILE_TEXT = (
    "<script>document.title='pwned'</script><img src=x onerror=\"document.title='pwned'\">"
)
HOSTILE = f"def decode(ids, chars):\n    raise ValueError({HOSTILE_TEXT!r})\n"
STUDENTS = ["ada_q", "bo_q", "cy_q", "dee_q", "eli_q"]
NOT_WRITTEN = "not written yet: the function still raises NotImplementedError"
# the judge's message for an error raised in a visible test: the error, the test as written, where
# it came from
HOSTILE_SHOWN = (
    f"ValueError: {HOSTILE_TEXT} (in the visible test `emma = decoded(emma_ids, letters)`). "
    f"It was raised in your decode "
    f"(line #): fix it there."
)
OFF_BY_PATTERN = 'encode("emma", letters): item [#] is #; expected #'

# what the page must show for `graded`: bars 0..4 points, and per piece (full, partial, none)
FIVE_BARS = {"0": 1, "1": 0, "2": 2, "3": 1, "4": 1}
FIVE_PIECES = {"build_vocab_tests": (4, 0, 1), "encode_tests": (2, 0, 3), "decode_tests": (3, 0, 2)}
FIVE_MISTAKES = {
    "build_vocab_tests": [(1, NOT_WRITTEN)],
    "encode_tests": [(2, OFF_BY_PATTERN), (1, NOT_WRITTEN)],
    "decode_tests": [(1, HOSTILE_SHOWN), (1, NOT_WRITTEN)],
}  # equal counts: by text


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """02 and 03 released, the five learners of the module docstring collected and 02 graded (03
    not)."""
    course = make_course(tmp_path_factory.mktemp("course"))
    assert main(["release", "--course", str(course.root), CHAPTER, OTHER]) == 0
    answers = {
        "ada_q": {},
        "bo_q": None,
        "cy_q": {"encode": OFF_BY.format(k=1)},
        "dee_q": {"encode": OFF_BY.format(k=2), "build_vocab": IMPORTS_OS},
        "eli_q": {"decode": HOSTILE},
    }
    inbox = tmp_path_factory.mktemp("inbox")
    for student, mine in answers.items():
        nb = learner_notebook(course, blank=mine is None, answers=mine)
        write_notebook(nb, inbox / student / CHAPTER / f"{CHAPTER}.ipynb")
    assert main(["collect", "--course", str(course.root), str(inbox)]) == 0
    assert main(["grade", "--course", str(course.root), CHAPTER, "--jobs", "2"]) == 0
    return course


@pytest.fixture(scope="module")
def browser():
    driver = start_chromium()  # a missing browser fails the test: it says what to install
    yield driver
    driver.quit()


JS_PAGE = """
const count = e => Number(e.dataset.count);
const section = document.querySelector('section.chapter');
return {
  title: document.title,
  chapter: section && section.dataset.chapter,
  graded: count(section.querySelector('.graded')),
  bars: Array.from(section.querySelectorAll('svg.distribution rect.bar')).map(r => {
    const box = r.getBBox(); return [r.dataset.label, count(r), box.width, box.height]; }),
  svg_shown: Array.from(document.querySelectorAll('svg.distribution'))
    .map(s => s.getBoundingClientRect().width),
  pieces: Object.fromEntries(Array.from(section.querySelectorAll('table.pieces tr[data-piece]'))
    .map(tr => [tr.dataset.piece, ['full', 'partial', 'none']
      .map(k => count(tr.querySelector('.' + k + '-count')))])),
  mistakes: Object.fromEntries(Array.from(section.querySelectorAll('ol.mistakes')).map(ol =>
    [ol.dataset.piece, Array.from(ol.querySelectorAll('li.mistake')).map(li =>
      [count(li), li.querySelector('pre').textContent])])),
  flags: Object.fromEntries(Array.from(section.querySelectorAll('table.flags tr[data-kind]'))
    .map(tr => [tr.dataset.kind, [Number(tr.querySelector('.flag-count').textContent),
                                  parseInt(tr.querySelector('.student-count').textContent)]])),
  runs: Array.from(document.querySelectorAll('tr.run')).map(tr => tr.children[1].textContent),
  scripts: document.querySelectorAll('script').length,
  images: document.querySelectorAll('img').length,
  outside: Array.from(document.querySelectorAll('[src], [href], link, iframe, object, embed'))
    .map(e => e.outerHTML),
  text: document.body.textContent,
};
"""


def open_page(driver, path):
    """The report at `path` opened in the browser: what JS_PAGE reads, and the console's
    messages."""
    driver.get(path.as_uri())
    return driver.execute_script(JS_PAGE), [
        (e["level"], e["message"]) for e in driver.get_log("browser")
    ]


def make_report(capsys, course, *args):
    """Run `report` on the course; returns (page path, summary line)."""
    started = time.perf_counter()
    code, out, err = run(capsys, "report", "--course", course.root, *args)
    assert code == 0, f"report {args}: exit {code}, stderr {err!r}"
    summary = out.strip().splitlines()[-1]
    print(f"report {' '.join(map(str, args))}: {time.perf_counter() - started:.1f} s; {summary}")
    return summary.rsplit("wrote ", 1)[1], summary


def assert_page(page, console, bars, pieces, mistakes, flags, graded):
    """The page as read in the browser against the class's known mix."""
    assert not [m for level, m in console if level == "SEVERE"], f"console errors: {console}"
    assert page["title"] == "Class report", (
        f"title {page['title']!r}: a script ran, or the page did not load"
    )
    assert (page["chapter"], page["graded"]) == (CHAPTER, graded), (page["chapter"], page["graded"])
    got_bars = {label: count for label, count, _, _ in page["bars"]}
    assert got_bars == bars, f"distribution: got {got_bars}, expected {bars}"
    drawn = [
        (label, count, height)
        for label, count, width, height in page["bars"]
        if (count > 0) != (height > 0 and width > 0)
    ]
    assert not drawn and page["svg_shown"] and min(page["svg_shown"]) > 0, (
        "bars drawn unlike their counts (label, count, "
        f"height): {drawn}; svg widths {page['svg_shown']}"
    )
    got_pieces = {k: tuple(v) for k, v in page["pieces"].items()}
    assert got_pieces == pieces, (
        f"pieces (full, partial, none): got {got_pieces}, expected {pieces}"
    )
    got_mistakes = {k: [tuple(m) for m in v] for k, v in page["mistakes"].items()}
    assert got_mistakes == mistakes, f"messages: got {got_mistakes}, expected {mistakes}"
    got_flags = {k: tuple(v) for k, v in page["flags"].items()}
    assert got_flags == flags, f"flags (flags, students) by kind: got {got_flags}, expected {flags}"
    assert page["scripts"] == page["images"] == 0 and page["outside"] == [], (
        f"scripts {page['scripts']}, images {page['images']}, "
        f"outside references {page['outside']}: expected none"
    )


def test_the_page_of_a_graded_class_shows_its_known_mix(graded, browser, capsys):
    path, summary = make_report(capsys, graded)
    assert path == str(graded.grading_dir / "report" / "index.html"), f"default output: got {path}"
    assert summary.startswith(
        "report of 1 chapter(s): 5 graded submission(s), 3 piece(s), 1 flag(s), 1 grade run(s)"
    ), summary
    page, console = open_page(browser, graded.grading_dir / "report" / "index.html")
    assert_page(page, console, FIVE_BARS, FIVE_PIECES, FIVE_MISTAKES, {"policy": (1, 1)}, graded=5)
    assert page["runs"] == [f"{CHAPTER}: 5"], (
        f"grading time runs: got {page['runs']}, expected one run of 5"
    )
    shown = [s for s in STUDENTS if s in page["text"] or s in browser.page_source]
    assert not shown, f"student ids on a page made without --names: {shown}"
    assert "differ only in numbers" in page["text"] and "grade logs" in page["text"], page["text"][
        :500
    ]
    log = sorted(graded.grading_dir.glob("logs/*-report.log"))[-1].read_text()
    assert summary in log and "exit 0" in log, log


def test_a_hostile_message_is_shown_as_text_and_runs_nothing(graded, browser, capsys):
    path, _ = make_report(capsys, graded, CHAPTER)
    source = open(path, encoding="utf-8").read()
    assert "<script" not in source and "<img" not in source, (
        "the hostile message reached the page unescaped"
    )
    page, console = open_page(browser, graded.grading_dir / "report" / "index.html")
    assert HOSTILE_TEXT in page["text"], (
        f"the message is not shown as text; page text: {page['text'][:300]}"
    )
    assert page["title"] == "Class report" and page["scripts"] == page["images"] == 0, (
        f"title {page['title']!r}, scripts {page['scripts']}, "
        f"images {page['images']}: expected no script to run"
    )
    assert not console, f"console: {console}"


def test_names_only_with_names(graded, browser, capsys, tmp_path):
    path, summary = make_report(capsys, graded, "--names", "--output", tmp_path / "named")
    assert path == str(tmp_path / "named" / "index.html") and summary.endswith(
        f"students named; wrote {path}"
    ), summary
    page, _ = open_page(browser, tmp_path / "named" / "index.html")
    who = browser.execute_script("""return Object.fromEntries(Array.from(document.querySelectorAll(
        'ol.mistakes')).map(ol => [ol.dataset.piece,
        Array.from(ol.querySelectorAll('li.mistake .who')).map(w => w.textContent)]))""")
    expected = {
        "build_vocab_tests": ["bo_q"],
        "encode_tests": ["cy_q, dee_q", "bo_q"],
        "decode_tests": ["eli_q", "bo_q"],
    }
    assert who == expected, f"students per message: got {who}, expected {expected}"
    assert (
        "dee_q" in browser.find_element("css selector", 'table.flags tr[data-kind="policy"]').text
    )


def test_bad_input_exits_2_with_one_line(graded, capsys, tmp_path):
    a_file = tmp_path / "a_file.html"
    a_file.write_text("not a folder")
    ungraded = make_course(tmp_path / "fresh", chapters=(CHAPTER,))
    cases = [
        ((graded.root, "99"), "no chapter '99'"),
        # released, collected for nobody, not graded
        ((graded.root, OTHER), f"nothing graded yet in {OTHER}"),
        ((graded.root, CHAPTER, OTHER), f"nothing graded yet in {OTHER}"),
        ((graded.root, "--output", a_file), "is a file, not a folder"),
        ((ungraded.root,), "nothing graded yet (run microgpt-course grade first)"),
    ]
    for (root, *args), phrase in cases:
        code, out, err = run(capsys, "report", "--course", root, *args)
        assert_one_line_error(code, err, phrase)
        assert out == "", f"report {args}: stdout {out!r}, expected nothing"
    assert a_file.read_text() == "not a folder"
    assert not (ungraded.root / "gradebook.db").exists(), (
        "report created a gradebook in an ungraded course"
    )


@pytest.mark.parametrize(
    "message, other",
    [
        (
            'encode("emma", letters): item [1] is 5; expected 4',
            'encode("emma", letters): item [2] is 12; expected -3',
        ),
        ("loss 2.5 after 1e-05 steps", "loss 0.125 after 3E+2  steps"),
    ],
)
def test_messages_that_differ_only_in_numbers_group_together(message, other):
    assert normalise(message) == normalise(other), (
        message,
        other,
        normalise(message),
        normalise(other),
    )


def test_names_that_hold_digits_are_kept():
    message = "x1 of 02_tokenization at cell v2.3: 7"
    assert normalise(message) == "x1 of 02_tokenization at cell v2.3: #", normalise(message)


# 15 more students (build_vocab, encode, decode): (count, points per piece, message per piece not
# full, flag)
MORE = [
    (6, (1, 2, 1), ("", "", ""), None),
    (4, (1, 1, 1), ("", 'encode("emma", letters): item [{i}] is {j}; expected 4', ""), None),
    (3, (1, 2, 0), ("", "", "decode([{i}, 0, {j}], letters) returned 'ab'; expected 'a'"), None),
    (2, (0, 0, 0), (NOT_WRITTEN,) * 3, "timeout"),
]
PIECES = [
    ("build_vocab", "build_vocab_tests", 1.0),
    ("encode", "encode_tests", 2.0),
    ("decode", "decode_tests", 1.0),
]


@pytest.fixture(scope="module")
def twenty(graded, tmp_path_factory):
    """A copy of the graded course with MORE's students stored by record.record(), as `grade` stores
    them."""
    root = tmp_path_factory.mktemp("twenty") / "course"
    shutil.copytree(graded.root, root)
    course = Course(root)
    number = 0
    for count, points, messages, flag in MORE:
        for _ in range(count):
            number += 1
            student = f"more{number:02d}"
            pieces = [
                PieceResult(
                    piece,
                    grade_id,
                    float(got),
                    maximum,
                    got == maximum,
                    text.format(i=number, j=number + 5),
                )
                for (piece, grade_id, maximum), got, text in zip(PIECES, points, messages)
            ]
            flags = (
                [Flag(student, CHAPTER, "", flag, "the notebook ran past its time limit")]
                if flag
                else []
            )
            record(
                course,
                Graded(student, CHAPTER, None, None, {}, pieces, flags),
                SimpleNamespace(sandboxed=True),
            )
    return course


def test_a_twenty_student_page(twenty, browser, capsys):
    path, summary = make_report(capsys, twenty)
    assert "20 graded submission(s)" in summary and "3 flag(s)" in summary, summary
    page, console = open_page(browser, twenty.grading_dir / "report" / "index.html")
    bars = {"0": 3, "1": 0, "2": 2, "3": 8, "4": 7}
    pieces = {
        "build_vocab_tests": (17, 0, 3),
        "encode_tests": (11, 4, 5),
        "decode_tests": (13, 0, 7),
    }
    mistakes = {
        "build_vocab_tests": [(3, NOT_WRITTEN)],
        "encode_tests": [(6, OFF_BY_PATTERN), (3, NOT_WRITTEN)],
        "decode_tests": [
            (3, "decode([#, #, #], letters) returned 'ab'; expected 'a'"),
            (3, NOT_WRITTEN),
            (1, HOSTILE_SHOWN),
        ],
    }
    assert_page(
        page, console, bars, pieces, mistakes, {"policy": (1, 1), "timeout": (2, 2)}, graded=20
    )
    assert page["runs"] == [f"{CHAPTER}: 5"], page["runs"]
    browser.set_window_size(1200, 2600)
    browser.save_screenshot(str(twenty.grading_dir / "report" / "twenty.png"))
