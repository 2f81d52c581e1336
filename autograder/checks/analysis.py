"""Chapter 9 (understanding a trained model): attention_maps, mean_loss and nearest_neighbours.

They run on small models with weights from the reference init_params and fixed seeds (one of them
with 2 layers), so that nothing depends on the shipped checkpoint; each is called twice and must
leave the model unchanged. No piece is swapped: they do not call one another.
"""

import math
import random

import microgpt

from .core import (
    about,
    as_values,
    call,
    case_rng,
    close,
    diagnose,
    expect_close,
    expect_returned,
    fail,
    is_node,
    is_number,
    kind,
    show,
)
from .guards import expect_unchanged, snapshots

CHARS = list("abcde")
SEED = 3
# RMSNorm and ReLU only: chapter 9's notebook offers no other choice (chapter 10 teaches LayerNorm
# and GeLU)
CONFIGS = [
    microgpt.GPTConfig(vocab_size=6, n_embd=8, n_head=2, block_size=4),
    microgpt.GPTConfig(vocab_size=6, n_embd=8, n_head=4, n_layer=2, block_size=4),
]
READ_ONLY = (
    "Reading the model must not change it: no backward, "
    "no updates, no new Values in the state dict."
)


def _models(value_cls):
    """(config, the learner's state dict, the reference's, how it was made) for each config."""
    for config in CONFIGS:
        ref_state = microgpt.init_params(config, random.Random(SEED), std=0.5)
        yield (
            config,
            as_values(ref_state, value_cls or microgpt.Value),
            ref_state,
            (
                f"config = {config} and state_dict = "
                f"init_params(config, random.Random({SEED}), std=0.5)"
            ),
        )


def _twice(fn, args, given, shown, piece, errors=()):
    """fn(*args) twice; both results must be equal and given (name -> input) unchanged. Returns the
    result."""
    results = []
    for attempt in ("", " (a second time)"):
        before = snapshots(given)
        results.append(call(fn, args, shown + attempt, piece, errors))
        expect_unchanged(before, given, shown + attempt, READ_ONLY)
    if results[0] is not None and _numbers(results[0]) != _numbers(results[1]):
        fail(
            about(
                shown,
                f" returned {show(results[0])} the first time and {show(results[1])} the "
                "second: keep no state between calls (a fresh KV cache for every call).",
            )
        )
    return results[0]


def _numbers(x):
    """x with Values replaced by their data (nested lists and tuples as lists), to compare two
    results."""
    if is_node(x):
        return x.data
    if isinstance(x, (list, tuple)):
        return [_numbers(item) for item in x]
    return x


# --- attention_maps ---

MAPS = (
    "maps[layer][head][t] = the t + 1 attention weights of position t (over "
    "positions 0 .. t) in that head: softmax of q_h . k_h / sqrt(head_dim), "
    "q = W_q norm(x), with the layer's input x, through one KV cache."
)


def _attention_shape_hint(got, config, n):
    if len(got) == n and n != config.n_layer:
        return "Index by layer first: maps[layer][head][t], not maps[t][layer][head]."
    if len(got) == config.n_layer and any(
        len(layer) == n for layer in got if isinstance(layer, list)
    ):
        return "Index maps[layer][head][t]: the heads come before the positions."
    return MAPS


def _expect_maps_shape(got, config, n, shown):
    """got must be n_layer lists of n_head lists of n rows, row t being t + 1 floats."""
    expect_returned(got, shown)
    expected = (
        f"{config.n_layer} layers x {config.n_head} heads "
        f"x {n} positions, row t holding t + 1 weights"
    )
    if not isinstance(got, list):
        fail(about(shown, f" returned {kind(got)}; expected nested lists, {expected}."))
    if len(got) != config.n_layer:
        fail(
            about(
                shown,
                f" returned {kind(got)}; expected {expected}. "
                f"{_attention_shape_hint(got, config, n)}",
            )
        )
    for layer, heads in enumerate(got):
        if not isinstance(heads, list) or len(heads) != config.n_head:
            fail(
                about(
                    shown,
                    f": maps[{layer}] is {kind(heads)}; expected {config.n_head} heads. "
                    f"{_attention_shape_hint(got, config, n)}",
                )
            )
        for head, rows in enumerate(heads):
            if not isinstance(rows, list) or len(rows) != n:
                fail(
                    about(
                        shown,
                        f": maps[{layer}][{head}] is {kind(rows)}; expected {n} rows, one "
                        f"per position read (n = min(block_size, len(tokens) - 1)). {MAPS}",
                    )
                )
            for t, row in enumerate(rows):
                if not isinstance(row, list) or len(row) != t + 1:
                    fail(
                        about(
                            shown,
                            f": maps[{layer}][{head}][{t}] is {kind(row)}; expected "
                            f"{t + 1} weights: position t attends to positions 0 .. "
                            f"t only, the keys in the cache so far. {MAPS}",
                        )
                    )
                for w in row:
                    if is_node(w):
                        fail(
                            about(shown, ": the weights are Values; expected floats: keep w.data.")
                        )
                    if not is_number(w):
                        fail(
                            about(
                                shown,
                                f": maps[{layer}][{head}][{t}] holds {kind(w)}; expected floats.",
                            )
                        )


