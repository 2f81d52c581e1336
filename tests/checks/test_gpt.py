"""Chapter 5 checks: attention_head, multi_head_attention and gpt accept correct implementations
written differently from the reference, reject plausible mistakes with a message that points at the
cause, and check each piece alone: the pieces graded in their own cells are the reference's while it
runs, and the learner's own helpers (even named like a reference function) are graded through it."""

import math

import microgpt
import pytest
from microgpt import Value, attention_head, attention_weights, linear, rmsnorm, softmax

from autograder.checks import check_attention_head, check_gpt, check_multi_head_attention
from mutants import (
    case_tables,
    none_mistake,
    notebook,
    notebook_value_class,
    rejection,
    stub_mistake,
    vector_mistakes,
)

# --- attention_head ---


def attention_head_loops(q, keys, values):
    scale = 1 / math.sqrt(len(q))
    scores = []
    for k in keys:
        score = Value(0.0)
        for q_j, k_j in zip(q, k):
            score = score + q_j * k_j
        scores.append(score * scale)
    weights = softmax(scores)
    out = []
    for j in range(len(q)):
        total = Value(0.0)
        for w_t, v_t in zip(weights, values):
            total = total + w_t * v_t[j]
        out.append(total)
    return out


def attention_head_given_weights(q, keys, values):
    weights = attention_weights(q, keys)
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(q))]


def attend(q, keys, values, scale):
    weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / scale for k in keys])
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]


def attention_unscaled(q, keys, values):
    return attend(q, keys, values, 1)


def attention_scaled_by_d(q, keys, values):
    return attend(q, keys, values, len(q))


def attention_without_current(q, keys, values):
    return attend(q, keys[:-1], values[:-1], len(q) ** 0.5)


def attention_sums_keys(q, keys, values):
    return attend(q, keys, keys, len(q) ** 0.5)


def attention_no_softmax(q, keys, values):
    weights = [sum(q_j * k_j for q_j, k_j in zip(q, k)) / len(q) ** 0.5 for k in keys]
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(q))]


def attention_weights_on_data(q, keys, values):
    weights = [Value(w.data) for w in attention_weights(q, keys)]
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(q))]


def attention_pops_current(q, keys, values):
    k, v = keys.pop(), values.pop()  # the current position, taken off the cache
    return attend(q, keys + [k], values + [v], len(q) ** 0.5)


# --- multi_head_attention ---


def multi_head_loops(q, keys, values, n_head):
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        lo, hi = h * head_dim, (h + 1) * head_dim
        out += attention_head(q[lo:hi], [k[lo:hi] for k in keys], [v[lo:hi] for v in values])
    return out


def multi_head_inline(q, keys, values, n_head):
    size = len(q) // n_head
    heads = [slice(h * size, (h + 1) * size) for h in range(n_head)]
    return [
        x
        for s in heads
        for x in attend(q[s], [k[s] for k in keys], [v[s] for v in values], size**0.5)
    ]


def multi_head_consumes_q(q, keys, values, n_head):
    size, out = len(q) // n_head, []
    for h in range(n_head):
        q_h = q[:size]
        del q[:size]  # next head's channels come first now
        out += attention_head(
            q_h,
            [k[h * size : (h + 1) * size] for k in keys],
            [v[h * size : (h + 1) * size] for v in values],
        )
    return out


def multi_head_interleaved(q, keys, values, n_head):
    out = []
    for h in range(n_head):
        out += attention_head(
            q[h::n_head], [k[h::n_head] for k in keys], [v[h::n_head] for v in values]
        )
    return out


def multi_head_one_head(q, keys, values, n_head):
    return attention_head(q, keys, values)


def multi_head_not_concatenated(q, keys, values, n_head):
    size = len(q) // n_head
    return [
        attention_head(
            q[h * size : (h + 1) * size],
            [k[h * size : (h + 1) * size] for k in keys],
            [v[h * size : (h + 1) * size] for v in values],
        )
        for h in range(n_head)
    ]


