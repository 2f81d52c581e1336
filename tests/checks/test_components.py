"""Chapter 3 checks: linear, softmax and rmsnorm accept correct implementations written differently
from the reference and reject plausible mistakes with a message that points at the cause."""

import math

import microgpt
import pytest
from hypothesis import given, settings, strategies as st
from microgpt import Value

from autograder.checks import check_linear, check_rmsnorm, check_softmax
from mutants import (
    case_tables,
    none_mistake,
    notebook,
    notebook_value_class,
    rejection,
    stub_mistake,
    vector_mistakes,
)

# --- linear ---


def linear_loop(x, w):
    out = []
    for row in w:
        total = Value(0)
        for w_i, x_i in zip(row, x):
            total = total + w_i * x_i
        out.append(total)
    return out


def linear_indexed(x, w):
    return [sum((w[o][i] * x[i] for i in range(len(x))), Value(0.0)) for o in range(len(w))]


def linear_transposed(x, w):
    return [sum(w[i][o] * x[i] for i in range(len(x))) for o in range(len(w[0]))]


def linear_on_data(x, w):
    return [Value(sum(w_i.data * x_i.data for w_i, x_i in zip(row, x))) for row in w]


def linear_products(x, w):
    return [[w_i * x_i for w_i, x_i in zip(row, x)] for row in w]


def linear_skips_last_input(x, w):
    return [sum(w_i * x_i for w_i, x_i in zip(row[:-1], x[:-1])) + 0 * x[-1] for row in w]


def linear_appends_bias_input(x, w):
    x.append(Value(1.0))  # a bias input, which these rows have no weight for
    return [sum(w_i * x_i for w_i, x_i in zip(row, x)) for row in w]


def linear_zeroes_grads(x, w):
    for row in w:
        for w_i in row:
            w_i.grad = 0  # "zero the gradients before the forward pass"
    return microgpt.linear(x, w)


# --- softmax ---


def softmax_value_max(logits):
    largest = max(logits, key=lambda z: z.data)
    exps = [(z - largest).exp() for z in logits]
    total = exps[0]
    for e in exps[1:]:
        total = total + e
    return [e / total for e in exps]


def softmax_times_inverse(logits):
    largest = max(z.data for z in logits)
    exps = [(z - largest).exp() for z in logits]
    inverse = sum(exps) ** -1
    return [e * inverse for e in exps]


def softmax_log_sum_exp(logits):
    largest = max(z.data for z in logits)
    log_total = sum((z - largest).exp() for z in logits).log()
    return [(z - largest - log_total).exp() for z in logits]


def softmax_sorted_max(logits):
    largest = sorted(z.data for z in logits)[-1]
    exps = [(z + -largest).exp() for z in logits]
    return [e * (1 / sum(exps)) for e in exps]


