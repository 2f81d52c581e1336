"""Chapter 3 (components): linear, softmax, rmsnorm.

Each case runs the learner's function on Values of value_cls and the reference on reference Values
with the same data, compares the results, checks that the inputs were left as they were, then
backpropagates a random weighted sum of the outputs through both and compares the gradients on every
input. The chapter grades the three pieces separately and none uses another, so the learner's own
helpers are graded through the piece that calls them.
"""

import math

import microgpt

from .core import case_rng, check_case, diagnose, graded, show

SUBTRACT_MAX = "Subtract the largest logit before exp to avoid overflow."


def _gaussians(rng, n, scale=1.0):
    return [rng.gauss(0, scale) for _ in range(n)]


def _linear_hint(x, w):
    def hint(got):
        def columns():
            return [sum(row[o] * x_i for row, x_i in zip(w, x)) for o in range(len(w[0]))]

        return (
            diagnose(
                got,
                [
                    (
                        "w is n_out rows of n_in weights: y[o] = sum_i "
                        "w[o][i] * x[i] (you used the columns of w).",
                        columns,
                    )
                ],
            )
            or "y[o] = sum_i w[o][i] * x[i]: row o of w times x."
        )

    return hint


@graded
def check_linear(fn, value_cls=None):
    """linear(x, w) = [sum_i w[o][i] * x[i] for each row o]: non-square, one-input, one-output and
    model-sized (16x16, 64x16, 16x64) matrices, ints, zeros and huge and tiny weights; values and
    gradients on x and w; x and w left unchanged."""
    rng = case_rng("linear")
    cases = [
        ([3.0, 4.0], [[1.0, 2.0], [-1.0, 0.5], [0.0, 3.0]]),
        ([2.0], [[-1.5]]),
        ([1.0, -2.0, 0.5, 3.0], [[0.5, 1.0, -1.0, 2.0]]),
        ([1, 0.5, -2], [[1, 2, 3], [0, -1, 0.5]]),
        ([0.0, -0.0], [[0.0, 1.0]]),
        ([1e150, -1e-150, 3.0], [[1e-150, 1e150, 1e100], [2.0, -1.0, 0.5]]),
    ]
    cases += [
        (_gaussians(rng, n_in), [_gaussians(rng, n_in) for _ in range(n_out)])
        for n_out, n_in in [(2, 2), (4, 3), (16, 16), (64, 16), (16, 64)]
    ]
    for x, w in cases:
        matrix = show(w) if len(w) * len(x) <= 12 else f"{len(w)} rows of {len(x)}"
        check_case(
            "linear",
            fn,
            {"x": x, "w": w},
            value_cls or microgpt.Value,
            f"linear(x, w) with x = {show(x)} and w = {matrix}",
            len(w),
            f"{len(w)} values, one per row of w",
            rng,
            _linear_hint(x, w),
        )


def _softmax_hint(got):
    if not all(math.isfinite(p) for p in got):
        return SUBTRACT_MAX
    if not math.isclose(sum(got), 1.0, rel_tol=1e-9):
        return (
            f"The probabilities sum to {sum(got):.6g}, not "
            "1: divide each exp by the sum of all the exps."
        )
    return "p_i = exp(z_i - m) / sum_j exp(z_j - m), with m the largest logit."


