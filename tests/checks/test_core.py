"""The machinery every check shares: the list of checks, messages, tolerances, the reverse pass the
checks use instead of the learner's backward, and the swapping of other pieces for the
reference's."""

import microgpt
import pytest
from hypothesis import given, settings, strategies as st

import autograder.checks
from autograder.checks import (
    check_build_vocab,
    check_gpt,
    check_rmsnorm,
    check_softmax,
    check_value_add,
    core,
)
from autograder.checks.core import SHOWN, backpropagate, close, graded, reference_pieces, show
from mutants import notebook, notebook_value_class, rejection

PIECES = [
    "value_add",
    "value_mul",
    "value_pow",
    "value_log",
    "value_exp",
    "value_relu",
    "backward",
    "build_vocab",
    "encode",
    "decode",
    "linear",
    "softmax",
    "rmsnorm",
    "param_shapes",
    "init_params",
    "parameters",
    "attention_head",
    "multi_head_attention",
    "gpt",
    "learning_rate",
    "adam_step",
    "document_loss",
    "train_step",
    "temperature_probs",
    "sample_token",
    "generate",
    "attention_maps",
    "mean_loss",
    "nearest_neighbours",
    "log_likelihood",
    "layernorm",
    "gelu",
]


def test_there_is_one_documented_check_per_graded_piece():
    assert sorted(autograder.checks.__all__) == sorted(f"check_{piece}" for piece in PIECES)
    for name in autograder.checks.__all__:
        assert getattr(autograder.checks, name).__doc__


VALUE_PIECES = [
    "linear",
    "softmax",
    "rmsnorm",
    "parameters",
    "attention_head",
    "multi_head_attention",
    "gpt",
    "adam_step",
    "document_loss",
    "train_step",
    "temperature_probs",
    "log_likelihood",
]


@pytest.mark.parametrize("piece", VALUE_PIECES)
def test_checks_of_class_agnostic_pieces_accept_a_notebook_value_class(piece):
    assert (
        getattr(autograder.checks, f"check_{piece}")(
            getattr(microgpt, piece), notebook_value_class()
        )
        is None
    )


@settings(max_examples=50)
@given(st.lists(st.floats(allow_nan=False) | st.integers(), max_size=40))
def test_messages_show_at_most_a_few_items_of_a_list(items):
    text = show(items)
    assert text.count(",") <= SHOWN
    if len(items) > SHOWN:
        assert text.endswith(f"... ({len(items)} items)]")


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_the_tolerance_accepts_last_bit_differences_and_nothing_more(x):
    assert close(x * (1 + 4e-16), x)
    assert close([x, x + 1e-13], [x, x])
    assert not close(x + max(abs(x), 1) * 1e-6, x)
    assert not close(float("nan"), x)


@settings(max_examples=30)
@given(st.randoms(use_true_random=False))
def test_the_checks_reverse_pass_matches_backward_on_random_graphs(rng):
    def build(cls, spec):
        nodes = []
        for x, children, local_grads in spec:
            nodes.append(cls(x, tuple(nodes[c] for c in children), local_grads))
        return nodes

    spec = []
    for i in range(rng.randint(1, 25)):
        children = tuple(rng.randrange(i) for _ in range(rng.randint(0, 3))) if i else ()
        spec.append((rng.uniform(-1, 1), children, tuple(rng.uniform(-2, 2) for _ in children)))
    ours, reference = build(microgpt.Value, spec), build(microgpt.Value, spec)
    seed = rng.uniform(-2, 2)
    backpropagate([ours[-1]], [seed])
    reference[-1].backward()
    for a, b in zip(ours, reference):
        assert close(a.grad, seed * b.grad) or (a.grad == 0 and b.grad == 0)


def test_named_pieces_are_swapped_only_while_the_check_runs_even_when_it_fails():
    learner = notebook(
        """
        def multi_head_attention(q, keys, values, n_head):
            raise NotImplementedError()

        def gpt(token_id, pos_id, keys, values, state_dict, config):
            return multi_head_attention([Value(1.0)], [[Value(1.0)]], [[Value(1.0)]], 1)
        """,
        Value=microgpt.Value,
    )
    mine = dict(learner)
    with reference_pieces(learner["gpt"], ("attention_head", "multi_head_attention")):
        assert learner["multi_head_attention"] is microgpt.multi_head_attention
        assert learner["gpt"] is mine["gpt"]
        assert "attention_head" not in learner  # a name the learner does not use is not added
    assert learner == mine
    # the reference multi_head_attention ran (the stub would have raised NotImplementedError), and
    # the stub is back
    assert "returned a list of 1 items; expected 27 logits" in rejection(check_gpt, learner["gpt"])
    assert learner == mine


