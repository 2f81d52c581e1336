"""linear, softmax, rmsnorm, layernorm and gelu: values, properties and gradients."""

import math

import pytest
from hypothesis import given, strategies as st
from microgpt import Value, gelu, layernorm, linear, relu, rmsnorm, softmax

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
    expected = [
        math.exp(-1) / (1 + math.exp(-1) + math.exp(-2)),
        1 / (1 + math.exp(-1) + math.exp(-2)),
    ]
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


@given(st.lists(small, min_size=2, max_size=6).filter(lambda xs: max(xs) - min(xs) > 0.1))
def test_layernorm_output_has_mean_0_and_unit_variance(xs):
    ys = [y.data for y in layernorm(values(xs))]
    mean = sum(xs) / len(xs)
    variance = sum((x - mean) ** 2 for x in xs) / len(xs)
    assert abs(sum(ys) / len(ys)) < 1e-12
    assert math.isclose(
        sum(y * y for y in ys) / len(ys), variance / (variance + 1e-5), rel_tol=1e-9
    )


def test_layernorm_of_a_constant_vector_is_zero_and_eps_is_used():
    assert [y.data for y in layernorm(values([3.0, 3.0, 3.0]))] == [0.0, 0.0, 0.0]
    assert [y.data for y in layernorm(values([1.0, 3.0]), eps=1.0)] == pytest.approx(
        [-(2**-0.5), 2**-0.5]
    )


@given(st.lists(small, min_size=2, max_size=5))
def test_layernorm_gradients_match_central_differences(xs):
    weights = [0.3, -1.0, 2.0, 0.5, -0.7]
    check_gradients(lambda v: sum(w * y for w, y in zip(weights, layernorm(v))), xs)


def exact_gelu(x):
    return 0.5 * x * (1 + math.erf(x / math.sqrt(2)))


def test_gelu_is_gpt2s_tanh_approximation():
    for x in [-3.0, -1.0, -0.1, 0.0, 0.5, 2.0]:
        expected = 0.5 * x * (1 + math.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
        assert gelu(Value(x)).data == pytest.approx(expected, rel=1e-15, abs=1e-300)
        assert abs(gelu(Value(x)).data - exact_gelu(x)) < 1e-3


def test_gelu_is_one_node_and_saturates_without_overflow():
    x = Value(0.7)
    out = gelu(x)
    assert out._children == (x,) and len(out._local_grads) == 1
    assert (gelu(Value(-1e3)).data, gelu(Value(1e3)).data) == (-0.0, 1e3)
    for big, slope in [(-1e99, 0.0), (1e99, 1.0), (-40.0, 0.0), (40.0, 1.0)]:
        node = gelu(Value(big))
        node.backward()
        assert node._children[0].grad == slope


@given(st.floats(min_value=-6, max_value=6))
def test_gelu_gradient_matches_central_differences(x):
    check_gradients(lambda v: gelu(v[0]), [x])


def test_relu_function_is_the_method():
    assert [relu(Value(x)).data for x in (-1.0, 0.0, 2.5)] == [0, 0, 2.5]
