"""Feedback a learner can rely on, measured: does what passes the visible tests pass the grader?

    python benchmarks/feedback_truth.py [--before REV]

Runs the developers' variants of every graded piece (tests/piece_variants/NN_name.py: mistakes the
visible tests must catch, and mistakes only the hidden check can) through each chapter's visible
tests alone and through its tests cells as the grader runs them (hidden block included), in this
process. Prints per piece and in total: the mistakes the visible tests catch, those whose first
message names the cause (the variant's `says`), those the grader catches while every visible test
passes ("passes, then loses points"), With --before REV, the same variants against the chapters'
notebooks at git revision REV, side by side, so one run shows the change. Messages that send the
learner to fix given code are not measured here: the attribution is added by IPython and by the
judge, not in this process (test_attribution proves both, per chapter).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
# the chapters' picture cells run here too, with no display
os.environ.setdefault("MPLBACKEND", "Agg")

from autograder.command_line import Parser, UsageError, run  # noqa: E402
from visible_tests import chapter_variants, names_the_cause, visible_failure  # noqa: E402


def notebook_at(revision: str, chapter: str) -> nbformat.NotebookNode:
    text = subprocess.run(
        ["git", "show", f"{revision}:chapters/{chapter}/{chapter}.ipynb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return nbformat.reads(text, as_version=4)


def measure(chapter: str, variant, nb=None) -> dict:
    """What the learner and the grader see of one mistake."""
    shown = visible_failure(chapter, variant.piece, variant.code, nb=nb)
    graded = shown or visible_failure(chapter, variant.piece, variant.code, with_hidden=True, nb=nb)
    return {
        "caught": shown is not None,
        "named": names_the_cause(shown, variant.says),
        "passes_then_loses": shown is None and graded is not None,
    }


def tally(rows: list[dict]) -> str:
    n = len(rows)
    count = {key: sum(row[key] for row in rows) for key in ("caught", "named", "passes_then_loses")}
    cells = [f"{count[key]}/{n}" for key in ("caught", "named")] + [count["passes_then_loses"]]
    return " ".join(f"{cell:>7}" for cell in cells)


PROG = "benchmarks/feedback_truth.py"


def main(argv=None) -> int:
    parser = Parser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument(
        "--before", metavar="REV", help="also measure the chapters' notebooks at this git revision"
    )
    args = parser.parse_args(argv)
    if (
        args.before
        and subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", f"{args.before}^{{commit}}"],
            cwd=ROOT,
            capture_output=True,
        ).returncode
    ):
        raise UsageError(f"{args.before!r} is not a git revision of this repository")
    header = " ".join(f"{name:>7}" for name in ("caught", "named", "p→l"))
    print(f"{'':<34}{'':>9}  {'after':<23}" + (f"  before ({args.before})" if args.before else ""))
    print(f"{'piece':<34}{'mistakes':>9}  {header}" + (f"  {header}" if args.before else ""))
    totals, totals_before, hidden_only, missed = [], [], [], []
    for chapter, module in chapter_variants().items():
        mistakes = list(module.MISTAKES) + list(getattr(module, "HIDDEN_ONLY", []))
        old = notebook_at(args.before, chapter) if args.before and mistakes else None
        for piece in dict.fromkeys(v.piece for v in mistakes):
            ours = [v for v in mistakes if v.piece == piece]
            rows = [measure(chapter, v) for v in ours]
            missed += [
                f"{chapter} {piece}: {v.name}"
                for v, row in zip(ours, rows)
                if not row["caught"] and v in module.MISTAKES
            ]
            totals += rows
            line = f"{chapter + ' ' + piece:<34}{len(ours):>9}  {tally(rows)}"
            if old is not None:
                before = [measure(chapter, v, old) for v in ours]
                totals_before += before
                line += f"  {tally(before)}"
            print(line)
        hidden_only += [
            f"{chapter} {v.piece}: {v.name} ({v.says})" for v in getattr(module, "HIDDEN_ONLY", [])
        ]
    line = f"{'total':<34}{len(totals):>9}  {tally(totals)}"
    if totals_before:
        line += f"  {tally(totals_before)}"
    print(line)
    print(
        "caught: the visible tests fail; named: their first message names the "
        "cause; p→l: every visible test passes and the grader takes the points"
    )
    for title, names in (
        ("mistakes the visible tests should catch and do not", missed),
        ("mistakes only the hidden checks catch, and why", hidden_only),
    ):
        print(f"{title}: {len(names)}")
        for name in names:
            print(f"  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(run(PROG, main))
