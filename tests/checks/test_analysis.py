"""Chapter 9 checks: attention_maps, mean_loss and nearest_neighbours accept correct implementations
and reject plausible mistakes with a message that points at the cause."""

import math

import microgpt
import pytest
from microgpt import (
    attention_block,
    attention_weights,
    document_loss,
    empty_kv_cache,
    encode,
    linear,
    mlp_block,
)
from microgpt.model import ACTIVATIONS, NORMS

from autograder.checks import check_attention_maps, check_mean_loss, check_nearest_neighbours
from mutants import case_tables, none_mistake, rejection, stub_mistake

# --- attention_maps ---


def make_maps(mistake=None):
    """attention_maps written out position by position, with one named mistake or none."""

    def attention_maps(doc, state_dict, config, chars):
        tokens = encode(doc, chars)
        n = (
            len(tokens) - 1
            if mistake == "no truncation"
            else min(config.block_size, len(tokens) - 1)
        )
        norm, activation = NORMS[config.norm], ACTIVATIONS[config.activation]
        keys, values = empty_kv_cache(config)
        d = config.head_dim
        maps = [[[] for _ in range(config.n_head)] for _ in range(config.n_layer)]
        for t in range(n):
            x = norm([e + p for e, p in zip(state_dict["wte"][tokens[t]], state_dict["wpe"][t])])
            for layer in range(config.n_layer):
                q = linear(
                    x if mistake == "query without norm" else norm(x),
                    state_dict[f"layer{layer}.attn_wq"],
                )
                x = attention_block(
                    x, keys[layer], values[layer], state_dict, layer, config.n_head, norm
                )
                for h in range(config.n_head):
                    qh = q[h * d : (h + 1) * d]
                    ks = [k[h * d : (h + 1) * d] for k in keys[layer]]
                    if mistake == "unscaled":
                        weights = microgpt.softmax([sum(a * b for a, b in zip(qh, k)) for k in ks])
                    elif mistake == "scaled by sqrt(C)":
                        weights = microgpt.softmax(
                            [
                                sum(a * b for a, b in zip(qh, k)) / math.sqrt(config.n_embd)
                                for k in ks
                            ]
                        )
                    else:
                        weights = attention_weights(qh, ks)
                    maps[layer][h].append([w if mistake == "Values" else w.data for w in weights])
                x = mlp_block(x, state_dict, layer, norm, activation)
        if mistake == "positions first":
            return [
                [
                    [maps[layer][h][t] for h in range(config.n_head)]
                    for layer in range(config.n_layer)
                ]
                for t in range(n)
            ]
        return maps

    attention_maps.__name__ = (
        f"attention_maps with {mistake}" if mistake else "attention_maps_written_out"
    )
    return attention_maps


def attention_maps_after_the_forward_pass(doc, state_dict, config, chars):
    # a correct alternative: the forward pass first, saving each layer's queries; then each
    # position's weights from its query and the keys cached up to it
    tokens = encode(doc, chars)
    n = min(config.block_size, len(tokens) - 1)
    keys, values = empty_kv_cache(config)
    queries = [[] for _ in range(config.n_layer)]
    norm = NORMS[config.norm]
    for t in range(n):
        x = norm([e + p for e, p in zip(state_dict["wte"][tokens[t]], state_dict["wpe"][t])])
        for layer in range(config.n_layer):
            queries[layer].append(linear(norm(x), state_dict[f"layer{layer}.attn_wq"]))
            x = attention_block(
                x, keys[layer], values[layer], state_dict, layer, config.n_head, norm
            )
            x = mlp_block(x, state_dict, layer, norm, ACTIVATIONS[config.activation])
    d = config.head_dim

    def weights(layer, h, t):
        q, ks = queries[layer][t], keys[layer][: t + 1]
        return [
            w.data
            for w in attention_weights(q[h * d : (h + 1) * d], [k[h * d : (h + 1) * d] for k in ks])
        ]

    return [
        [[weights(layer, h, t) for t in range(n)] for h in range(config.n_head)]
        for layer in range(config.n_layer)
    ]


# --- mean_loss ---


def mean_loss_loop(docs, state_dict, config, chars):
    total = 0.0
    for doc in docs:
        total += document_loss(encode(doc, chars), state_dict, config).data
    return total / len(docs)


def mean_loss_from_log_likelihood(docs, state_dict, config, chars):
    return sum(-microgpt.mean_log_likelihood(doc, state_dict, config, chars) for doc in docs) / len(
        docs
    )


