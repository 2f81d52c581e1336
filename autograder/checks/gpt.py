"""Chapter 5 (the GPT): attention_head, multi_head_attention, gpt.

While a check runs, the pieces this chapter grades in their own cells (attention_head for
multi_head_attention; attention_head and multi_head_attention for gpt) are the reference's; anything
else the learner's function calls (their own softmax, attention_weights, mlp_block, ...) is graded
through it. gpt is checked on weights from the reference init_params with fixed seeds, several
positions through one KV cache up to the last position, a second sequence with a fresh cache, and a
2-layer model; values and gradients on every weight, and the weights left unchanged.
"""

import math
import random

import microgpt

from .core import (
    about,
    as_values,
    call,
    case_rng,
    check_case,
    data,
    diagnose,
    expect_close,
    expect_gradients,
    expect_vector,
    fail,
    graded,
    named_parameters,
    reference_pieces,
    show,
)
from .guards import expect_unchanged, snapshots


def _gaussians(rng, n, scale=1.0):
    return [rng.gauss(0, scale) for _ in range(n)]


def _softmax(zs):
    exps = [math.exp(z - max(zs)) for z in zs]
    return [e / sum(exps) for e in exps]


def _attend(q, keys, values, scale, weigh=_softmax):
    """Attention on numbers: sum_t w_t * values[t] with w = weigh([q . k_t / scale])."""
    weights = weigh([sum(a * b for a, b in zip(q, k)) / scale for k in keys])
    return [sum(w * v[j] for w, v in zip(weights, values)) for j in range(len(values[0]))]


def _attention_head_hint(q, keys, values):
    d = len(q)
    mistakes = [
        (
            "Scale the scores: divide q . k_t by sqrt(d), d = len(q).",
            lambda: _attend(q, keys, values, 1),
        ),
        ("Divide the scores by sqrt(d), not by d.", lambda: _attend(q, keys, values, d)),
        (
            "Attend over every position in keys, the current (last) one included.",
            lambda: _attend(q, keys[:-1], values[:-1], math.sqrt(d)),
        ),
        (
            "The output is a weighted sum of the values, not of the keys.",
            lambda: _attend(q, keys, keys, math.sqrt(d)),
        ),
        (
            "Turn the scores into weights with softmax before the weighted sum.",
            lambda: _attend(q, keys, values, math.sqrt(d), weigh=lambda scores: scores),
        ),
    ]
    return lambda got: (
        diagnose(got, mistakes)
        or (
            "out[j] = sum_t w_t * values[t][j], with w = "
            "softmax over t of q . keys[t] / sqrt(len(q))."
        )
    )


def _vectors(name, vectors):
    if len(vectors) * len(vectors[0]) <= 12:
        return f"{name}={show(vectors)}"
    return f"{name}=<{len(vectors)} vectors of {len(vectors[0])}>"


@graded
def check_attention_head(fn, value_cls=None):
    """attention_head(q, keys, values) = sum_t softmax_t(q . k_t / sqrt(d)) * values[t]: one
    position, several, head sizes 1 to 8, large and widely spread scores (where a softmax without
    the max subtracted overflows); values and gradients on q, keys and values; the inputs left
    unchanged."""
    rng = case_rng("attention_head")
    for d, positions, scale in [
        (4, 1, 1.0),
        (4, 3, 1.0),
        (2, 2, 1.0),
        (8, 5, 1.0),
        (1, 3, 1.0),
        (4, 3, 40.0),
        (4, 4, 20.0),
    ]:
        q = _gaussians(rng, d, scale)
        keys = [_gaussians(rng, d, scale) for _ in range(positions)]
        values = [_gaussians(rng, d) for _ in range(positions)]
        shown = (
            f"attention_head(q={show(q)}, {_vectors('keys', keys)}, {_vectors('values', values)})"
        )
        check_case(
            "attention_head",
            fn,
            {"q": q, "keys": keys, "values": values},
            value_cls or microgpt.Value,
            shown,
            d,
            f"{d} values, one per channel of the values",
            rng,
            _attention_head_hint(q, keys, values),
            [
                (
                    ValueError,
                    "Attend over every position in keys, the current (last) one included.",
                ),
                (
                    OverflowError,
                    "exp overflowed on large scores: the softmax you use must subtract the largest "
                    "score before exp (the given softmax does).",
                ),
            ],
        )


