"""What passes a piece's visible tests passes the grader: each contract point a hidden check grades has a
visible test, so every mistake breaking one fails the visible tests first, with a message naming the cause,
while correct code written differently passes (the variants: tests/piece_variants/NN_name.py)."""

import pytest

from visible_tests import chapter_variants, visible_failure

CHAPTERS = chapter_variants()
MISTAKES = [(chapter, v) for chapter, module in CHAPTERS.items() for v in module.MISTAKES]
CORRECT = [(chapter, v) for chapter, module in CHAPTERS.items() for v in module.CORRECT]


def ids(cases):
    return [f"{chapter}-{v.piece}-{v.name}" for chapter, v in cases]


@pytest.mark.parametrize("chapter, variant", MISTAKES, ids=ids(MISTAKES))
def test_a_mistake_fails_its_visible_tests_and_the_message_names_the_cause(chapter, variant):
    shown = visible_failure(chapter, variant.piece, variant.code)
    assert shown is not None, f"{variant.name}: every visible test of {variant.piece} passes"
    assert variant.says in shown, f"{variant.name}: the learner reads\n{shown}\nwhich does not say {variant.says!r}"


@pytest.mark.parametrize("chapter, variant", CORRECT, ids=ids(CORRECT))
def test_correct_code_written_differently_passes_its_visible_tests(chapter, variant):
    assert visible_failure(chapter, variant.piece, variant.code) is None


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_the_instructors_solutions_pass_and_every_variant_names_a_real_piece(chapter):
    from visible_tests import _source
    from autograder.notebook_format import graded_pieces

    pieces = {p.solution_id for p in graded_pieces(_source(chapter))}
    module = CHAPTERS[chapter]
    for piece in sorted({v.piece for v in module.MISTAKES + module.CORRECT}):
        assert piece in pieces, f"{chapter} has no graded piece {piece!r}"
        assert visible_failure(chapter, piece) is None