def multi_head_scaled_by_channels(q, keys, values, n_head):
    size = len(q) // n_head
    heads = [slice(h * size, (h + 1) * size) for h in range(n_head)]
    return [
        x
        for s in heads
        for x in attend(q[s], [k[s] for k in keys], [v[s] for v in values], len(q) ** 0.5)
    ]


def multi_head_four_heads(q, keys, values, n_head):
    return microgpt.multi_head_attention(q, keys, values, 4)


def multi_head_head_dim_is_n_head(q, keys, values, n_head):
    out = []
    for h in range(n_head):
        s = slice(h * n_head, (h + 1) * n_head)
        out += attention_head(q[s], [k[s] for k in keys], [v[s] for v in values])
    return out


# --- gpt ---


def make_gpt(mistake=None):
    """A gpt written out in full (no attention_block or mlp_block), with one named mistake or
    none."""
    # every position ever seen, for one mistake
    history = ([[] for _ in range(4)], [[] for _ in range(4)])

    def gpt(token_id, pos_id, keys, values, state_dict, config):
        sd, size = state_dict, config.n_embd // config.n_head
        x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]
        if mistake == "token and position swapped":
            x = [t + p for t, p in zip(sd["wte"][pos_id], sd["wpe"][token_id])]
        if mistake == "add into the embedding row":
            x = sd["wte"][token_id]
            for i, p in enumerate(sd["wpe"][pos_id]):
                x[i] = x[i] + p
        if mistake == "no position embedding":
            x = list(sd["wte"][token_id])
        if mistake != "no first rmsnorm":
            x = rmsnorm(x)
        for layer in range(config.n_layer):
            prefix = f"layer{layer}."
            cache = 0 if mistake == "layer 0's cache for every layer" else layer
            h = rmsnorm(x)
            q = linear(h, sd[prefix + "attn_wq"])
            k, v = linear(h, sd[prefix + "attn_wk"]), linear(h, sd[prefix + "attn_wv"])
            if mistake != "append after attending":
                keys[cache].append(k)
                values[cache].append(v)
            seen_keys, seen_values = keys[cache], values[cache]
            if mistake == "attend to every position ever seen":
                history[0][layer].append(k)
                history[1][layer].append(v)
                seen_keys, seen_values = history[0][layer], history[1][layer]
            if mistake == "attend to the current position only":
                seen_keys, seen_values = [k], [v]
            heads = []
            for head in range(config.n_head):
                s = slice(head * size, (head + 1) * size)
                heads += attend(
                    q[s],
                    [key[s] for key in seen_keys],
                    [value[s] for value in seen_values],
                    size**0.5,
                )
            if mistake == "append after attending":
                keys[cache].append(k)
                values[cache].append(v)
            out = linear(heads, sd[prefix + "attn_wo"])
            x = out if mistake == "no residual" else [a + b for a, b in zip(out, x)]
            hidden = linear(rmsnorm(x), sd[prefix + "mlp_fc1"])
            if mistake != "no relu":
                hidden = [u.relu() for u in hidden]
            x = [a + b for a, b in zip(linear(hidden, sd[prefix + "mlp_fc2"]), x)]
        return x if mistake == "no lm_head" else linear(x, sd["lm_head"])

    gpt.__name__ = f"gpt with {mistake}" if mistake else "gpt written out"
    return gpt


