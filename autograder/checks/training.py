"""Training: adam_step, document_loss, train_step.

document_loss and train_step run on the default 16-dimensional model with a block of 4 positions and
weights from the reference init_params with a fixed seed; while they run, the pieces they call (gpt,
softmax, document_loss, adam_step, ...) are the reference's.
"""

import math
import random

import microgpt

from .core import as_values, call, data, diagnose, expect_close, expect_gradients, expect_node
from .core import expect_returned, fail, is_node, is_number, kind, named_parameters, reference_pieces, show

DEFAULTS = {"lr": 0.01, "beta1": 0.85, "beta2": 0.99, "eps": 1e-8}
UPDATE = "p.data -= lr_t * m_hat / (sqrt(v_hat) + eps), with lr_t = lr * (1 - step / num_steps)."


def _adam(params, grads, m, v, step, num_steps, lr, beta1, beta2, eps, corrected=True, decayed=True,
          eps_inside=False):
    """One Adam step on numbers, optionally with a known mistake: the new params + m + v, one list."""
    lr_t = lr * (1 - step / num_steps) if decayed else lr
    m = [beta1 * a + (1 - beta1) * g for a, g in zip(m, grads)]
    v = [beta2 * b + (1 - beta2) * g * g for b, g in zip(v, grads)]
    m_hat = [a / (1 - beta1 ** (step + 1)) for a in m] if corrected else m
    v_hat = [b / (1 - beta2 ** (step + 1)) for b in v] if corrected else v
    scale = [math.sqrt(b + eps) if eps_inside else math.sqrt(b) + eps for b in v_hat]
    return [p - lr_t * a / s for p, a, s in zip(params, m_hat, scale)] + m + v


def _adam_mistakes(before, grads, m, v, step, num_steps, hyper):
    """(hint, what the step gives with that mistake) for the known ways to get Adam wrong."""
    def update(grads=grads, **mistake):
        return lambda: _adam(before, grads, m, v, step, num_steps, **{**hyper, **mistake})
    return [
        ("The parameters did not change: update p.data (p.data -= ...) using each gradient before zeroing it.",
         update(grads=[0.0] * len(grads))),
        ("Correct the bias of the moments: m_hat = m / (1 - beta1 ** (step + 1)) and "
         "v_hat = v / (1 - beta2 ** (step + 1)).", update(corrected=False)),
        ("beta1 and beta2 are swapped: beta1 goes with m (the mean of the gradients), beta2 with v (the mean of "
         "their squares).", update(beta1=hyper["beta2"], beta2=hyper["beta1"])),
        ("Decay the learning rate: lr_t = lr * (1 - step / num_steps).", update(decayed=False)),
        ("eps goes outside the square root: m_hat / (sqrt(v_hat) + eps).", update(eps_inside=True)),
        ("Use the arguments lr, beta1, beta2 and eps, not fixed values.", update(**DEFAULTS)),
    ]


