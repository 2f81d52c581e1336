"""Chapter 7 (training): document_loss and train_step.

Both run on the default 16-dimensional model with a block of 4 positions (and document_loss also on
a 2-layer model with a block of 3) with weights from the reference init_params and fixed seeds. The
pieces a chapter gives (gpt, softmax, adam_step, ...) are the learner's own copies; while train_step
runs, document_loss, graded in its own cell, is the reference's.
"""

import math
import random

import microgpt

from .adam import DEFAULTS, adam_on_numbers
from .core import (
    about,
    as_values,
    call,
    case_rng,
    data,
    diagnose,
    expect_close,
    expect_gradients,
    expect_node,
    expect_returned,
    fail,
    is_node,
    is_number,
    kind,
    named_parameters,
    reference_pieces,
)
from .guards import expect_unchanged, snapshots

LOSS_CONFIG = microgpt.GPTConfig(vocab_size=27, block_size=4)
LOSS_SEED = 5
# two short documents and one longer than block_size (only its first 4 predictions count)
LOSS_TOKENS = [[26, 4, 12, 26], [26, 0, 26], [26, 1, 2, 3, 4, 5, 26]]
TOO_LONG = (
    "The model sees at most block_size positions: "
    "predict n = min(block_size, len(tokens) - 1) tokens."
)
LOSS = (
    "loss = the mean over t < n of -log p_t[tokens[t + 1]], with p_t "
    "= softmax(gpt(tokens[t], t, keys, values, state_dict, config)) "
    "through one KV cache and n = min(block_size, len(tokens) - 1)."
)


def _probabilities(tokens, state_dict, config, fresh_cache=False):
    """The reference's next-token probabilities (numbers), each position with its own cache if
    fresh_cache."""
    if not fresh_cache:
        return [data(p) for p in microgpt.next_token_probs(tokens, state_dict, config)]
    n = min(config.block_size, len(tokens) - 1)
    return [
        data(
            microgpt.softmax(
                microgpt.gpt(tokens[t], t, *microgpt.empty_kv_cache(config), state_dict, config)
            )
        )
        for t in range(n)
    ]


def _loss_hint(tokens, state_dict, config):
    def hint(got):
        probs = _probabilities(tokens, state_dict, config)
        logs = [math.log(p[target]) for p, target in zip(probs, tokens[1:])]
        fresh = _probabilities(tokens, state_dict, config, fresh_cache=True)
        mistakes = [
            (
                "Average over the predictions: divide the sum of the losses by their number.",
                lambda: -sum(logs),
            ),
            (
                "The loss of a prediction is minus the log probability: -log p[target].",
                lambda: sum(logs) / len(logs),
            ),
            (
                "Position t predicts the next token, tokens[t + 1], not tokens[t].",
                lambda: -sum(math.log(p[target]) for p, target in zip(probs, tokens)) / len(probs),
            ),
            (
                "Use one KV cache for the whole document: "
                "create it once, before the loop over positions.",
                lambda: (
                    -sum(math.log(p[target]) for p, target in zip(fresh, tokens[1:])) / len(fresh)
                ),
            ),
        ]
        return diagnose(got, mistakes) or LOSS

    return hint


# (config, seed, tokens): exactly block_size predictions, the empty name (one prediction), a
# document longer than the block (only its first block_size predictions count), and a 2-layer model
LOSS_CASES = [
    (LOSS_CONFIG, LOSS_SEED, tokens) for tokens in [[26, 4, 12, 26], [26, 26]] + LOSS_TOKENS[2:]
] + [
    (
        microgpt.GPTConfig(vocab_size=27, n_embd=8, n_head=2, n_layer=2, block_size=3),
        6,
        [26, 25, 0, 13, 26],
    )
]
NO_BACKWARD = (
    "document_loss only computes the loss: do not call backward in it (the caller does), and leave "
    "tokens and the weights as they are."
)