CASES = {
    "attention_head": (
        check_attention_head,
        [attention_head, attention_head_loops, attention_head_given_weights],
        [
            (attention_unscaled, "Scale the scores: divide q . k_t by sqrt(d)"),
            (attention_scaled_by_d, "Divide the scores by sqrt(d), not by d."),
            (attention_without_current, "the current (last) one included"),
            (attention_sums_keys, "a weighted sum of the values, not of the keys"),
            (attention_no_softmax, "Turn the scores into weights with softmax"),
            (attention_weights_on_data, "the gradient does not reach q[0]"),
            (attention_pops_current, "changed its input: keys had 1 items and now has 0"),
        ],
    ),
    "multi_head_attention": (
        check_multi_head_attention,
        [microgpt.multi_head_attention, multi_head_loops, multi_head_inline],
        [
            (multi_head_interleaved, "contiguous channels"),
            (multi_head_one_head, "one head over all C channels is not multi-head attention"),
            (multi_head_not_concatenated, "returned a list of lists"),
            (multi_head_scaled_by_channels, "sqrt(head_dim)"),
            (multi_head_four_heads, "heads of head_dim = C // n_head = 4 channels"),
            (
                multi_head_head_dim_is_n_head,
                "returned a list of 4 items; expected 8 values, the 2 heads' outputs",
            ),
            (multi_head_consumes_q, "changed its input: q had 8 items and now has 0"),
        ],
    ),
    "gpt": (
        check_gpt,
        [microgpt.gpt, make_gpt()],
        [
            (make_gpt("no position embedding"), "x = rmsnorm(wte[token_id] + wpe[pos_id])"),
            (make_gpt("no first rmsnorm"), "x = rmsnorm(wte[token_id] + wpe[pos_id])"),
            (
                make_gpt("token and position swapped"),
                "gpt(26, 0, keys, values, state_dict, config) at position 0 of "
                "the tokens [26, 7, 4, 13], with config = GPTConfig(",
            ),
            (
                make_gpt("token and position swapped"),
                "raised IndexError: list index out of range. wte has one row per "
                "token (vocab_size rows) and wpe one per position",
            ),
            (make_gpt("no residual"), "adding its input back (residual)"),
            (make_gpt("no relu"), "(mlp_fc1, relu, mlp_fc2)"),
            (make_gpt("append after attending"), "to the cache before attending"),
            (
                make_gpt("attend to the current position only"),
                "Position 0 is right but this one is not",
            ),
            (make_gpt("attend to every position ever seen"), "keep no state between calls"),
            (
                make_gpt("layer 0's cache for every layer"),
                "its own cache keys[layer], values[layer]",
            ),
            (make_gpt("no lm_head"), "expected 27 logits, one per token of the vocabulary"),
            (
                make_gpt("add into the embedding row"),
                "changed its input: state_dict['wte'][26][0] was replaced by "
                "another object. The forward pass must leave the weights",
            ),
        ],
    ),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake, none_mistake, vector_mistakes)


def name(fn):
    return "wrapped reference" if fn.__name__ == "<lambda>" else fn.__name__


@pytest.mark.parametrize(
    "piece, fn", ALTERNATIVES, ids=[f"{p}-{name(fn)}" for p, fn in ALTERNATIVES]
)
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize(
    "piece, fn, phrase",
    MISTAKES,
    ids=[f"{p}-{name(fn)}-{phrase[:16]}" for p, fn, phrase in MISTAKES],
)
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)


NOTEBOOK = """
    def attention_head(q, keys, values):
        raise NotImplementedError()

    def multi_head_attention(q, keys, values, n_head):
        return []

    def gpt(token_id, pos_id, keys, values, state_dict, config):
        x = rmsnorm([t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])])
        for layer in range(config.n_layer):
            prefix = f"layer{layer}."
            h = rmsnorm(x)
            q = linear(h, state_dict[prefix + "attn_wq"])
            keys[layer].append(linear(h, state_dict[prefix + "attn_wk"]))
            values[layer].append(linear(h, state_dict[prefix + "attn_wv"]))
            attended = multi_head_attention(q, keys[layer], values[layer], config.n_head)
            x = [a + b for a, b in zip(linear(attended, state_dict[prefix + "attn_wo"]), x)]
            x = mlp_block(x, layer, state_dict)
        return linear(x, state_dict["lm_head"])

    def mlp_block(x, layer, state_dict):  # the learner's own helper: not the course's signature
        hidden = [h.relu() for h in linear(rmsnorm(x), state_dict[f"layer{layer}.mlp_fc1"])]
        return [a + b for a, b in zip(linear(hidden, state_dict[f"layer{layer}.mlp_fc2"]), x)]
    """