def check_adam_step(fn, value_cls=None):
    """adam_step(params, m, v, step, num_steps, ...): several steps in a row with fresh random gradients
    (one of them 0), with the default hyperparameters and with others passed by keyword; the parameters'
    data, the moments m and v (updated in place, bias-corrected only for the update), the decayed
    learning rate, and every gradient zeroed afterwards."""
    rng = random.Random("adam_step")
    cls = value_cls or microgpt.Value
    moments = ("m[i] = beta1 * m[i] + (1 - beta1) * grad and v[i] = beta2 * v[i] + (1 - beta2) * grad ** 2: the "
               "moments themselves, not m_hat and v_hat.")
    for num_steps, steps, keywords in [(8, 4, {}), (5, 3, {"lr": 0.05, "beta1": 0.9, "beta2": 0.95, "eps": 1e-6})]:
        start = [rng.gauss(0, 1) for _ in range(10)]
        params, ref_params = [cls(x) for x in start], [microgpt.Value(x) for x in start]
        m, v, ref_m, ref_v = [0.0] * 10, [0.0] * 10, [0.0] * 10, [0.0] * 10
        for step in range(steps):
            grads = [0.0] + [rng.gauss(0, 1) for _ in range(9)]
            for p, q, g in zip(params, ref_params, grads):
                p.grad = q.grad = g
            before, m_before, v_before = [p.data for p in params], list(m), list(v)
            options = "".join(f", {name}={value}" for name, value in keywords.items())
            shown = (f"adam_step(params, m, v, {step}, {num_steps}{options}) with params.data = {show(before)}, "
                     f"grads = {show(grads)}, m = {show(m_before)}, v = {show(v_before)}")
            call(lambda: fn(params, m, v, step, num_steps, **keywords), (), shown, "adam_step",
                 [(ZeroDivisionError, "The bias corrections are 1 - beta1 ** (step + 1) and 1 - beta2 ** (step + 1) "
                                      "(step is 0-based).")])
            microgpt.adam_step(ref_params, ref_m, ref_v, step, num_steps, **keywords)
            mistakes = _adam_mistakes(before, grads, m_before, v_before, step, num_steps, {**DEFAULTS, **keywords})
            state = data(params) + m + v
            expect_close(data(params), data(ref_params), shown, lambda _: diagnose(state, mistakes) or UPDATE,
                         verb="left params.data at")
            for name, mine, ref, old in [("m", m, ref_m, m_before), ("v", v, ref_v, v_before)]:
                if mine == old:
                    fail(f"{shown} left {name} unchanged: store the new moments back into the lists (m[i] = ..., "
                         f"v[i] = ...), which the caller keeps for the next step.")
                expect_close(mine, ref, shown, lambda _: diagnose(state, mistakes) or moments, verb=f"left {name} at")
            if any(p.grad != 0 for p in params):
                fail(f"{shown} left the gradients at {show([p.grad for p in params])}: set p.grad = 0 after the "
                     f"update, so that the next backward starts from zero.")


LOSS_CONFIG = microgpt.GPTConfig(vocab_size=27, block_size=4)
LOSS_SEED = 5
# two short documents and one longer than block_size (only its first 4 predictions count)
LOSS_TOKENS = [[26, 4, 12, 26], [26, 0, 26], [26, 1, 2, 3, 4, 5, 26]]
TOO_LONG = ("The model sees at most block_size positions: predict n = min(block_size, len(tokens) - 1) tokens.")
LOSS = ("loss = the mean over t < n of -log p_t[tokens[t + 1]], with p_t = softmax(gpt(tokens[t], t, keys, "
        "values, state_dict, config)) through one KV cache and n = min(block_size, len(tokens) - 1).")


def _probabilities(tokens, state_dict, config, fresh_cache=False):
    """The reference's next-token probabilities (numbers), each position with its own cache if fresh_cache."""
    if not fresh_cache:
        return [data(p) for p in microgpt.next_token_probs(tokens, state_dict, config)]
    n = min(config.block_size, len(tokens) - 1)
    return [data(microgpt.softmax(microgpt.gpt(tokens[t], t, *microgpt.empty_kv_cache(config), state_dict, config)))
            for t in range(n)]


def _loss_hint(tokens, state_dict, config):
    def hint(got):
        probs = _probabilities(tokens, state_dict, config)
        logs = [math.log(p[target]) for p, target in zip(probs, tokens[1:])]
        fresh = _probabilities(tokens, state_dict, config, fresh_cache=True)
        mistakes = [
            ("Average over the predictions: divide the sum of the losses by their number.", lambda: -sum(logs)),
            ("The loss of a prediction is minus the log probability: -log p[target].",
             lambda: sum(logs) / len(logs)),
            ("Position t predicts the next token, tokens[t + 1], not tokens[t].",
             lambda: -sum(math.log(p[target]) for p, target in zip(probs, tokens)) / len(probs)),
            ("Use one KV cache for the whole document: create it once, before the loop over positions.",
             lambda: -sum(math.log(p[target]) for p, target in zip(fresh, tokens[1:])) / len(fresh)),
        ]
        return diagnose(got, mistakes) or LOSS
    return hint