@graded
def check_softmax(fn, value_cls=None):
    """softmax(logits) = exp(z_i - max z) / sum_j exp(z_j - max z): small logits, logits near 1,000
    and -1,000 (stability), logits spread from -1,000 to 1,000, equal logits, one logit (also huge),
    ints, zeros of both signs, random logits; values and gradients; the logits left unchanged."""
    rng = case_rng("softmax")
    cases = [
        [1.0, 2.0, 3.0],
        [1000.0, 1000.5, 999.0],
        [-1000.0, -1000.5],
        [0.0, 0.0, 0.0, 0.0],
        [5.0],
        [-3.0, 7.5],
        [1000.0, 0.0, -1000.0],
        [-50.0, 760.0, 3.0],
        [800.0, -800.0],
        [1e6],
        [1, 2, 3],
        [-0.0, 0.0],
    ]
    cases += [[rng.uniform(-10, 10) for _ in range(rng.randint(2, 10))] for _ in range(6)]
    cases += [_gaussians(rng, 27), [rng.uniform(700, 800) for _ in range(5)]]
    errors = [
        (
            OverflowError,
            SUBTRACT_MAX + " Subtract the largest one, m = max(z.data for z in logits), from "
            "every logit (not the mean, the first or the smallest).",
        ),
        (ZeroDivisionError, "Every exp underflowed to 0. " + SUBTRACT_MAX),
        (
            TypeError,
            "Values cannot be compared with < or >: take the largest of the numbers, "
            "m = max(z.data for z in logits).",
        ),
    ]
    for logits in cases:
        check_case(
            "softmax",
            fn,
            {"logits": logits},
            value_cls or microgpt.Value,
            f"softmax({show(logits)})",
            len(logits),
            f"{len(logits)} probabilities, one per logit",
            rng,
            _softmax_hint,
            errors,
        )


def _rmsnorm_hint(x, eps):
    mean_square = sum(v * v for v in x) / len(x)
    mistakes = [
        (
            "Add eps inside the square root: y_i = x_i / sqrt(mean(x^2) + eps).",
            lambda: [v / math.sqrt(mean_square) for v in x],
        ),
        (
            "Use the eps argument, not a fixed 1e-5.",
            lambda: [v / math.sqrt(mean_square + 1e-5) for v in x],
        ),
        (
            "eps goes inside the square root: sqrt(mean(x^2) + eps), not sqrt(mean(x^2)) + eps.",
            lambda: [v / (math.sqrt(mean_square) + eps) for v in x],
        ),
        (
            "Use the mean of the squares of x, not the mean of x.",
            lambda: [v / math.sqrt(sum(x) / len(x) + eps) for v in x],
        ),
        (
            "Divide the sum of the squares by n: the mean square, not the sum.",
            lambda: [v / math.sqrt(mean_square * len(x) + eps) for v in x],
        ),
        (
            "Take the square root: divide by sqrt(mean(x^2) + eps), not by mean(x^2) + eps.",
            lambda: [v / (mean_square + eps) for v in x],
        ),
        (
            "Divide by the root mean square, sqrt(mean(x^2) + eps); do not multiply by it.",
            lambda: [v * math.sqrt(mean_square + eps) for v in x],
        ),
    ]
    return lambda got: diagnose(got, mistakes) or "y_i = x_i / sqrt(mean_j x_j^2 + eps)."


@graded
def check_rmsnorm(fn, value_cls=None):
    """rmsnorm(x, eps=1e-5) = x_i / sqrt(mean(x^2) + eps): a 3-4-5 vector, tiny inputs (where eps
    matters), all zeros, one value, ints, huge and widely spread values, random vectors small and
    large, and an explicit eps; values and gradients; x left unchanged."""
    rng = case_rng("rmsnorm")
    cases = [
        ([3.0, 4.0], None),
        ([0.001, -0.002, 0.003], None),
        ([0.0, 0.0, 0.0], None),
        ([5.0], None),
        ([-2.0, 0.5, 1.5, 4.0], None),
        (_gaussians(rng, 16), None),
        (_gaussians(rng, 8, 100.0), None),
        ([3, -4], None),
        ([1e150, -2e150, 5e149], None),
        ([1e6, 1e-6, -3.0], None),
        ([0.3, -0.1, 0.2], 0.5),
    ]
    errors = [
        (
            ZeroDivisionError,
            "Add eps to the mean square before the square root, so that an all-zero x "
            "does not divide by zero.",
        )
    ]
    for x, eps in cases:
        keywords = {} if eps is None else {"eps": eps}
        shown = f"rmsnorm({show(x)}{'' if eps is None else f', eps={eps}'})"
        check_case(
            "rmsnorm",
            fn,
            {"x": x},
            value_cls or microgpt.Value,
            shown,
            len(x),
            f"{len(x)} values, one per input",
            rng,
            _rmsnorm_hint(x, 1e-5 if eps is None else eps),
            errors,
            keywords=keywords,
        )