def _multi_head_hint(q, keys, values, n_head):
    size = len(q) // n_head

    def heads(split, scale):
        out = []
        for h in range(n_head):
            out.extend(
                _attend(
                    split(q, h), [split(k, h) for k in keys], [split(v, h) for v in values], scale
                )
            )
        return out

    def contiguous(x, h):
        return x[h * size : (h + 1) * size]

    mistakes = [
        (
            "Head h takes the contiguous channels h*head_dim to (h+1)*head_dim "
            f"(a slice of head_dim = {size}), not every n_head-th channel.",
            lambda: heads(lambda x, h: x[h::n_head], math.sqrt(size)),
        ),
        (
            "Split q, keys and values into n_head heads and attend in each "
            "separately; one head over all C channels is not multi-head attention.",
            lambda: _attend(q, keys, values, math.sqrt(len(q))),
        ),
        (
            "Scale each head's scores by sqrt(head_dim), the size of the head, not sqrt(C).",
            lambda: heads(contiguous, math.sqrt(len(q))),
        ),
    ]
    return lambda got: (
        diagnose(got, mistakes)
        or (
            "Split q, keys and values into n_head heads of head_dim = C // n_head "
            f"= {size} channels (head h: channels h*head_dim to (h+1)*head_dim), "
            "attend in each with attention_head, concatenate the outputs."
        )
    )


@graded
def check_multi_head_attention(fn, value_cls=None):
    """multi_head_attention(q, keys, values, n_head): n_head heads over contiguous slices of the C
    channels, concatenated; 1 to 4 heads (one channel per head too), 1 to 5 cached positions; values
    and gradients; the inputs left unchanged. attention_head is the reference's while it runs."""
    rng = case_rng("multi_head_attention")
    for c, n_head, positions in [
        (8, 2, 1),
        (8, 2, 3),
        (16, 4, 4),
        (6, 3, 2),
        (4, 1, 3),
        (16, 4, 5),
        (4, 4, 2),
    ]:
        q = _gaussians(rng, c)
        keys = [_gaussians(rng, c) for _ in range(positions)]
        values = [_gaussians(rng, c) for _ in range(positions)]
        shown = (
            f"multi_head_attention(q={show(q)}, {_vectors('keys', keys)}, "
            f"{_vectors('values', values)}, n_head={n_head})"
        )
        check_case(
            "multi_head_attention",
            fn,
            {"q": q, "keys": keys, "values": values},
            value_cls or microgpt.Value,
            shown,
            c,
            f"{c} values, the {n_head} heads' outputs concatenated",
            rng,
            _multi_head_hint(q, keys, values, n_head),
            options=(n_head,),
            swap=("attention_head",),
        )


RECIPE = (
    "x = rmsnorm(wte[token_id] + wpe[pos_id]); then for each layer an attention "
    "block and an MLP block (mlp_fc1, relu, mlp_fc2), each applying rmsnorm "
    "first and adding its input back (residual); logits = linear(x, lm_head)."
)
CACHE = (
    "Position 0 is right but this one is not: append this position's "
    "key and value to keys[layer] and values[layer] before attending, "
    "then attend over all of them, the earlier positions included."
)
FRESH = (
    "The first sequence was right but this one, with a fresh cache, is not: keep no "
    "state between calls; everything about earlier positions lives in keys and values."
)
LAYERS = (
    "The 1-layer model is right but this 2-layer one is not: run the layers in order, each with "
    "its own weights (f'layer{layer}.attn_wq', ...) and its own cache keys[layer], values[layer]."
)
WEIGHTS = (
    "The forward pass must leave the weights as they are: build new lists for x (x = "
    "[t + p for t, p in zip(tok_emb, pos_emb)]) instead of adding into a row of wte."
)
# (config, seed of init_params, tokens fed at positions 0, 1, ..., hint when position 0 is wrong)
GPT_RUNS = [
    (microgpt.GPTConfig(vocab_size=27), 1, [26, 7, 4, 13], RECIPE),
    (microgpt.GPTConfig(vocab_size=27), 1, [26, 1], FRESH),
    (
        microgpt.GPTConfig(vocab_size=11, n_embd=8, n_head=2, n_layer=2, block_size=4),
        2,
        [10, 0, 5, 9],
        LAYERS,
    ),
]
SWAPPED = (
    "wte has one row per token (vocab_size rows) and wpe one per "
    "position (block_size rows): look up wte[token_id] and wpe[pos_id]; "
    "an index out of range there usually means the two are swapped."
)
GPT_ERRORS = [
    (IndexError, SWAPPED),
    (
        ValueError,
        "Append this position's key and value to the cache before attending, so there is something "
        "to attend to.",
    ),
    (
        KeyError,
        "The weights are named 'wte', 'wpe', 'lm_head' and, per layer, 'layer0.attn_wq', "
        "'layer0.attn_wk', 'layer0.attn_wv', 'layer0.attn_wo', 'layer0.mlp_fc1', 'layer0.mlp_fc2'.",
    ),
]


