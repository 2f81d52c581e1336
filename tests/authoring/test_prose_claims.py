"""Claims: a number the text states about an output is checked by the build
(autograder/authoring/prose_claims.py).

One tiny synthetic chapter is built (one kernel); the rest works on parsed claims alone. That all
ten chapters' claims hold is test_chapters' test_notebook_and_text_source_match_a_fresh_build:
check_chapter re-checks each chapter's stated numbers against the values its last build recorded
(claims.json)."""

import json

import nbformat
import pytest

from autograder.authoring import build_chapters, prose_claims as claims

CHAPTER = '''# %% [markdown]
# A tiny chapter.

# %% fetch=true

# %% claims={"2.31]": "losses[-1]"}
losses = [3.3, 2.9, 2.31]
docs = ["emma"] * 32033


def double(x):
    """Twice x.

    >>> double(1.25)
    2.5
    """
    return 2 * x


# %% [markdown]
# The loss ends near 2.3<!-- claim: losses[-1] ± 0.05 --> after 3<!-- claim: len(losses) -->
# steps, on **32,033**<!-- claim: len(docs) --> names; it starts at 3.30<!-- claim: losses[0] -->,
# and falls below 3 by the second step<!-- claim: losses[1] < 3 -->.
'''


def _chapter(tmp_path, text):
    path = tmp_path / "src" / "09_try" / "09_try.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return build_chapters.Chapter("09_try", path, tmp_path / "chapters" / "09_try")


def _line(text, snippet):
    return next(n for n, line in enumerate(text.splitlines(), start=1) if snippet in line)


def _claim(markdown):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    return claims.find(nb, [1], "x.py")[0][0]


@pytest.mark.parametrize(
    "markdown, value, holds",
    [
        ("about 2.3<!-- claim: x ± 0.1 -->", 2.39, True),
        ("about 2.3<!-- claim: x ± 0.1 -->", 2.41, False),
        ("is 3.4955<!-- claim: x -->", 3.49549, True),
        ("is 3.4955<!-- claim: x -->", 3.4958, False),
        ("**4,192**<!-- claim: x --> parameters", 4192, True),
        ("**4,192**<!-- claim: x --> parameters", 4193, False),
        ("to about $-0.3$<!-- claim: x -->", -0.31, True),
        ("40%<!-- claim: 100 * x -->", 40.2, True),
        ("between steps 5 and 6<!-- claim: 5 <= x <= 6 -->", True, True),
        ("between steps 5 and 6<!-- claim: 5 <= x <= 6 -->", False, False),
    ],
)
def test_a_stated_number_is_compared_at_its_written_precision_or_tolerance(markdown, value, holds):
    assert (claims.problem(_claim(markdown), {"value": value, "parts": {}}) is None) == holds


def test_claims_are_found_with_their_source_lines_and_malformed_ones_refused():
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("a\nb 2.5<!-- claim: y -->\nc")]
    )
    found = claims.find(nb, [10], "x.py")[0]
    assert [(c["line"], c["states"], c["expr"], c["tol"]) for c in found] == [
        (12, "2.5", "y", None)
    ]
    with pytest.raises(
        claims.ClaimError, match=r"x.py:11: the claim 'y \+' is not a Python expression"
    ):
        claims.find(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("2<!-- claim: y + -->")]),
            [10],
            "x.py",
        )
    # a number in code (a picture's alt text, say) is claimed in the cell's metadata, naming text
    # the code holds
    code = nbformat.v4.new_code_cell(
        'x = 1\nshow("a peak of about 0.84")', metadata={"claims": {"about 0.84": "p"}}
    )
    found = claims.find(nbformat.v4.new_notebook(cells=[code]), [20], "x.py")[0]
    assert [(c["line"], c["states"], c["expr"]) for c in found] == [(22, "0.84", "p")]
    code.metadata["claims"] = {"about 0.85": "p"}
    with pytest.raises(
        claims.ClaimError,
        match="x.py:20: the claim about 'about 0.85' names text its cell does not",
    ):
        claims.find(nbformat.v4.new_notebook(cells=[code]), [20], "x.py")
    assert "no number comes right before it" in claims.problem(
        _claim("x<!-- claim: y -->"), {"value": 2}
    )