def test_pieces_not_named_are_the_learners_own():
    learner = notebook(
        """
        def softmax(logits):
            raise NotImplementedError()

        def gpt(token_id, pos_id, keys, values, state_dict, config):
            return softmax([Value(1.0)])
        """,
        Value=microgpt.Value,
    )
    with reference_pieces(learner["gpt"], ("attention_head", "multi_head_attention")):
        assert learner["softmax"] is not microgpt.softmax
    assert "raised NotImplementedError" in rejection(check_gpt, learner["gpt"])


# --- exceptions raised by the learner's objects become AssertionErrors that say where ---


def test_an_exception_in_a_learners_method_names_that_method():
    def add_refusing_values(self, other):
        if isinstance(other, type(self)):
            raise TypeError("cannot add two Values")
        return type(self)(self.data + other, (self,), (1,))

    message = rejection(check_value_add, notebook_value_class(__add__=add_refusing_values))
    assert message.startswith(
        "value_add: a + b with a = Value(2.0) and b = Value(-3.5) raised TypeError: cannot add"
    )
    assert "It was raised in your add_refusing_values (line " in message


def test_an_exception_in_the_course_code_a_learner_calls_names_the_learners_caller():
    learner = notebook(
        """
        def softmax(logits):
            return microgpt.softmax([z.data for z in logits])  # numbers where Values are needed
        """,
        microgpt=microgpt,
    )
    message = rejection(check_softmax, learner["softmax"])
    assert "raised AttributeError: 'float' object has no attribute 'data'" in message
    assert (
        "It was raised in softmax, called from your softmax "
        "(line 3): check what your code passes to it." in message
    )


class BrokenRepr:
    def __repr__(self):
        raise ValueError("no repr today")


def test_a_broken_repr_never_breaks_a_message():
    assert show(BrokenRepr()) == "<a BrokenRepr whose repr raised ValueError>"
    message = rejection(check_build_vocab, lambda docs: [BrokenRepr()])
    assert (
        "item 0 is a BrokenRepr <a BrokenRepr whose repr raised ValueError>; expected one-character"
        in message
    )


def test_any_other_exception_inside_a_check_becomes_an_assertion_that_says_where():
    def learners_helper(x):
        return x.size  # the learner's object has no size

    @graded
    def check_piece(fn):
        """A check that uses what fn returns."""
        return learners_helper(fn())

    message = rejection(check_piece, lambda: 3)
    assert message.startswith(
        "piece: the check stopped with AttributeError: 'int' object has no attribute 'size' "
        "while it used what your code returned or built."
    )
    assert "It was raised in your learners_helper" in message
    assert (
        check_piece.__doc__ == "A check that uses what fn returns."
        and check_piece.__name__ == "check_piece"
    )


def test_a_hand_built_node_whose_children_are_not_a_tuple_is_named():
    learner = notebook(
        """
        def rmsnorm(x, eps=1e-5):
            scale = (sum(x_i * x_i for x_i in x) / len(x) + eps) ** -0.5
            return [Value(x_i.data * scale.data, (x_i), (scale.data)) * 1 for x_i in x]
        """,
        Value=microgpt.Value,
    )
    message = rejection(check_rmsnorm, learner["rmsnorm"])
    assert (
        "whose _children is a Value (data 3.0); expected a tuple of Values: write (x,)" in message
    )


# --- messages: what failed and what was expected first, a long call after ---


def test_a_short_call_leads_its_message():
    assert (
        core.about("softmax([1.0, 2.0])", " returned [0.5, 0.5]; expected [0.27, 0.73].")
        == "softmax([1.0, 2.0]) returned [0.5, 0.5]; expected [0.27, 0.73]."
    )


def test_a_long_call_follows_what_failed_and_keeps_the_part_of_the_label_after_it():
    label = (
        "gpt(26, 0, keys, values, state_dict, config) at position 0 of the tokens "
        "[26, 7], with config = GPTConfig(norm='rms: norm'): afterwards keys[0]"
    )
    message = core.about(label, " holds 0 entries; expected 1")
    assert message.startswith(
        "gpt: afterwards keys[0] holds 0 entries; expected 1. (For gpt(26, 0, keys"
    ), message
    # a ': ' inside quotes is not a cut
    assert message.endswith("GPTConfig(norm='rms: norm').)"), message


def test_a_long_list_is_described_by_its_first_difference_within_80_characters():
    label = (
        "attention_head(q=[0.1, 0.2, 0.3, 0.4], keys=[[1.0, "
        "2.0, 3.0, 4.0]], values=[[5.0, 6.0, 7.0, 8.0]])"
    )
    got = [0.123456, 1.234567, 2.345678, 3.456789, 4.567891, 5.678912]
    expected = [0.123456, 1.5, 2.345678, 3.456789, 4.567891, 5.678912]
    with pytest.raises(AssertionError) as failure:
        core.expect_close(got, expected, label, "Scale the scores.")
    message = str(failure.value)
    assert message.startswith(
        "attention_head: item 1 is 1.234567; expected 1.5 (it returned [0.123456, 1.2"
    ), message
    assert "Scale the scores. (For attention_head(q=[0.1, 0.2, 0.3, 0.4]" in message
