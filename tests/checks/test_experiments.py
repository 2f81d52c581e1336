"""Chapter 10 checks: log_likelihood, layernorm and gelu accept correct implementations and reject
plausible mistakes with a message that points at the cause."""

import math

import microgpt
import pytest
from microgpt import Value, encode, next_token_probs, rmsnorm, softmax

from autograder.checks import check_gelu, check_layernorm, check_log_likelihood
from mutants import case_tables, none_mistake, rejection, stub_mistake

# --- log_likelihood ---


def log_likelihood_loop(doc, state_dict, config, chars):
    tokens = encode(doc, chars)
    total = 0.0
    for t, probs in enumerate(next_token_probs(tokens, state_dict, config)):
        total += math.log(probs[tokens[t + 1]].data)
    return total


def log_likelihood_fsum(doc, state_dict, config, chars):
    tokens = encode(doc, chars)
    probs = next_token_probs(tokens, state_dict, config)
    return math.fsum(math.log(p[target].data) for p, target in zip(probs, tokens[1:]))


def make_log_likelihood(mistake):
    """log_likelihood with one named mistake."""

    def log_likelihood(doc, state_dict, config, chars):
        tokens = encode(doc, chars)
        if mistake == "no end token":
            tokens = tokens[:-1]
        if mistake == "no truncation":
            probs = [
                softmax(microgpt.gpt(tokens[t], t, *cache, state_dict, config))
                for cache in [microgpt.empty_kv_cache(config)]
                for t in range(len(tokens) - 1)
            ]
        else:
            probs = next_token_probs(tokens, state_dict, config)
        log = math.log10 if mistake == "log10" else math.log
        logs = [log(p[target].data) for p, target in zip(probs, tokens[1:])]
        if mistake == "a Value":
            return sum(p[target].log() for p, target in zip(probs, tokens[1:]))
        if mistake == "runs backward":
            loss = sum(p[target].log() for p, target in zip(probs, tokens[1:]))
            loss.backward()
            return loss.data
        if mistake == "appends BOS to chars":
            chars.append("#")
        if mistake == "mean":
            return sum(logs) / len(logs)
        return -sum(logs) if mistake == "the loss" else sum(logs)

    log_likelihood.__name__ = f"log_likelihood with {mistake}"
    return log_likelihood


# --- layernorm ---


def layernorm_spelled_out(x, eps=1e-5):
    n = len(x)
    mean = sum(x) / n
    variance = sum((x_i - mean) ** 2 for x_i in x) / n
    return [(x_i - mean) / (variance + eps) ** 0.5 for x_i in x]


def layernorm_by_mean_square(x, eps=1e-5):
    mean = sum(x_i for x_i in x) * (1 / len(x))
    return rmsnorm([x_i + (-mean) for x_i in x], eps=eps)


def make_layernorm(mistake):
    """layernorm with one named mistake."""

    def layernorm(x, eps=1e-5):
        n = len(x)
        mean = sum(x) / n
        if mistake == "no centring":
            mean = 0
        if mistake == "mean on data":
            mean = sum(x_i.data for x_i in x) / n
        centred = [x_i - mean for x_i in x]
        if mistake == "shortcut variance":
            variance = sum(x_i * x_i for x_i in x) / n - mean * mean
        else:
            variance = sum(c * c for c in centred) / (n - 1 if mistake == "n - 1" else n)
        if mistake == "fixed eps":
            eps = 1e-5
        if mistake == "eps outside":
            return [c / (variance**0.5 + eps) for c in centred]
        if mistake == "no square root":
            return [c / (variance + eps) for c in centred]
        if mistake == "in place":
            x[:] = [c * (variance + eps) ** -0.5 for c in centred]
            return x
        return [c * (variance + eps) ** -0.5 for c in centred]

    layernorm.__name__ = f"layernorm with {mistake}"
    return layernorm


# --- gelu ---


def gelu_composed(x):
    # a correct alternative built from Value operations, with tanh as 2 sigmoid(2u) - 1 written
    # stably
    c = math.sqrt(2 / math.pi)
    u = c * (x + 0.044715 * x * x * x)
    t = math.tanh(u.data)
    tanh = Value(t, (u,), (1 - t * t,))
    return 0.5 * x * (1 + tanh)


def make_gelu(mistake):
    """gelu with one named mistake."""

    def gelu(x):
        a = x.data
        c = math.sqrt(2 / math.pi)
        if mistake == "tanh from exp":
            u = c * (x + 0.044715 * x**3)
            return 0.5 * x * (1 + ((2 * u).exp() - 1) / ((2 * u).exp() + 1))
        t = math.tanh(c * (a + (0 if mistake == "no cubic" else 0.044715 * a**3)))
        out = 0.5 * (1 + t) if mistake == "no x" else 0.5 * a * (1 + t)
        if mistake == "exact erf":
            out = 0.5 * a * (1 + math.erf(a / math.sqrt(2)))
        slope = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * c * (1 + 3 * 0.044715 * a * a)
        if mistake == "no product rule":
            slope = 0.5 * (1 + t)
        if mistake == "no chain rule":
            slope = 0.5 * (1 + t) + 0.5 * a * (1 - t * t)
        if mistake == "no children":
            return Value(out)
        if mistake == "returns a float":
            return out
        return Value(out, (x,), (slope,))

    gelu.__name__ = f"gelu with {mistake}"
    return gelu


CASES = {
    "log_likelihood": (
        check_log_likelihood,
        [microgpt.log_likelihood, log_likelihood_loop, log_likelihood_fsum],
        [
            (make_log_likelihood("mean"), "a sum, not a mean"),
            (make_log_likelihood("log10"), "Use the natural log, math.log."),
            (make_log_likelihood("the loss"), "not the loss -sum log p"),
            (make_log_likelihood("no end token"), "Score the end too"),
            (make_log_likelihood("no truncation"), "Score only the first block_size predictions"),
            (make_log_likelihood("a Value"), "expected a float"),
            (
                make_log_likelihood("runs backward"),
                "Scoring a name must not change the model: no backward",
            ),
            (
                make_log_likelihood("appends BOS to chars"),
                "changed its input: chars had 11 items and now has 12",
            ),
        ],
    ),
    "layernorm": (
        check_layernorm,
        [microgpt.layernorm, layernorm_spelled_out, layernorm_by_mean_square],
        [
            (make_layernorm("no centring"), "Subtract the mean first"),
            (make_layernorm("n - 1"), "Divide the sum of squares by n, not n - 1"),
            (make_layernorm("eps outside"), "eps goes inside the square root"),
            (make_layernorm("no square root"), "Divide by the standard deviation"),
            (make_layernorm("fixed eps"), "Use the eps argument"),
            (make_layernorm("shortcut variance"), "mean(x^2) - mu^2 loses every digit"),
            (make_layernorm("mean on data"), "The values are right but the gradients are not"),
            (make_layernorm("in place"), "changed its input: x[0] was replaced by another object"),
        ],
    ),
    "gelu": (
        check_gelu,
        [microgpt.gelu, gelu_composed],
        [
            (make_gelu("tanh from exp"), "exp overflows for large |x|"),
            (make_gelu("no cubic"), "Keep the cubic term"),
            (make_gelu("no x"), "Multiply by x/2"),
            (make_gelu("exact erf"), "That is the exact GeLU"),
            (make_gelu("no product rule"), "Use the product rule"),
            (make_gelu("no chain rule"), "Chain rule: multiply the tanh term by du/dx"),
            (make_gelu("no children"), "the gradient does not reach x"),
            (make_gelu("returns a float"), "returned the number"),
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