def check_document_loss(fn, value_cls=None):
    """document_loss(tokens, state_dict, config) -> a Value, the mean cross-entropy of the next-token
    predictions: two short documents and one longer than the block; its value and its gradient on every
    weight."""
    rng = random.Random("document_loss")
    ref_start = microgpt.init_params(LOSS_CONFIG, random.Random(LOSS_SEED))
    for tokens in LOSS_TOKENS:
        state, ref_state = as_values(ref_start, value_cls or microgpt.Value), as_values(ref_start, microgpt.Value)
        shown = (f"document_loss({tokens}, state_dict, config) with config = {LOSS_CONFIG} and state_dict = "
                 f"init_params(config, random.Random({LOSS_SEED}))")
        with reference_pieces(fn, "document_loss"):
            got = call(fn, (tokens, state, LOSS_CONFIG), shown, "document_loss",
                       [(IndexError, TOO_LONG),
                        (ValueError, "Take the log of a probability (softmax of the logits), not of a logit.")])
        expected = microgpt.document_loss(tokens, ref_state, LOSS_CONFIG)
        expect_node(got, shown, "a Value (the mean loss)")
        expect_close(got.data, expected.data, shown, _loss_hint(tokens, ref_state, LOSS_CONFIG))
        mine, ref = named_parameters(state), named_parameters(ref_state)
        expect_gradients([got], [expected], [p for _, p in mine], [p for _, p in ref], [name for name, _ in mine],
                         shown, rng)


def _train_step_hint(before, grads, m, v, step, num_steps, lr):
    n = len(before)
    mistakes = [
        ("The parameters did not change: call loss.backward(), then adam_step(params, m, v, step, num_steps, lr).",
         lambda: before),
        ("Pass lr on to adam_step.", lambda: _adam(before, grads, m, v, step, num_steps, **DEFAULTS)[:n]),
        ("Pass step on to adam_step as it is (0-based).",
         lambda: _adam(before, grads, m, v, step + 1, num_steps, **{**DEFAULTS, "lr": lr})[:n]),
    ]
    return lambda got: diagnose(got, mistakes) or (
        "Backpropagate the loss (loss.backward()), then adam_step(params, m, v, step, num_steps, lr).")


def check_train_step(fn, value_cls=None):
    """train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr): three steps in a row on
    the default model with lr = 0.02; the returned loss (a number, before the update), the updated
    parameters, m and v."""
    num_steps, lr = 4, 0.02
    ref_state = microgpt.init_params(LOSS_CONFIG, random.Random(LOSS_SEED))
    state = as_values(ref_state, value_cls or microgpt.Value)
    params, ref_params = microgpt.parameters(state), microgpt.parameters(ref_state)
    m, v, ref_m, ref_v = ([0.0] * len(params) for _ in range(4))
    for step, tokens in enumerate(LOSS_TOKENS):
        shown = (f"train_step({tokens}, state_dict, params, m, v, {step}, {num_steps}, config, {lr}) with config = "
                 f"{LOSS_CONFIG} and state_dict = init_params(config, random.Random({LOSS_SEED})) after {step} steps")
        before, m_before, v_before = [p.data for p in params], list(ref_m), list(ref_v)
        with reference_pieces(fn, "train_step"):
            got = call(fn, (tokens, state, params, m, v, step, num_steps, LOSS_CONFIG, lr), shown, "train_step")
        loss = microgpt.document_loss(tokens, ref_state, LOSS_CONFIG)
        loss.backward()
        grads = [p.grad for p in ref_params]
        microgpt.adam_step(ref_params, ref_m, ref_v, step, num_steps, lr)
        expect_returned(got, shown)
        if is_node(got):
            fail(f"{shown} returned a Value; expected the loss as a number: return loss.data.")
        if not is_number(got):
            fail(f"{shown} returned {kind(got)}; expected the loss as a number (loss.data).")
        expect_close(got, loss.data, shown, "Return the loss of this document before the update, "
                                            "document_loss(tokens, state_dict, config).data.")
        expect_close(data(params), data(ref_params), shown,
                     _train_step_hint(before, grads, m_before, v_before, step, num_steps, lr),
                     verb="left the parameters at")
        expect_close(m + v, ref_m + ref_v, shown, "Update the moments with adam_step(params, m, v, step, "
                                                  "num_steps, lr), passing the lists m and v you were given.",
                     verb="left m + v at")
