"""Chapter 10 (experiments): layernorm and gelu on Value, and log_likelihood. No piece is swapped.

layernorm is checked like rmsnorm (values and gradients through check_case), over vectors near 0,
far from 0, constant ones and single values; gelu one Value at a time from -1e50 to 1e50, its value
and the gradient backpropagated into its input. log_likelihood runs on the default 16-dimensional
model with a block of 4 positions and weights from the reference init_params with a fixed seed;
encode, next_token_probs, gpt and softmax are the chapter's given copies.
"""

import math
import random

import microgpt

from .core import (
    about,
    as_values,
    backpropagate,
    call,
    case_rng,
    check_case,
    close,
    data,
    diagnose,
    expect_close,
    expect_node,
    expect_returned,
    fail,
    is_node,
    is_number,
    kind,
    show,
)
from .guards import expect_unchanged, snapshots

LAYERNORM = (
    "y_i = (x_i - mu) / sqrt(sigma^2 + eps), mu = mean_j x_j, sigma^2 = mean_j (x_j - mu)^2."
)


def _layernorm_hint(x, eps):
    n = len(x)
    mu = sum(x) / n
    centred = [v - mu for v in x]
    variance = sum(c * c for c in centred) / n
    mistakes = [
        (
            "Subtract the mean first: LayerNorm centres the vector, "
            "then scales it (without centring it is RMSNorm).",
            lambda: [v / math.sqrt(sum(a * a for a in x) / n + eps) for v in x],
        ),
        (
            "Divide the sum of squares by n, not n - 1: "
            "the variance here is the mean of (x_j - mu)^2.",
            lambda: [c / math.sqrt(sum(a * a for a in centred) / (n - 1) + eps) for c in centred],
        ),
        (
            "eps goes inside the square root: sqrt(sigma^2 + eps).",
            lambda: [c / (math.sqrt(variance) + eps) for c in centred],
        ),
        (
            "Divide by the standard deviation, sqrt(sigma^2 + eps), not by the variance.",
            lambda: [c / (variance + eps) for c in centred],
        ),
        (
            "Use the eps argument, not a fixed 1e-5.",
            lambda: [c / math.sqrt(variance + 1e-5) for c in centred],
        ),
        (
            "Compute the variance from the centred values, mean((x_j - mu)^2): "
            "mean(x^2) - mu^2 loses every digit when the values are far from 0.",
            lambda: [c / math.sqrt(sum(a * a for a in x) / n - mu * mu + eps) for c in centred],
        ),
    ]
    return lambda got: diagnose(got, mistakes) or LAYERNORM


def _expect_inputs_kept(fn, x, cls, keywords, shown, piece, errors):
    """One call of fn on Values holding x: the inputs (data, grads, the list) must stay as they
    were."""
    given = {"x": as_values(x, cls)}
    before = snapshots(given)
    call(lambda: fn(given["x"], **keywords), (), shown, piece, errors)
    expect_unchanged(before, given, shown)


def check_layernorm(fn, value_cls=None):
    """layernorm(x, eps=1e-5) = (x - mean) / sqrt(variance + eps): small vectors, a constant one
    (all zeros out), one value, tiny values (eps matters), values around 1e6 (a variance from
    mean(x^2) - mean^2 loses its digits), random vectors and an explicit eps; values, gradients, and
    the inputs unchanged."""
    rng = case_rng("layernorm")
    cases = [
        ([1.0, 2.0, 3.0], None),
        ([3.0, 3.0, 3.0], None),
        ([5.0], None),
        ([0.001, -0.002, 0.003], None),
        ([1e6 + 0.1, 1e6 + 2.3, 1e6 - 1.7, 1e6 + 0.9], None),
        ([-2.0, 0.5, 1.5, 4.0], None),
        ([rng.gauss(0, 1) for _ in range(16)], None),
        ([rng.gauss(3, 100) for _ in range(8)], None),
        ([0.3, -0.1, 0.2], 0.5),
    ]
    errors = [
        (
            ZeroDivisionError,
            "Add eps to the variance before the square root, so that a constant x does not "
            "divide by zero; the variance divides by n (not n - 1).",
        )
    ]
    cls = value_cls or microgpt.Value
    for x, eps in cases:
        keywords = {} if eps is None else {"eps": eps}
        shown = f"layernorm({show(x)}{'' if eps is None else f', eps={eps}'})"
        _expect_inputs_kept(fn, x, cls, keywords, shown, "layernorm", errors)
        check_case(
            "layernorm",
            fn,
            {"x": x},
            cls,
            shown,
            len(x),
            f"{len(x)} values, one per input",
            rng,
            _layernorm_hint(x, 1e-5 if eps is None else eps),
            errors,
            keywords=keywords,
        )