def make_mean_loss(mistake):
    def mean_loss(docs, state_dict, config, chars):
        losses = [document_loss(encode(doc, chars), state_dict, config) for doc in docs]
        if mistake == "sum":
            return sum(loss.data for loss in losses)
        if mistake == "per token":
            counts = [min(config.block_size, len(doc) + 1) for doc in docs]
            return sum(loss.data * c for loss, c in zip(losses, counts)) / sum(counts)
        if mistake == "a Value":
            return sum(losses) / len(losses)
        if mistake == "runs backward":
            total = sum(losses) / len(losses)
            total.backward()
            return total.data
        return -sum(loss.data for loss in losses) / len(losses)

    mean_loss.__name__ = f"mean_loss with {mistake}"
    return mean_loss


# --- nearest_neighbours ---


def neighbours_by_normalised_rows(token_id, embeddings, k=5):
    rows = []
    for row in embeddings:
        length = math.sqrt(sum(w.data**2 for w in row))
        rows.append([w.data / length for w in row])
    scored = sorted(
        (
            (-sum(a * b for a, b in zip(rows[token_id], row)), j)
            for j, row in enumerate(rows)
            if j != token_id
        )
    )
    return [(j, -s) for s, j in scored[:k]]


def make_neighbours(mistake):
    def nearest_neighbours(token_id, embeddings, k=5):
        rows = [[w.data for w in row] for row in embeddings]

        def score(a, b):
            dot = sum(x * y for x, y in zip(a, b))
            if mistake == "dot product":
                return dot
            return dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))

        pairs = [
            (j, score(rows[token_id], row))
            for j, row in enumerate(rows)
            if mistake == "keeps itself" or j != token_id
        ]
        if mistake == "ascending":
            return sorted(pairs, key=lambda p: (p[1], p[0]))[:k]
        if mistake == "ties by higher id":
            return sorted(pairs, key=lambda p: (p[1], p[0]), reverse=True)[:k]
        if mistake == "ids only":
            return [j for j, _ in sorted(pairs, key=lambda p: (-p[1], p[0]))[:k]]
        if mistake == "float ids":
            return [(float(j), s) for j, s in sorted(pairs, key=lambda p: (-p[1], p[0]))[:k]]
        if mistake == "Value similarities":
            return [
                (j, embeddings[0][0] * 0 + s)
                for j, s in sorted(pairs, key=lambda p: (-p[1], p[0]))[:k]
            ]
        return sorted(pairs, key=lambda p: (-p[1], p[0]))[
            : k + 1 if mistake == "one too many" else k
        ]

    nearest_neighbours.__name__ = f"nearest_neighbours with {mistake}"
    return nearest_neighbours


CASES = {
    "attention_maps": (
        check_attention_maps,
        [microgpt.attention_maps, make_maps(), attention_maps_after_the_forward_pass],
        [
            (make_maps("unscaled"), "Scale the scores by 1 / sqrt(head_dim)"),
            (make_maps("scaled by sqrt(C)"), "not sqrt(n_embd)"),
            (make_maps("query without norm"), "q = W_q norm(x)"),
            (make_maps("no truncation"), "Read at most block_size positions"),
            (make_maps("Values"), "the weights are Values; expected floats"),
            (make_maps("positions first"), "maps[layer][head][t]"),
        ],
    ),
    "mean_loss": (
        check_mean_loss,
        [microgpt.mean_loss, mean_loss_loop, mean_loss_from_log_likelihood],
        [
            (make_mean_loss("sum"), "divide the sum of the losses by len(docs)"),
            (make_mean_loss("per token"), "Give every document the same weight"),
            (make_mean_loss("a Value"), "returned a Value; expected a float"),
            (make_mean_loss("runs backward"), "Reading the model must not change it"),
            (make_mean_loss("negated"), "a positive number"),
        ],
    ),
    "nearest_neighbours": (
        check_nearest_neighbours,
        [microgpt.nearest_neighbours, neighbours_by_normalised_rows],
        [
            (make_neighbours("dot product"), "not the plain dot product"),
            (make_neighbours("keeps itself"), "Leave token_id itself out"),
            (make_neighbours("ascending"), "Sort from the highest similarity down"),
            (make_neighbours("ties by higher id"), "put the lower token id first"),
            (make_neighbours("ids only"), "expected (token id, similarity) pairs"),
            (make_neighbours("float ids"), "the token id must be an int"),
            (make_neighbours("Value similarities"), "the similarity must be a float"),
            (make_neighbours("one too many"), "Return the k pairs"),
        ],
    ),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake, none_mistake)


@pytest.mark.parametrize(
    "piece, fn", ALTERNATIVES, ids=[f"{p}-{fn.__name__}" for p, fn in ALTERNATIVES]
)
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize(
    "piece, fn, phrase",
    MISTAKES,
    ids=[f"{p}-{fn.__name__}-{phrase[:16]}" for p, fn, phrase in MISTAKES],
)
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)