def test_gpt_is_checked_with_the_reference_attention_and_the_learners_are_put_back():
    # the learner's attention pieces are broken, their own helper named mlp_block is not the
    # course's
    value_cls = notebook_value_class()
    learner = notebook(NOTEBOOK, Value=value_cls, linear=linear, softmax=softmax, rmsnorm=rmsnorm)
    mine = learner["attention_head"], learner["multi_head_attention"], learner["mlp_block"]
    check_gpt(learner["gpt"], value_cls)
    check_multi_head_attention(microgpt.multi_head_attention, value_cls)
    assert (
        learner["attention_head"],
        learner["multi_head_attention"],
        learner["mlp_block"],
    ) == mine
    message = rejection(check_multi_head_attention, learner["multi_head_attention"], value_cls)
    assert "returned a list of 0 items" in message
    assert learner["attention_head"] is mine[0]


def test_multi_head_attention_is_checked_with_the_reference_attention_head():
    learner = notebook(
        NOTEBOOK, Value=microgpt.Value, linear=linear, softmax=softmax, rmsnorm=rmsnorm
    )
    learner.update(
        notebook(
            """
        def multi_head_attention(q, keys, values, n_head):
            size, out = len(q) // n_head, []
            for h in range(n_head):
                s = slice(h * size, (h + 1) * size)
                out += attention_head(q[s], [k[s] for k in keys], [v[s] for v in values])
            return out
        """,
            attention_head=learner["attention_head"],
        )
    )
    # the learner's attention_head is a stub
    check_multi_head_attention(learner["multi_head_attention"])


# A chapter 5 notebook gives linear, softmax and rmsnorm; a learner may still write helpers of their
# own, named like the reference's. Those are graded through the piece that uses them.
HELPERS = {
    "softmax without the max": (
        """
        def softmax(logits):
            exps = [z.exp() for z in logits]
            total = sum(exps)
            return [e / total for e in exps]

        def attention_head(q, keys, values):
            weights = softmax([sum(a * b for a, b in zip(q, k)) / len(q) ** 0.5 for k in keys])
            return [sum(w * v[j] for w, v in zip(weights, values)) for j in range(len(q))]
        """,
        "attention_head",
        "raised OverflowError: math range error. exp overflowed on large scores: "
        "the softmax you use must subtract the largest score before exp (the given "
        "softmax does). It was raised in exp, called from your softmax (line 3)",
    ),
    "attention_weights unscaled": (
        """
        def attention_weights(q, keys):
            return softmax([sum(a * b for a, b in zip(q, k)) for k in keys])

        def attention_head(q, keys, values):
            weights = attention_weights(q, keys)
            return [sum(w * v[j] for w, v in zip(weights, values)) for j in range(len(q))]
        """,
        "attention_head",
        "Scale the scores: divide q . k_t by sqrt(d)",
    ),
    "mlp_block without the residual": (
        """
        def mlp_block(x, state_dict, layer):
            hidden = [h.relu() for h in linear(rmsnorm(x), state_dict[f"layer{layer}.mlp_fc1"])]
            return linear(hidden, state_dict[f"layer{layer}.mlp_fc2"])

        def gpt(token_id, pos_id, keys, values, state_dict, config):
            x = rmsnorm(
                [t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])]
            )
            for layer in range(config.n_layer):
                x = attention_block(x, keys[layer], values[layer], state_dict, layer, config.n_head)
                x = mlp_block(x, state_dict, layer)
            return linear(x, state_dict["lm_head"])
        """,
        "gpt",
        "adding its input back (residual)",
    ),
}


@pytest.mark.parametrize("helper", HELPERS)
def test_a_learners_helper_named_like_a_reference_piece_is_graded_through_the_piece_using_it(
    helper,
):
    source, piece, phrase = HELPERS[helper]
    learner = notebook(
        source,
        Value=microgpt.Value,
        linear=linear,
        softmax=softmax,
        rmsnorm=rmsnorm,
        attention_block=microgpt.attention_block,
    )
    assert phrase in rejection(CASES[piece][0], learner[piece])