CACHED = (
    "The cache must hold what gpt attends over: at each layer append this "
    "position's key and value (k = linear(x, attn_wk), v = linear(x, "
    "attn_wv)) to keys[layer] and values[layer], the lists it was given."
)


@graded
def check_gpt(fn, value_cls=None):
    """gpt(token_id, pos_id, keys, values, state_dict, config) -> logits: the default model over
    four positions sharing one KV cache, a second sequence with a fresh cache, and a 2-layer model
    up to its last position; logits, the cache growing by one entry per layer and position (holding
    the reference's keys and values), the state dict left unchanged, and the gradients of all the
    positions' logits on every weight. attention_head and multi_head_attention are the reference's
    while it runs."""
    rng = case_rng("gpt")
    for config, seed, tokens, first_hint in GPT_RUNS:
        ref_state = microgpt.init_params(config, random.Random(seed))
        state = as_values(ref_state, value_cls or microgpt.Value)
        keys, values = microgpt.empty_kv_cache(config)
        ref_keys, ref_values = microgpt.empty_kv_cache(config)
        got_logits, ref_logits = [], []
        weights = f"init_params(config, random.Random({seed}))"
        for pos, token in enumerate(tokens):
            shown = (
                f"gpt({token}, {pos}, keys, values, state_dict, config) at position {pos} "
                f"of the tokens {tokens}, with config = {config} and state_dict = {weights}"
            )
            before = snapshots({"state_dict": state})
            with reference_pieces(fn, ("attention_head", "multi_head_attention")):
                got = call(fn, (token, pos, keys, values, state, config), shown, "gpt", GPT_ERRORS)
            expected = microgpt.gpt(token, pos, ref_keys, ref_values, ref_state, config)
            expect_vector(
                got,
                config.vocab_size,
                shown,
                f"{config.vocab_size} logits, one per token of the vocabulary",
            )
            expect_unchanged(before, {"state_dict": state}, shown, WEIGHTS)
            expect_close(data(got), data(expected), shown, CACHE if pos else first_hint)
            for layer in range(config.n_layer):
                if len(keys[layer]) != pos + 1 or len(values[layer]) != pos + 1:
                    fail(
                        about(
                            shown,
                            f": afterwards keys[{layer}] holds {len(keys[layer])} "
                            f"entries and values[{layer}] {len(values[layer])}; "
                            f"expected {pos + 1} each: append this position's key and "
                            "value to keys[layer] and values[layer], once per layer.",
                        )
                    )
                for name, got_cache, ref_cache in (
                    ("keys", keys, ref_keys),
                    ("values", values, ref_values),
                ):
                    expect_close(
                        data(got_cache[layer]),
                        data(ref_cache[layer]),
                        f"{shown}: afterwards {name}[{layer}]",
                        CACHED,
                        verb="holds",
                    )
            got_logits += got
            ref_logits += expected
        got_weights, ref_weights = named_parameters(state), named_parameters(ref_state)
        expect_gradients(
            got_logits,
            ref_logits,
            [p for _, p in got_weights],
            [p for _, p in ref_weights],
            [name for name, _ in got_weights],
            f"gpt over the tokens {tokens} with config = {config} and state_dict = {weights}",
            rng,
        )