def _attention_hint(doc, config, state_dict):
    """Known mistakes: scores not scaled, or scaled by sqrt(C) instead of sqrt(head_dim)."""

    def rescaled(factor):
        def produce():
            maps = microgpt.attention_maps(doc, state_dict, config, CHARS)
            # softmax(s * factor) from the weights softmax(s): w^factor renormalised
            return [
                [
                    [[w**factor / sum(x**factor for x in row) for w in row] for row in head]
                    for head in layer
                ]
                for layer in maps
            ]

        return produce

    mistakes = [
        (
            "Scale the scores by 1 / sqrt(head_dim), as attention_weights does.",
            rescaled(math.sqrt(config.head_dim)),
        ),
        (
            "Scale by sqrt(head_dim), the size of one head, not sqrt(n_embd).",
            rescaled(1 / math.sqrt(config.n_head)),
        ),
    ]
    return lambda got: diagnose(got, mistakes) or MAPS


def check_attention_maps(fn, value_cls=None):
    """attention_maps(doc, state_dict, config, chars) -> maps[layer][head][t], the t + 1 attention
    weights (floats) of position t: a 1-layer model with 2 heads and a 2-layer model with 4 heads;
    the empty name, a short one and one longer than the block; shape, types and values, called
    twice, the model unchanged."""
    for config, state, ref_state, made in _models(value_cls):
        for doc in ["", "bad", "abcdeab"]:
            n = min(config.block_size, len(doc) + 1)
            shown = f"attention_maps({doc!r}, state_dict, config, {''.join(CHARS)!r}) with {made}"
            got = _twice(
                fn,
                (doc, state, config, CHARS),
                {"state_dict": state, "chars": CHARS},
                shown,
                "attention_maps",
                [
                    (
                        IndexError,
                        "Read at most block_size positions: n = min(block_size, len(tokens) - 1).",
                    )
                ],
            )
            _expect_maps_shape(got, config, n, shown)
            expected = microgpt.attention_maps(doc, ref_state, config, CHARS)
            flat = lambda maps: [w for layer in maps for head in layer for row in head for w in row]  # noqa: E731
            if not close(flat(got), flat(expected)):
                hint = _attention_hint(doc, config, ref_state)(got)
                for layer, head, t in (
                    (a, b, c)
                    for a in range(config.n_layer)
                    for b in range(config.n_head)
                    for c in range(n)
                ):
                    expect_close(
                        got[layer][head][t],
                        expected[layer][head][t],
                        f"{shown}: maps[{layer}][{head}][{t}]",
                        hint,
                        verb="is",
                    )


# --- mean_loss ---


def _mean_loss_hint(docs, state_dict, config):
    def hint(got):
        tokens = [microgpt.encode(doc, CHARS) for doc in docs]
        losses = [microgpt.document_loss(t, state_dict, config).data for t in tokens]
        counts = [min(config.block_size, len(t) - 1) for t in tokens]
        mistakes = [
            (
                "Average over the documents: divide the sum of the losses by len(docs).",
                lambda: sum(losses),
            ),
            (
                "Give every document the same weight: the mean of the "
                "document losses, not the mean over all their tokens.",
                lambda: sum(x * c for x, c in zip(losses, counts)) / sum(counts),
            ),
            (
                "The loss is minus the mean log probability (a positive number).",
                lambda: -sum(losses) / len(losses),
            ),
        ]
        return diagnose(got, mistakes) or (
            "mean_loss = the mean over docs of "
            "document_loss(encode(doc, chars), state_dict, config).data."
        )

    return hint


def check_mean_loss(fn, value_cls=None):
    """mean_loss(docs, state_dict, config, chars) -> a float, the mean over docs of their
    document_loss: one name, and names of different lengths with the empty name and one longer than
    the block, on both models; called twice, the model and docs unchanged."""
    for config, state, ref_state, made in _models(value_cls):
        for docs in (["bad"], ["", "abcdeab", "cab", "e"]):
            shown = f"mean_loss({docs!r}, state_dict, config, {''.join(CHARS)!r}) with {made}"
            got = _twice(
                fn,
                (docs, state, config, CHARS),
                {"docs": docs, "state_dict": state, "chars": CHARS},
                shown,
                "mean_loss",
            )
            expect_returned(got, shown)
            if is_node(got):
                fail(about(shown, " returned a Value; expected a float: add up the losses' .data."))
            if not is_number(got) or isinstance(got, bool):
                fail(about(shown, f" returned {kind(got)}; expected a float."))
            expect_close(
                got,
                microgpt.mean_loss(docs, ref_state, config, CHARS),
                shown,
                _mean_loss_hint(docs, ref_state, config),
            )