GELU = (
    "gelu(x) = x/2 (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3) "
    "(the tanh approximation), one node: Value(out, (x,), (d gelu/dx,))."
)
GELU_INPUTS = [
    -1e50,
    -1e3,
    -30.0,
    -5.0,
    -1.0,
    -0.5,
    -1e-3,
    0.0,
    1e-3,
    0.5,
    1.0,
    2,
    5.0,
    30.0,
    1e3,
    1e50,
]
GELU_ERRORS = [
    (
        OverflowError,
        "exp overflows for large |x|: compute tanh with math.tanh on the number x.data and "
        "give the node its local gradient, instead of building tanh from exp.",
    ),
    (
        AttributeError,
        "Compute on the number x.data (math.tanh), then return a new Value with x as its "
        "child and d gelu/dx as its local gradient.",
    ),
]


def _gelu_parts(a):
    """(tanh(u), du/dx) at a."""
    c = math.sqrt(2 / math.pi)
    return math.tanh(c * (a + 0.044715 * a * a * a)), c * (1 + 3 * 0.044715 * a * a)


def _gelu_value_hint(a):
    t, _ = _gelu_parts(a)
    mistakes = [
        (
            "That is the exact GeLU, x Phi(x) with erf; use "
            "the tanh approximation the docstring gives.",
            lambda: 0.5 * a * (1 + math.erf(a / math.sqrt(2))),
        ),
        (
            "Keep the cubic term: u = sqrt(2/pi) (x + 0.044715 x^3).",
            lambda: 0.5 * a * (1 + math.tanh(math.sqrt(2 / math.pi) * a)),
        ),
        ("Multiply by x/2: gelu(x) = x/2 (1 + tanh(u)).", lambda: 0.5 * (1 + t)),
    ]
    return lambda got: diagnose(got, mistakes) or GELU


def _gelu_slope_hint(a):
    t, du = _gelu_parts(a)
    mistakes = [
        (
            "Use the product rule: d/dx [x/2 (1 + tanh u)] "
            "= (1 + tanh u)/2 + x/2 (1 - tanh(u)^2) du/dx.",
            lambda: 0.5 * (1 + t),
        ),
        (
            "Chain rule: multiply the tanh term by du/dx = sqrt(2/pi) (1 + 3 * 0.044715 x^2).",
            lambda: 0.5 * (1 + t) + 0.5 * a * (1 - t * t),
        ),
        (
            "The derivative of tanh u is 1 - tanh(u)^2.",
            lambda: 0.5 * (1 + t) + 0.5 * a * (1 - t) * du,
        ),
    ]
    return lambda got: (
        diagnose(got, mistakes)
        or ("d gelu/dx = (1 + tanh u)/2 + x/2 (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2).")
    )


def check_gelu(fn, value_cls=None):
    """gelu(x) -> a new Value, GPT-2's tanh approximation of GeLU: x from -1e50 to 1e50 (0, tiny, an
    int, where tanh saturates); its data, and the gradient backpropagated from it into x; x
    unchanged."""
    cls = value_cls or microgpt.Value
    for a in GELU_INPUTS:
        shown = f"gelu(Value({a!r}))"
        given = {"x": cls(a)}
        before = snapshots(given)
        got = call(fn, (given["x"],), shown, "gelu", GELU_ERRORS)
        expect_unchanged(before, given, shown, "Leave x as it is: return a new Value.")
        expect_node(got, shown, "a new Value")
        if got is given["x"]:
            fail(
                about(
                    shown, " returned its input itself; expected a new Value with x as its child."
                )
            )
        expected = microgpt.gelu(microgpt.Value(a))
        expect_close(got.data, expected.data, shown, _gelu_value_hint(a))
        reached = backpropagate([got], [1.0])
        if id(given["x"]) not in reached:
            fail(about(shown, f": the gradient does not reach x. {GELU}"))
        slope = given["x"].grad
        if not close(slope, expected._local_grads[0]):
            got_text, expected_text = show(slope), show(expected._local_grads[0])
            fail(
                about(
                    shown,
                    f": backpropagating from it gives x.grad = {got_text}; "
                    f"expected {expected_text}. {_gelu_slope_hint(a)(slope)}",
                )
            )


