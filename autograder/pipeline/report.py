"""The class report (`microgpt-course report`): one self-contained HTML page of how a class did.

Read only from what `grade` wrote:
- the gradebook: each graded submission's score (the chapter's score distribution, manual grades
  included);
- grading/results/CHAPTER/STUDENT.json: each judged piece's points and the check's message (per
  piece the students with full, partial and no points, and the most frequent messages, the class's
  common mistakes, grouped after `normalise`);
- grading/flags/: the flags, by kind;
- grading/logs/*-grade.log: grading time, each run's wall time (per-submission time is not
  recorded).

The page has inline CSS and inline SVG only (no script, no network), a Content-Security-Policy that
forbids scripts anyway, and every text it prints HTML-escaped: messages come from learner code.
Student ids appear only when asked (`names=True`).
"""

from __future__ import annotations

import html
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .course import Course, UsageError
from .flags import Kind, load_flags, write_atomically

TOP_MISTAKES = 5  # messages shown per piece; the rest are summed in one line
SHOWN_CHARS = 400  # a message longer than this is cut on the page (grouping uses all of it)
WHOLE_POINT_BARS = 20  # up to this maximum, one bar per whole point; above it, ten bars of 10 %

# a number standing alone (not part of a name such as x1 or 02_tokenization): 4, -1, 0.25, 1e-05
NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) [A-Z]+ (.*)$")
GRADED_LINE = re.compile(r"^(\S+) (\d\d_\w+): (?:[-+.\deE]+/[-+.\deE]+ flags=|the grader failed:)")


def normalise(message: str) -> str:
    """The message with each standalone number replaced by #, so that one mistake made on different
    values groups together: 'item [1] is 5; expected 4' -> 'item [#] is #; expected #'."""
    return NUMBER.sub("#", " ".join(message.split()))


# ---------------------------------------------------------------------------- what the page shows


@dataclass
class Mistake:
    """One normalised message of a piece's not-full results: how many had it, who, one real
    example."""

    pattern: str
    students: list[str]
    example: str

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass
class PieceStats:
    """One graded piece (grade cell) over the judged submissions: students by full/partial/no
    points."""

    grade_id: str
    max_points: float
    full: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    none: list[str] = field(default_factory=list)
    mistakes: list[Mistake] = field(default_factory=list)  # most frequent first

    @property
    def judged(self) -> int:
        return len(self.full) + len(self.partial) + len(self.none)


@dataclass
class ChapterStats:
    """A chapter's graded submissions: scores {student: score} from the gradebook, the judged pieces
    in notebook order, its flags, and what could not be read."""

    chapter: str
    max_score: float
    scores: dict[str, float]
    manual_pending: list[str]  # students whose written answers wait for manual grading
    pieces: list[PieceStats]
    flags: list  # flags.Flag of this chapter
    unreadable: list[str] = field(default_factory=list)  # results files that are not valid JSON


@dataclass
class GradeRun:
    """One `grade` run from its log: when, how long, which submissions it recorded (or failed
    on)."""

    log: str
    started: datetime
    seconds: float
    finished: bool  # the log ends with its `exit N` line (False: still running, or killed)
    graded: dict[str, int]  # chapter -> submissions


def submissions_of(gb, chapter: str) -> list:
    """The chapter's graded submissions in the gradebook (nbgrader's SubmittedAssignment), maybe
    none."""
    from nbgrader.api import MissingEntry

    try:
        return list(gb.find_assignment(chapter).submissions)
    except MissingEntry:  # never released into this gradebook
        return []


