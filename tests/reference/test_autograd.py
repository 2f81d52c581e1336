"""The Value engine: each operation's forward value and local gradient, then backward."""

import math
import sys

import pytest
from hypothesis import given, strategies as st
from microgpt import Value

from numerics import check_gradients

finite = st.floats(min_value=-3, max_value=3, allow_nan=False)
positive = st.floats(min_value=0.1, max_value=5)
away_from_zero = finite.filter(lambda x: abs(x) > 1e-2)  # keeps ReLU off its kink


@pytest.mark.parametrize(
    "op, a, b, value, local_grads",
    [
        (lambda a, b: a + b, 2.0, -3.0, -1.0, (1, 1)),
        (lambda a, b: a * b, 2.0, -3.0, -6.0, (-3.0, 2.0)),
    ],
    ids=["add", "mul"],
)
def test_binary_op_records_value_children_and_local_grads(op, a, b, value, local_grads):
    x, y = Value(a), Value(b)
    out = op(x, y)
    assert out.data == value
    assert out._children == (x, y)
    assert out._local_grads == local_grads


@pytest.mark.parametrize(
    "op, a, value, local_grad",
    [
        (lambda a: a**3, 2.0, 8.0, 12.0),
        (lambda a: a.log(), math.e, 1.0, 1 / math.e),
        (lambda a: a.exp(), 0.0, 1.0, 1.0),
        (lambda a: a.relu(), -2.0, 0, 0.0),
        (lambda a: a.relu(), 2.0, 2.0, 1.0),
    ],
    ids=["pow", "log", "exp", "relu-negative", "relu-positive"],
)
def test_unary_op_records_value_and_local_grad(op, a, value, local_grad):
    x = Value(a)
    out = op(x)
    assert out.data == pytest.approx(value)
    assert out._children == (x,)
    assert out._local_grads[0] == pytest.approx(local_grad)


def test_numbers_mix_with_values_on_either_side():
    x = Value(4.0)
    assert (x + 1).data == 5.0 and (1 + x).data == 5.0
    assert (x - 1).data == 3.0 and (1 - x).data == -3.0
    assert (x * 2).data == 8.0 and (2 * x).data == 8.0
    assert (x / 2).data == 2.0 and (2 / x).data == 0.5
    assert (-x).data == -4.0


@given(finite, finite)
def test_gradients_of_arithmetic_match_central_differences(a, b):
    check_gradients(lambda v: (v[0] * v[1] + v[0] - v[1] * 3) * 0.5 - (v[1] + 2) ** 2, [a, b])


@given(positive, positive)
def test_gradients_of_division_pow_log_match_central_differences(a, b):
    check_gradients(lambda v: (v[0] / v[1]).log() + v[0] ** 1.5 + 1 / v[1], [a, b])


@given(finite)
def test_gradient_of_exp_matches_central_differences(a):
    check_gradients(lambda v: (v[0] * 0.5).exp(), [a])


@given(away_from_zero, away_from_zero)
def test_gradient_of_relu_matches_central_differences(a, b):
    check_gradients(lambda v: (v[0] * v[1]).relu() + v[0].relu(), [a, b], h=1e-7)


def test_gradients_accumulate_where_a_node_is_used_twice():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == 7.0


def test_backward_visits_nodes_in_reverse_topological_order():
    a = Value(2.0)
    b = a * 3  # b is reached by two paths; its gradient must be complete before it is passed on
    c = b * b + b
    c.backward()
    assert b.grad == 2 * 6.0 + 1
    assert a.grad == 3 * b.grad


def test_topological_order_matches_recursive_depth_first_search():
    x = [Value(float(i)) for i in range(5)]
    out = ((x[0] * x[1] + x[2]).exp() * x[3] - x[4] * x[0]).relu() + x[1] / x[2]

    def recursive(v, visited, order):
        if v not in visited:
            visited.add(v)
            for child in v._children:
                recursive(child, visited, order)
            order.append(v)
        return order

    assert out.topological_order() == recursive(out, set(), [])


def test_a_chain_of_a_million_nodes_backpropagates_without_recursion_error():
    assert sys.getrecursionlimit() < 1_000_000
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = y + 1
    y.backward()
    assert x.grad == 1
    assert y.data == 1_000_001.0