DOCS = ["emma", "olivia", "ava", "isabella", "sophia"]
SEED = 8


def _log_likelihood_hint(doc, state_dict, config, chars):
    def hint(got):
        tokens = microgpt.encode(doc, chars)
        probs = [data(p) for p in microgpt.next_token_probs(tokens, state_dict, config)]
        targets = [p[target] for p, target in zip(probs, tokens[1:])]
        mistakes = [
            (
                "Add up the log probabilities: a sum, not a mean.",
                lambda: sum(map(math.log, targets)) / len(targets),
            ),
            ("Use the natural log, math.log.", lambda: sum(map(math.log10, targets))),
            ("Use the natural log, math.log.", lambda: sum(map(math.log2, targets))),
            (
                "The log-likelihood is the sum of log p (at most 0), not the loss -sum log p.",
                lambda: -sum(map(math.log, targets)),
            ),
            (
                "Score the end too: encode(doc, chars) ends with BOS, and predicting it counts.",
                lambda: sum(map(math.log, targets[:-1])),
            ),
        ]
        return diagnose(got, mistakes) or (
            "log_likelihood = sum over t < n of log p_t[tokens[t + 1]] with tokens = encode(doc, "
            "chars), p_t from next_token_probs and n = min(block_size, len(tokens) - 1)."
        )

    return hint


def check_log_likelihood(fn, value_cls=None):
    """log_likelihood(doc, state_dict, config, chars) -> a float: the sum of the natural-log
    probabilities of each next token of encode(doc, chars), end included, first block_size
    predictions only: on short names, the empty name, and names longer than the block; each called
    twice, the model and chars left unchanged (no backward)."""
    chars = microgpt.build_vocab(DOCS)
    config = microgpt.GPTConfig(vocab_size=microgpt.vocab_size(chars), block_size=4)
    ref_state = microgpt.init_params(config, random.Random(SEED))
    state = as_values(ref_state, value_cls or microgpt.Value)
    given = {"state_dict": state, "chars": list(chars)}
    for doc in ["ava", "", "emma", "isabella", "sophia"]:
        expected = microgpt.log_likelihood(doc, ref_state, config, chars)
        for attempt in ("", " (a second time)"):
            shown = (
                f"log_likelihood({doc!r}, state_dict, config, chars) with "
                f"chars = {''.join(chars)!r}, config = {config} and state_dict "
                f"= init_params(config, random.Random({SEED})){attempt}"
            )
            before = snapshots(given)
            got = call(
                fn,
                (doc, state, config, given["chars"]),
                shown,
                "log_likelihood",
                [
                    (
                        IndexError,
                        "Score only the first block_size predictions: the model sees at most "
                        "block_size positions.",
                    ),
                    (
                        ValueError,
                        "Take the log of the probability of "
                        "each next token, p[tokens[t + 1]].data.",
                    ),
                ],
            )
            expect_unchanged(
                before, given, shown, "Scoring a name must not change the model: no backward."
            )
            expect_returned(got, shown)
            if is_node(got):
                fail(
                    about(
                        shown,
                        " returned a Value; expected a float: add up "
                        "math.log(p.data) (no gradient is needed).",
                    )
                )
            if not is_number(got) or isinstance(got, bool):
                fail(about(shown, f" returned {kind(got)}; expected a float."))
            expect_close(got, expected, shown, _log_likelihood_hint(doc, ref_state, config, chars))