def chapter_stats(
    course: Course, chapter: str, max_score: float, submissions: list, flags: list
) -> ChapterStats:
    """What the page shows of one chapter, from its gradebook submissions (not empty) and results
    files."""
    scores = {s.student.id: float(s.score or 0) for s in submissions}
    pending = sorted(s.student.id for s in submissions if s.needs_manual_grade)
    pieces, messages, unreadable = {}, {}, []
    for student in sorted(scores):
        path = course.grading_dir / "results" / chapter / f"{student}.json"
        if not path.is_file():
            # graded before results were kept, or the grade run was killed before writing it
            continue
        try:  # (grade_id, points, max_points, message) per piece, as record.piece_json stored them
            judged = [
                (
                    str(p["grade_id"]),
                    float(p["points"]),
                    float(p["max_points"]),
                    str(p.get("message") or ""),
                )
                for p in json.loads(path.read_text(encoding="utf-8"))["pieces"]
            ]
        except (ValueError, KeyError, TypeError, OSError):
            unreadable.append(student)
            continue
        for grade_id, points, max_points, text in judged:
            stats = pieces.setdefault(grade_id, PieceStats(grade_id, max_points))
            if points >= max_points:
                stats.full.append(student)
                continue
            (stats.partial if points > 0 else stats.none).append(student)
            text = text or "(no message)"
            messages.setdefault(grade_id, {}).setdefault(normalise(text), []).append(
                (student, text)
            )
    for grade_id, stats in pieces.items():
        groups = sorted(messages.get(grade_id, {}).items(), key=lambda kv: (-len(kv[1]), kv[0]))
        stats.mistakes = [
            Mistake(pattern, [s for s, _ in seen], seen[0][1]) for pattern, seen in groups
        ]
    return ChapterStats(
        chapter,
        max_score,
        scores,
        pending,
        list(pieces.values()),
        [f for f in flags if f.chapter == chapter],
        unreadable,
    )