def softmax_subtract_mean(logits):
    mean = sum(z.data for z in logits) / len(logits)
    exps = [(z - mean).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_subtract_first(logits):
    exps = [(z - logits[0].data).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_max_of_values(logits):
    largest = max(logits)
    exps = [(z - largest).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_shifts_data_in_place(logits):
    largest = max(z.data for z in logits)
    for z in logits:
        z.data -= largest
    exps = [z.exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_no_max(logits):
    exps = [z.exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def softmax_sum_of_logits(logits):
    largest = max(z.data for z in logits)
    exps = [(z - largest).exp() for z in logits]
    return [e / sum(logits) for e in exps]


def softmax_unnormalised(logits):
    largest = max(z.data for z in logits)
    return [(z - largest).exp() for z in logits]


def softmax_on_data(logits):
    largest = max(z.data for z in logits)
    exps = [math.exp(z.data - largest) for z in logits]
    return [Value(e / sum(exps)) for e in exps]


def softmax_total_on_data(logits):
    largest = max(z.data for z in logits)
    exps = [(z - largest).exp() for z in logits]
    total = sum(e.data for e in exps)
    return [e / total for e in exps]


# --- rmsnorm ---


def rmsnorm_divide(x, eps=1e-5):
    rms = (sum(x_i**2 for x_i in x) / len(x) + eps) ** 0.5
    return [x_i / rms for x_i in x]


def rmsnorm_loop(x, eps=1e-5):
    total = Value(0.0)
    for x_i in x:
        total = total + x_i * x_i
    scale = 1 / (total * (1 / len(x)) + eps) ** 0.5
    return [x_i * scale for x_i in x]


def rmsnorm_in_place(x, eps=1e-5):
    scale = (sum(x_i * x_i for x_i in x) / len(x) + eps) ** -0.5
    for i in range(len(x)):
        x[i] = x[i] * scale
    return x


def rmsnorm_mean(x, eps=1e-5):
    scale = (sum(x) / len(x) + eps) ** -0.5
    return [x_i * scale for x_i in x]


def rmsnorm_no_eps(x, eps=1e-5):
    scale = (sum(x_i * x_i for x_i in x) / len(x)) ** -0.5
    return [x_i * scale for x_i in x]


def rmsnorm_eps_outside(x, eps=1e-5):
    rms = (sum(x_i * x_i for x_i in x) / len(x)) ** 0.5 + eps
    return [x_i / rms for x_i in x]


def rmsnorm_sum_of_squares(x, eps=1e-5):
    scale = (sum(x_i * x_i for x_i in x) + eps) ** -0.5
    return [x_i * scale for x_i in x]


def rmsnorm_no_sqrt(x, eps=1e-5):
    scale = (sum(x_i * x_i for x_i in x) / len(x) + eps) ** -1
    return [x_i * scale for x_i in x]


def rmsnorm_multiplies(x, eps=1e-5):
    scale = (sum(x_i * x_i for x_i in x) / len(x) + eps) ** 0.5
    return [x_i * scale for x_i in x]


def rmsnorm_fixed_eps(x, eps=1e-5):
    return microgpt.rmsnorm(x)


def rmsnorm_on_data(x, eps=1e-5):
    scale = (sum(x_i.data**2 for x_i in x) / len(x) + eps) ** -0.5
    return [x_i * scale for x_i in x]


CASES = {
    "linear": (
        check_linear,
        [microgpt.linear, linear_loop, linear_indexed],
        [
            (linear_transposed, "one per row of w"),
            (linear_on_data, "the gradient does not reach the inputs"),
            (linear_products, "returned a list of lists"),
            (linear_skips_last_input, "row o of w times x"),
            (linear_appends_bias_input, "changed its input: x had 2 items and now has 3"),
            (linear_zeroes_grads, "changed its input: w[0][0].grad changed from 0.25 to 0"),
        ],
    ),
    "softmax": (
        check_softmax,
        [
            microgpt.softmax,
            softmax_value_max,
            softmax_times_inverse,
            softmax_log_sum_exp,
            softmax_sorted_max,
        ],
        [
            (softmax_no_max, "Subtract the largest logit before exp to avoid overflow."),
            (softmax_sum_of_logits, "divide each exp by the sum of all the exps"),
            (softmax_unnormalised, "divide each exp by the sum of all the exps"),
            (softmax_on_data, "the gradient does not reach the inputs"),
            (softmax_total_on_data, "some step is computed on .data"),
            (softmax_subtract_mean, "softmax([1000.0, 0.0, -1000.0]) raised OverflowError"),
            (softmax_subtract_first, "not the mean, the first or the smallest"),
            (softmax_max_of_values, "Values cannot be compared with < or >"),
            (softmax_shifts_data_in_place, "logits[0].data changed from 1.0 to -2.0"),
        ],
    ),
    "rmsnorm": (
        check_rmsnorm,
        [microgpt.rmsnorm, rmsnorm_divide, rmsnorm_loop],
        [
            (rmsnorm_mean, "mean of the squares of x"),
            (rmsnorm_no_eps, "Add eps inside the square root"),
            (rmsnorm_eps_outside, "eps goes inside the square root"),
            (rmsnorm_sum_of_squares, "Divide the sum of the squares by n"),
            (rmsnorm_no_sqrt, "Take the square root"),
            (rmsnorm_multiplies, "do not multiply"),
            (rmsnorm_fixed_eps, "Use the eps argument"),
            (rmsnorm_on_data, "some step is computed on .data"),
            (rmsnorm_in_place, "changed its input: x[0] was replaced by another object"),
        ],
    ),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake, none_mistake, vector_mistakes)
ID = {"<lambda>": "wrapped reference"}


def name(fn):
    return ID.get(fn.__name__, fn.__name__)


@pytest.mark.parametrize(
    "piece, fn", ALTERNATIVES, ids=[f"{p}-{name(fn)}" for p, fn in ALTERNATIVES]
)
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize(
    "piece, fn, phrase",
    MISTAKES,
    ids=[f"{p}-{name(fn)}-{phrase[:20]}" for p, fn, phrase in MISTAKES],
)
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)


def test_inputs_are_built_with_value_cls():
    # a notebook's own Value class: linear starting its sums from Value(0) must get inputs of that
    # class
    value_cls = notebook_value_class()
    learner = notebook(
        """
        def linear(x, w):
            out = []
            for row in w:
                total = Value(0)
                for w_i, x_i in zip(row, x):
                    total = total + w_i * x_i
                out.append(total)
            return out
        """,
        Value=value_cls,
    )
    check_linear(learner["linear"], value_cls)
    check_softmax(microgpt.softmax, value_cls)
    check_rmsnorm(rmsnorm_divide, value_cls)


def test_softmax_message_names_the_input_and_both_results():
    message = rejection(check_softmax, softmax_sum_of_logits)
    assert message.startswith("softmax([1.0, 2.0, 3.0]) returned [")
    assert "; expected [0.0900306, 0.244728, 0.665241]." in message


@settings(max_examples=25, deadline=None)
@given(index=st.integers(0, 2), delta=st.floats(1e-7, 1e3))
def test_softmax_check_rejects_any_changed_probability(index, delta):
    def nudged(logits):
        probs = microgpt.softmax(logits)
        probs[index % len(probs)] = probs[index % len(probs)] + delta
        return probs

    assert "softmax" in rejection(check_softmax, nudged)