def check_document_loss(fn, value_cls=None):
    """document_loss(tokens, state_dict, config) -> a Value, the mean cross-entropy of the
    next-token predictions: the empty name, a name of exactly block_size predictions, one longer
    than the block, and a 2-layer model; each called twice on the same weights (a cache kept between
    calls shows), its value, its gradient on every weight, and tokens and the weights (data and
    grads) left unchanged."""
    rng = case_rng("document_loss")
    for config, seed, tokens in LOSS_CASES:
        ref_start = microgpt.init_params(config, random.Random(seed))
        state, ref_state = (
            as_values(ref_start, value_cls or microgpt.Value),
            as_values(ref_start, microgpt.Value),
        )
        expected = microgpt.document_loss(tokens, ref_state, config)
        given = {"tokens": list(tokens), "state_dict": state}
        for attempt in ("", " (a second time, on the same weights)"):
            shown = (
                f"document_loss({tokens}, state_dict, config) with config = {config} "
                f"and state_dict = init_params(config, random.Random({seed})){attempt}"
            )
            before = snapshots(given)
            got = call(
                fn,
                (given["tokens"], state, config),
                shown,
                "document_loss",
                [
                    (IndexError, TOO_LONG),
                    (
                        ValueError,
                        "Take the log of a probability (softmax of the logits), not of a logit.",
                    ),
                ],
            )
            expect_unchanged(before, given, shown, NO_BACKWARD)
            expect_node(got, shown, "a Value (the mean loss)")
            expect_close(got.data, expected.data, shown, _loss_hint(tokens, ref_state, config))
        mine, ref = named_parameters(state), named_parameters(ref_state)
        expect_gradients(
            [got],
            [expected],
            [p for _, p in mine],
            [p for _, p in ref],
            [name for name, _ in mine],
            shown,
            rng,
        )


def _train_step_hint(before, grads, m, v, step, num_steps, lr):
    step_with = lambda step=step, lr=lr: adam_on_numbers(  # noqa: E731
        before, grads, m, v, step, num_steps, **{**DEFAULTS, "lr": lr}
    )
    mistakes = [
        (
            "The parameters did not change: call loss.backward(), "
            "then adam_step(params, m, v, step, num_steps, lr).",
            lambda: before + m + v,
        ),
        ("Pass lr on to adam_step.", lambda: step_with(lr=DEFAULTS["lr"])),
        ("Pass step on to adam_step as it is (0-based).", lambda: step_with(step=step + 1)),
    ]
    return lambda got: (
        diagnose(got, mistakes)
        or (
            "Backpropagate the loss once (loss.backward()), "
            "then adam_step(params, m, v, step, num_steps, lr)."
        )
    )


def check_train_step(fn, value_cls=None):
    """train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr) -> the loss before
    the update (a float): three steps in a row on the default model with lr = 0.02; the loss, the
    updated parameters and the moments m and v (the caller's lists), every gradient back at 0 and
    tokens unchanged. While it runs, document_loss is the reference's."""
    num_steps, lr = 4, 0.02
    ref_state = microgpt.init_params(LOSS_CONFIG, random.Random(LOSS_SEED))
    state = as_values(ref_state, value_cls or microgpt.Value)
    params, ref_params = microgpt.parameters(state), microgpt.parameters(ref_state)
    m, v, ref_m, ref_v = ([0.0] * len(params) for _ in range(4))
    for step, tokens in enumerate(LOSS_TOKENS):
        shown = (
            f"train_step({tokens}, state_dict, params, m, v, {step}, {num_steps}, "
            f"config, {lr}) with config = {LOSS_CONFIG} and state_dict = "
            f"init_params(config, random.Random({LOSS_SEED})) after {step} steps"
        )
        before, m_before, v_before = [p.data for p in params], list(ref_m), list(ref_v)
        given = {"tokens": list(tokens)}
        unchanged = snapshots(given)
        with reference_pieces(fn, "document_loss"):
            got = call(
                fn,
                (given["tokens"], state, params, m, v, step, num_steps, LOSS_CONFIG, lr),
                shown,
                "train_step",
            )
        expect_unchanged(unchanged, given, shown)
        loss = microgpt.document_loss(tokens, ref_state, LOSS_CONFIG)
        loss.backward()
        grads = [p.grad for p in ref_params]
        microgpt.adam_step(ref_params, ref_m, ref_v, step, num_steps, lr)
        expect_returned(got, shown)
        if is_node(got):
            fail(
                about(shown, " returned a Value; expected the loss as a number: return loss.data.")
            )
        if not is_number(got) or isinstance(got, bool):
            fail(about(shown, f" returned {kind(got)}; expected the loss as a number (loss.data)."))
        expect_close(
            got,
            loss.data,
            shown,
            "Return the loss of this document before the update, "
            "document_loss(tokens, state_dict, config).data.",
        )
        hint = _train_step_hint(before, grads, m_before, v_before, step, num_steps, lr)
        expect_close(
            data(params),
            data(ref_params),
            shown,
            lambda _: hint(data(params) + m + v),
            verb="left the parameters at",
        )
        if m + v == m_before + v_before:
            fail(
                about(
                    shown,
                    " left m and v unchanged: update the moments with adam_step(params, "
                    "m, v, step, num_steps, lr), passing the lists m and v you were given.",
                )
            )
        expect_close(
            m + v, ref_m + ref_v, shown, lambda _: hint(data(params) + m + v), verb="left m + v at"
        )
        if any(p.grad != 0 for p in params):
            fail(
                about(
                    shown,
                    " left nonzero gradients: backpropagate first, then adam_step, which uses the "
                    "gradients and zeroes them.",
                )
            )
