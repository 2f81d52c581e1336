"""linear, softmax and rmsnorm: values, properties and gradients."""

import math

from hypothesis import given
from hypothesis import strategies as st

from microgpt import Value, linear, rmsnorm, softmax

from numerics import check_gradients

small = st.floats(min_value=-2, max_value=2, allow_nan=False)
vectors = st.lists(small, min_size=1, max_size=6)


def values(xs):
    return [Value(x) for x in xs]


def test_linear_is_rows_dot_input():
    w = [[Value(1.0), Value(2.0)], [Value(-1.0), Value(0.5)], [Value(0.0), Value(3.0)]]
    assert [y.data for y in linear(values([3.0, 4.0]), w)] == [11.0, -1.0, 12.0]


@given(st.lists(small, min_size=6, max_size=6))
def test_linear_gradients_match_central_differences(xs):
    # 2 inputs, a 2x2 weight matrix: every entry is a variable
    def f(v):
        out = linear(v[:2], [v[2:4], v[4:6]])
        return out[0] * 1.5 - out[1]

    check_gradients(f, xs)


@given(vectors)
def test_softmax_is_a_probability_distribution(xs):
    probs = [p.data for p in softmax(values(xs))]
    assert all(0 <= p <= 1 for p in probs)
    assert math.isclose(sum(probs), 1.0, rel_tol=1e-12)


def test_softmax_is_stable_for_large_logits():
    probs = [p.data for p in softmax(values([1000.0, 1001.0, 999.0]))]
    expected = [math.exp(-1) / (1 + math.exp(-1) + math.exp(-2)), 1 / (1 + math.exp(-1) + math.exp(-2))]
    assert math.isclose(probs[0], expected[0]) and math.isclose(probs[1], expected[1])


@given(st.lists(small, min_size=2, max_size=5))
def test_softmax_gradients_match_central_differences(xs):
    weights = [0.3, -1.0, 2.0, 0.5, -0.7]
    check_gradients(lambda v: sum(w * p for w, p in zip(weights, softmax(v))), xs)


@given(st.lists(small.filter(lambda x: abs(x) > 0.1), min_size=1, max_size=6))
def test_rmsnorm_output_has_unit_root_mean_square(xs):
    ys = [y.data for y in rmsnorm(values(xs))]
    rms = math.sqrt(sum(y * y for y in ys) / len(ys))
    mean_square = sum(x * x for x in xs) / len(xs)
    assert math.isclose(rms, math.sqrt(mean_square / (mean_square + 1e-5)), rel_tol=1e-9)


@given(st.lists(small, min_size=2, max_size=5))
def test_rmsnorm_gradients_match_central_differences(xs):
    weights = [0.3, -1.0, 2.0, 0.5, -0.7]
    check_gradients(lambda v: sum(w * y for w, y in zip(weights, rmsnorm(v))), xs)