def test_the_build_checks_every_claim_and_refuses_a_false_one_and_check_catches_an_edit(
    tmp_path, capsys, monkeypatch
):
    chapter = _chapter(tmp_path, CHAPTER)
    build_chapters.build_chapter(chapter, log=lambda text: None)
    recorded = json.loads(build_chapters.claims_record(chapter).read_text(encoding="utf-8"))
    assert [e.get("value", e.get("expects")) for e in recorded] == [
        2.31,
        2.31,
        3,
        32033,
        3.3,
        True,
        "2.5",
    ]
    assert build_chapters.check_chapter(chapter) == []
    outputs = [
        o for cell in nbformat.read(chapter.notebook, 4).cells for o in cell.get("outputs", [])
    ]
    assert "claim" not in json.dumps(outputs)  # the claims cell is gone, with its output

    # an edit of a stated number in JupyterLab (saved to both files) leaves the build's outputs:
    # --check names it
    for path in (chapter.source, chapter.notebook):
        path.write_text(
            path.read_text(encoding="utf-8").replace("3.30<!--", "3.40<!--"), encoding="utf-8"
        )
    problems = build_chapters.check_chapter(chapter)
    line = _line(chapter.source.read_text(encoding="utf-8"), "3.40<!--")
    assert any(
        f"09_try.py:{line}: the claim '3.40' <!-- claim: losses[0] --> is false: the value is 3.3"
        in p
        for p in problems
    ), problems
    # and an unchecked claim added that way is reported as not checked yet
    for path in (chapter.source, chapter.notebook):
        path.write_text(
            path.read_text(encoding="utf-8").replace("3.40<!--", "3.3<!-- claim: 1 -->, 3.30<!--"),
            encoding="utf-8",
        )
    assert any(
        "claims changed since the last build" in p for p in build_chapters.check_chapter(chapter)
    )

    # the build refuses a false claim (exit 2, one line naming the chapter, the claim and the value)
    # and a failing docstring example; nothing is written
    false = (
        CHAPTER.replace("3<!-- claim: len(losses) -->", "4<!-- claim: len(losses) -->")
        .replace("losses[1] < 3", "losses[1] < 2.5")
        .replace("    2.5\n", "    2.50\n")
    )
    chapter = _chapter(tmp_path / "false", false)
    monkeypatch.setattr(build_chapters, "SOURCES", chapter.source.parents[1])
    monkeypatch.setattr(build_chapters, "CHAPTERS", chapter.folder.parent)
    capsys.readouterr()
    assert build_chapters.main(["09"]) == 2
    error = capsys.readouterr().err
    assert error.endswith(
        f"09_try.py:{_line(false, '4<!--')}: 09_try: the claim '4' <!-- claim: len(losses) --> "
        "is false: the value is 3, not 4 when printed with 0 decimals\n"
    ), error
    assert error.count("\n") == 1 and error.startswith(f"{build_chapters.PROG}: error: "), error
    assert not chapter.notebook.exists() and not build_chapters.claims_record(chapter).exists()

    chapter.source.write_text(false.replace("4<!--", "3<!--"), encoding="utf-8")
    at = f"09_try.py:{_line(false, '< 2.5')}: 09_try"
    with pytest.raises(
        build_chapters.BuildError,
        match=rf"{at}: the claim <!-- claim: losses\[1\] < 2.5 --> is false: losses\[1\] = 2.9",
    ):
        build_chapters.build_chapter(chapter, log=lambda text: None)
    chapter.source.write_text(
        false.replace("4<!--", "3<!--").replace("< 2.5", "< 3"), encoding="utf-8"
    )
    at = f"09_try.py:{_line(false, 'double(1.25)')}: 09_try"
    with pytest.raises(
        build_chapters.BuildError,
        match=rf"{at}: the docstring example `double\(1.25\)` of double gives '2.5', not '2.50'",
    ):
        build_chapters.build_chapter(chapter, log=lambda text: None)