# --- nearest_neighbours ---

NEIGHBOURS = (
    "Return the k pairs (j, cosine similarity) with the highest similarity, token_id "
    "itself left out, highest first and equal similarities by lower j first."
)


def _embedding_cases(rng):
    """(rows, token_id, k): random rows, rows with exact ties (copies of one row), k beyond V -
    1."""
    random_rows = [[rng.gauss(0, 1) for _ in range(4)] for _ in range(7)]
    tied = [
        [1.0, 2.0, 0.5],
        [0.5, -1.0, 2.0],
        [1.0, 2.0, 0.5],
        [-1.0, 0.0, 3.0],
        [1.0, 2.0, 0.5],
        [0.5, -1.0, 2.0],
    ]
    return [
        (random_rows, 2, 3),
        (random_rows, 0, 1),
        (random_rows, 6, 10),
        (tied, 0, 4),
        (tied, 3, 5),
        ([[0.1, 0.0], [0.0, 5.0], [-3.0, 0.0]], 0, 2),
    ]


def _neighbours_hint(rows, token_id, k):
    dot = lambda a, b: sum(x * y for x, y in zip(a, b))  # noqa: E731
    cosine = lambda a, b: dot(a, b) / math.sqrt(dot(a, a) * dot(b, b))  # noqa: E731

    def ranked(score, keep_self=False, reverse_ties=False, ascending=False):
        pairs = [
            (j, score(rows[token_id], row))
            for j, row in enumerate(rows)
            if keep_self or j != token_id
        ]
        sign = 1 if ascending else -1
        return lambda: sorted(pairs, key=lambda p: (sign * p[1], -p[0] if reverse_ties else p[0]))[
            :k
        ]

    mistakes = [
        ("Use the cosine similarity a . b / (|a| |b|), not the plain dot product.", ranked(dot)),
        (
            "Leave token_id itself out: it is always its own nearest neighbour.",
            ranked(cosine, keep_self=True),
        ),
        ("Sort from the highest similarity down.", ranked(cosine, ascending=True)),
        (
            "On equal similarities put the lower token id first (sort by (-similarity, j)).",
            ranked(cosine, reverse_ties=True),
        ),
    ]

    def hint(got):
        for text, produce in mistakes:
            expected = produce()
            same_ids = [j for j, _ in got] == [j for j, _ in expected]
            if same_ids and close([s for _, s in got], [s for _, s in expected]):
                return text
        return NEIGHBOURS

    return hint


def _expect_pairs(got, shown):
    """got must be a list of (int, number) pairs."""
    expect_returned(got, shown)
    if not isinstance(got, list):
        fail(
            about(shown, f" returned {kind(got)}; expected a list of (token id, similarity) pairs.")
        )
    for item in got:
        if not isinstance(item, (tuple, list)) or len(item) != 2:
            fail(
                about(
                    shown,
                    f" returned a list holding {kind(item)}; "
                    "expected (token id, similarity) pairs.",
                )
            )
        j, s = item
        if not isinstance(j, int) or isinstance(j, bool):
            fail(
                about(
                    shown,
                    f" returned the pair {show(item)}: the "
                    "token id must be an int, the row's index.",
                )
            )
        if is_node(s) or not is_number(s) or isinstance(s, bool):
            fail(
                about(
                    shown,
                    f" returned the pair {show(item)}: the similarity "
                    "must be a float (a number, not a Value).",
                )
            )


def check_nearest_neighbours(fn, value_cls=None):
    """nearest_neighbours(token_id, embeddings, k) -> k (token id, cosine similarity) pairs, most
    similar first, token_id left out, ties by lower id: random rows, rows with exact ties, k = 1 and
    k beyond V - 1, rows of very different lengths; ids, order and similarities, called twice,
    embeddings unchanged."""
    rng = case_rng("nearest_neighbours")
    for rows, token_id, k in _embedding_cases(rng):
        embeddings = as_values(rows, value_cls or microgpt.Value)
        shown = f"nearest_neighbours({token_id}, embeddings, {k}) with embeddings = {show(rows)}"
        got = _twice(
            fn,
            (token_id, embeddings, k),
            {"embeddings": embeddings},
            shown,
            "nearest_neighbours",
            [
                (
                    ZeroDivisionError,
                    "Divide by the product of the two rows' lengths (neither is zero).",
                )
            ],
        )
        _expect_pairs(got, shown)
        expected = microgpt.nearest_neighbours(token_id, as_values(rows, microgpt.Value), k)
        hint = _neighbours_hint(rows, token_id, k)
        if [j for j, _ in got] != [j for j, _ in expected]:
            fail(
                about(
                    shown,
                    f" returned the tokens {[j for j, _ in got]}; "
                    f"expected {[j for j, _ in expected]}. {hint(got)}",
                )
            )
        expect_close(
            [s for _, s in got],
            [s for _, s in expected],
            shown,
            lambda _: hint(got),
            verb="gave the similarities",
        )
