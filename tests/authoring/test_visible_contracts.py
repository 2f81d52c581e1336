"""What passes a piece's visible tests passes the grader: each contract point a hidden check grades
has a visible test, so every mistake breaking one fails the visible tests first, with a message
naming the cause, while correct code written differently passes (the variants:
tests/piece_variants/NN_name.py)."""

import pytest

from autograder.notebook_format import graded_pieces
from visible_tests import Variant, _source, chapter_variants, names_the_cause, visible_failure

CHAPTERS = chapter_variants()


def cases():
    """(chapter, variant), piece by piece (the instructor's solution first): the cells before a
    piece run once for all of its variants (visible_tests' snapshots)."""
    found = []
    for chapter, module in CHAPTERS.items():
        variants = [*module.CORRECT, *module.MISTAKES]
        for piece in dict.fromkeys(v.piece for v in variants):
            found.append((chapter, Variant(piece, "the instructor's solution", None)))
            found += [(chapter, v) for v in variants if v.piece == piece]
    return found


CASES = cases()


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_variant_is_of_a_graded_piece_and_has_a_name_of_its_own(chapter):
    module = CHAPTERS[chapter]
    pieces = {p.solution_id for p in graded_pieces(_source(chapter))}
    variants = [*module.CORRECT, *module.MISTAKES, *getattr(module, "HIDDEN_ONLY", [])]
    assert {v.piece for v in variants} <= pieces, (
        f"{chapter} has no graded piece {sorted({v.piece for v in variants} - pieces)}"
    )
    names = [(v.piece, v.name) for v in variants]
    assert len(names) == len(set(names)), f"{chapter}: two variants of a piece share a name"
    assert all(v.says for v in module.MISTAKES), (
        f"{chapter}: a mistake must say what its message names"
    )


@pytest.mark.parametrize(
    "chapter, variant", CASES, ids=[f"{c}-{v.piece}-{v.name}" for c, v in CASES]
)
def test_correct_code_passes_its_visible_tests_and_a_mistake_fails_them_naming_the_cause(
    chapter, variant
):
    shown = visible_failure(chapter, variant.piece, variant.code)
    if not variant.says:  # the instructor's solution, or correct code written differently
        assert shown is None, f"{variant.name}: correct, yet the visible tests fail:\n{shown}"
        return
    assert shown is not None, f"{variant.name}: every visible test of {variant.piece} passes"
    assert names_the_cause(shown, variant.says), (
        f"{variant.name}: the learner reads\n{shown}\nwhich does not say {variant.says!r}"
    )