def grade_runs(course: Course, chapters: list[str]) -> list[GradeRun]:
    """The grade runs whose logs record a submission of `chapters`, oldest first. A submission
    counts once per run; its log lines can be followed by the notebook's own output, so only lines
    naming a chapter asked for are counted and the run ends at the log's last timestamped line."""
    runs = []
    for path in sorted((course.grading_dir / "logs").glob("*-grade.log")):
        stamps, seen, finished = [], set(), False
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = LOG_LINE.match(line)
            if not match:
                continue
            stamps.append(datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f"))
            finished = match.group(2).startswith("exit ")
            graded = GRADED_LINE.match(match.group(2))
            if graded and graded.group(2) in chapters:
                seen.add((graded.group(1), graded.group(2)))
        if seen:
            runs.append(
                GradeRun(
                    path.name,
                    stamps[0],
                    (stamps[-1] - stamps[0]).total_seconds(),
                    finished,
                    dict(sorted(Counter(c for _, c in seen).items())),
                )
            )
    return runs


def class_report(course: Course, chapters: list[str] | None, progress=None):
    """(ChapterStats of each chapter with grades, GradeRun list). chapters None: every chapter with
    grades. UsageError if nothing is graded, or a chapter asked for has no grades."""
    candidates = chapters if chapters is not None else course.chapters()
    if not course.has_gradebook():  # opening a gradebook would create one
        raise UsageError("nothing graded yet (run microgpt-course grade first)")
    flags = load_flags(course)
    with course.gradebook() as gb:
        submissions = {c: submissions_of(gb, c) for c in candidates}
        empty = [c for c in candidates if not submissions[c]]
        if chapters is not None and empty:
            raise UsageError(
                f"nothing graded yet in {', '.join(empty)} (run microgpt-course grade first)"
            )
        if len(empty) == len(candidates):
            raise UsageError("nothing graded yet (run microgpt-course grade first)")
        bar = progress(len(candidates) - len(empty), "report") if progress else None
        found = []
        for chapter in (c for c in candidates if submissions[c]):
            found.append(
                chapter_stats(
                    course,
                    chapter,
                    float(gb.find_assignment(chapter).max_score or 0),
                    submissions[chapter],
                    flags,
                )
            )
            if bar:
                bar.advance(f"{chapter} {len(submissions[chapter])} graded")
    return found, grade_runs(course, [s.chapter for s in found])


# ---------------------------------------------------------------------------- the page

STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 70em; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.6em; }
h2 { border-bottom: 2px solid #ccc; margin-top: 2em; }
h3 { margin-top: 1.5em; }
table { border-collapse: collapse; margin: .5em 0; }
th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.share { display: flex; width: 12em; height: 1em; border: 1px solid #999; }
.share span { display: block; height: 100%; }
.key { display: inline-block; width: 1em; }
.full { background: #3a7d44; } .partial { background: #e0a526; } .none { background: #c0392b; }
pre { white-space: pre-wrap; word-break: break-word; margin: 0; font-size: 13px; }
.note { color: #555; font-size: 13px; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
svg rect.bar { fill: #4a6fa5; }
"""
# even if some text escaped its escaping, nothing could run or be fetched
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def esc(value) -> str:
    """Any value as HTML text (quotes too: also safe inside attributes)."""
    return html.escape(str(value), quote=True)


def num(value: float) -> str:
    """A score as people write it: 4, 2.5."""
    return f"{value:g}"


def bins(scores: list[float], max_score: float) -> list[tuple[str, int]]:
    """(label, students) per bar of the distribution. Up to WHOLE_POINT_BARS points: one bar per
    whole point k (k <= score < k+1; the last bar is the maximum); above: ten bars of 10 % of the
    maximum."""
    if 0 < max_score <= WHOLE_POINT_BARS:
        top = math.floor(max_score)
        counts = Counter(min(math.floor(s), top) for s in scores)
        return [(str(k), counts.get(k, 0)) for k in range(top + 1)]
    width = (max_score or 1) / 10
    counts = Counter(min(int(s // width), 9) for s in scores)
    return [(f"{10 * k}-{10 * k + 10}%", counts.get(k, 0)) for k in range(10)]


def histogram_svg(chapter: str, bars: list[tuple[str, int]]) -> str:
    """An inline SVG bar chart: one rect.bar per bin (data-label, data-count), its count above
    it."""
    width, height, left, bottom, top = 520, 220, 40, 30, 20
    plot_w, plot_h = width - left - 10, height - bottom - top
    tallest = max([c for _, c in bars] + [1])
    step = plot_w / len(bars)
    parts = [
        '<svg class="distribution" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="score distribution of {esc(chapter)}">',
        f'<line x1="{left}" y1="{top + plot_h}" '
        f'x2="{width - 10}" y2="{top + plot_h}" stroke="#333"/>',
    ]
    for i, (label, count) in enumerate(bars):
        h = plot_h * count / tallest
        x = left + i * step + step * 0.1
        parts.append(
            f'<rect class="bar" data-label="{esc(label)}" data-count="{count}" x="{x:.1f}" '
            f'y="{top + plot_h - h:.1f}" width="{step * 0.8:.1f}" height="{h:.1f}">'
            f"<title>{esc(label)}: {count} student(s)</title></rect>"
        )
        middle = x + step * 0.4
        parts.append(
            f'<text x="{middle:.1f}" y="{top + plot_h - h - 4:.1f}" '
            f'text-anchor="middle">{count}</text>'
        )
        parts.append(
            f'<text x="{middle:.1f}" y="{height - 10}" text-anchor="middle">{esc(label)}</text>'
        )
    parts.append(f'<text x="4" y="{top + 4}">students</text></svg>')
    return "".join(parts)


def who(students: list[str], names: bool) -> str:
    """The students' ids (only when names were asked for), for a table cell."""
    return f'<span class="who">{esc(", ".join(students))}</span>' if names and students else ""


def share_cells(stats: PieceStats, names: bool) -> str:
    """The full / partial / none cells of a piece's row, and its stacked bar."""
    cells, bar = [], []
    for kind in ("full", "partial", "none"):
        students = getattr(stats, kind)
        share = len(students) / stats.judged if stats.judged else 0
        cells.append(
            f'<td class="n {kind}-count" data-count="{len(students)}">{len(students)} '
            f"({share:.0%}){' ' + who(students, names) if names and students else ''}</td>"
        )
        bar.append(f'<span class="{kind}" style="width:{100 * share:.2f}%"></span>')
    return "".join(cells) + f'<td><div class="share">{"".join(bar)}</div></td>'


def mistakes_html(stats: PieceStats, names: bool) -> str:
    """The piece's most frequent messages, with counts; the rest summed in one line."""
    if not stats.mistakes:
        return ""
    items = []
    for m in stats.mistakes[:TOP_MISTAKES]:
        shown = m.pattern if len(m.pattern) <= SHOWN_CHARS else m.pattern[:SHOWN_CHARS] + " ..."
        example = (
            ""
            if m.example == m.pattern
            else f'<div class="note">e.g. <code>{esc(m.example[:SHOWN_CHARS])}</code></div>'
        )
        items.append(
            f'<li class="mistake" data-count="{m.count}"><b>{m.count}</b> '
            f"&times; <pre>{esc(shown)}</pre>"
            f"{example}{'<div>' + who(m.students, True) + '</div>' if names else ''}</li>"
        )
    rest = stats.mistakes[TOP_MISTAKES:]
    if rest:
        items.append(
            f'<li class="note">and {len(rest)} other message(s), {sum(m.count for m in rest)} '
            f"student(s)</li>"
        )
    return (
        f"<h4>{esc(stats.grade_id)}: most frequent messages</h4>"
        f'<ol class="mistakes" data-piece="{esc(stats.grade_id)}">{"".join(items)}</ol>'
    )


def flags_html(stats: ChapterStats, names: bool) -> str:
    """The chapter's flags by kind: how many flags, how many students, what the kind means."""
    if not stats.flags:
        return '<p class="flags-none">No flags.</p>'
    rows = []
    for kind in Kind:
        mine = [f for f in stats.flags if f.kind == kind]
        if mine:
            students = sorted({f.student for f in mine})
            rows.append(
                "<tr "
                f'data-kind="{esc(kind)}"><td><code>{esc(kind)}</code></td><td>{esc(kind.meaning)}</td>'
                f'<td class="n flag-count">{len(mine)}</td><td '
                f'class="n student-count">{len(students)}'
                f"{' ' + who(students, names) if names else ''}</td></tr>"
            )
    return (
        '<table class="flags"><tr><th>flag</th><th>what '
        "it means</th><th>flags</th><th>students</th></tr>" + "".join(rows) + "</table>"
    )


def chapter_html(stats: ChapterStats, names: bool) -> str:
    """A chapter's section: summary, distribution (chart and table), pieces, messages, flags."""
    scores = sorted(stats.scores.values())
    mean = sum(scores) / len(scores)
    median = (scores[(len(scores) - 1) // 2] + scores[len(scores) // 2]) / 2
    bars = bins(scores, stats.max_score)
    out = [
        '<section class="chapter" '
        f'data-chapter="{esc(stats.chapter)}"><h2>{esc(stats.chapter)}</h2>',
        '<p><span class="graded" '
        f'data-count="{len(scores)}">{len(scores)}</span> graded submission(s), '
        f"maximum {num(stats.max_score)} points; mean {mean:.2f}, median {num(median)}."
        + (
            f" {len(stats.manual_pending)} wait for manual grading (their scores may rise)."
            if stats.manual_pending
            else ""
        )
        + "</p>",
        "<h3>Score distribution</h3>",
        histogram_svg(stats.chapter, bars),
        '<table class="bins"><tr><th>points</th><th>students</th></tr>'
        + "".join(
            f'<tr><td>{esc(label)}</td><td class="n">{count}</td></tr>' for label, count in bars
        )
        + "</table>",
        "<h3>Pieces</h3>",
    ]
    if stats.pieces:
        out.append(
            '<table class="pieces"><tr><th>piece</th><th>points</th><th>judged</th><th>full</th>'
            '<th>partial</th><th>none</th><th><span class="key full">&nbsp;</span> full '
            '<span class="key partial">&nbsp;</span> partial '
            '<span class="key none">&nbsp;</span> none</th></tr>'
        )
        for piece in stats.pieces:
            out.append(
                "<tr "
                f'data-piece="{esc(piece.grade_id)}"><td><code>{esc(piece.grade_id)}</code></td>'
                f'<td class="n">{num(piece.max_points)}</td><td class="n">{piece.judged}</td>'
                f"{share_cells(piece, names)}</tr>"
            )
        out.append("</table>")
        out.extend(mistakes_html(p, names) for p in stats.pieces)
    else:
        out.append('<p class="note">No judged results (grading/results) for this chapter.</p>')
    if stats.unreadable:
        out.append(
            f'<p class="note">{len(stats.unreadable)} results file(s) could not be read.</p>'
        )
    out.append("<h3>Flags</h3>" + flags_html(stats, names) + "</section>")
    return "".join(out)


def runs_html(runs: list[GradeRun]) -> str:
    """Grading time: a row per grade run, from its log."""
    intro = (
        '<p class="note">From the grade logs '
        "(grading/logs/*-grade.log): each run's wall time, from its "
        "first to its last log line (the self-check "
        "included). Per-submission time is not recorded; "
        '"seconds per submission" is the wall time divided by the submissions the run graded, with '
        "its workers in parallel.</p>"
    )
    if not runs:
        return intro + "<p>No grade log names these chapters.</p>"
    rows = []
    for run in runs:
        count = sum(run.graded.values())
        rows.append(
            f'<tr class="run"><td>{esc(run.started.strftime("%Y-%m-%d %H:%M:%S"))}</td>'
            f"<td>{esc(', '.join(f'{c}: {n}' for c, n in run.graded.items()))}</td>"
            f'<td class="n">{run.seconds:.1f}{"" if run.finished else " (no exit line)"}</td>'
            f'<td class="n">{run.seconds / count:.1f}</td><td><code>{esc(run.log)}</code></td></tr>'
        )
    return (
        intro + '<table class="runs"><tr><th>started</th><th>submissions</th><th>seconds</th>'
        "<th>seconds per submission</th><th>log</th></tr>" + "".join(rows) + "</table>"
    )


def render(chapters: list[ChapterStats], runs: list[GradeRun], names: bool, made: datetime) -> str:
    """The whole page (one HTML document)."""
    students = len({s for c in chapters for s in c.scores})
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Class report</title><style>{STYLE}</style></head><body>"
        f"<h1>Class report</h1><p>{len(chapters)} chapter(s), "
        f"{students} student(s) with a graded submission; "
        f"made {esc(made.strftime('%Y-%m-%d %H:%M'))}. "
        + (
            "Student ids are shown (--names)."
            if names
            else "Counts only: run with --names to see which students."
        )
        + (
            '</p><p class="note">Scores are the gradebook\'s (manual grading included). Per piece, '
            '"full", "partial" and "none" count the judged '
            "points of grading/results. Messages are those of "
            "the pieces without full points, grouped after "
            "replacing every number by #: messages that "
            "differ only in numbers count as one mistake (one real message is shown under it).</p>"
        )
        + "".join(chapter_html(c, names) for c in chapters)
        + "<h2>Grading time</h2>"
        + runs_html(runs)
        + "</body></html>\n"
    )


def write_report(
    course: Course,
    chapters: list[str] | None,
    output: Path | None,
    names: bool,
    progress=None,
    log=None,
) -> tuple[Path, str]:
    """Write the page to output/index.html (default grading/report/); returns (its path, a summary
    line). UsageError for an output that is a file, or nothing graded."""
    folder = Path(output) if output else course.grading_dir / "report"
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"--output {folder} is a file, not a folder")
    found, runs = class_report(course, chapters, progress)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot make the folder {folder}: {exc.strerror}") from None
    page = folder / "index.html"
    write_atomically(page, render(found, runs, names, datetime.now()))
    # a page to open and share like any other (write_atomically's files are private)
    page.chmod(0o644)
    graded = sum(len(c.scores) for c in found)
    pieces = sum(len(c.pieces) for c in found)
    flags = sum(len(c.flags) for c in found)
    summary = (
        f"report of {len(found)} chapter(s): {graded} graded "
        f"submission(s), {pieces} piece(s), {flags} flag(s), {len(runs)} "
        f"grade run(s){', students named' if names else ''}; wrote {page}"
    )
    if log:
        log.info("%s", summary)
    return page, summary
