"""Parameters, attention and the GPT forward pass."""

import math
import random

import pytest
from hypothesis import given, settings, strategies as st
from microgpt import (
    GPTConfig,
    Value,
    attention_head,
    attention_weights,
    empty_kv_cache,
    gpt,
    init_params,
    multi_head_attention,
    param_shapes,
    parameters,
)
from microgpt.model import ACTIVATIONS, NORMS

from numerics import check_gradients

small = st.floats(min_value=-1, max_value=1, allow_nan=False)


def test_default_model_has_4192_parameters_in_the_original_order():
    config = GPTConfig(vocab_size=27)
    shapes = param_shapes(config)
    assert list(shapes) == [
        "wte",
        "wpe",
        "lm_head",
        "layer0.attn_wq",
        "layer0.attn_wk",
        "layer0.attn_wv",
        "layer0.attn_wo",
        "layer0.mlp_fc1",
        "layer0.mlp_fc2",
    ]
    assert shapes["mlp_fc1" and "layer0.mlp_fc1"] == (64, 16)
    assert len(parameters(init_params(config, random.Random(0)))) == 4192


def test_weights_are_drawn_row_by_row_in_order_with_std_008():
    config = GPTConfig(vocab_size=5, n_embd=8, n_head=2)
    rng = random.Random(3)
    expected = [random.Random(3).gauss(0, 0.08)]
    state_dict = init_params(config, rng)
    assert state_dict["wte"][0][0].data == expected[0]
    draws = [
        p.data
        for p in parameters(
            init_params(GPTConfig(vocab_size=27, n_embd=32, n_head=4), random.Random(1))
        )
    ]
    std = math.sqrt(sum(d * d for d in draws) / len(draws))
    assert abs(std - 0.08) < 0.003


@pytest.mark.parametrize(
    "kwargs", [dict(n_embd=10, n_head=4), dict(n_layer=0), dict(block_size=-1)]
)
def test_config_rejects_impossible_shapes(kwargs):
    with pytest.raises(ValueError):
        GPTConfig(vocab_size=27, **kwargs)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(norm="batchnorm"), "norm must be one of 'rmsnorm', 'layernorm', got 'batchnorm'"),
        (dict(activation="tanh"), "activation must be one of 'relu', 'gelu', got 'tanh'"),
    ],
)
def test_config_names_the_norms_and_activations_it_knows(kwargs, message):
    with pytest.raises(ValueError) as info:
        GPTConfig(vocab_size=27, **kwargs)
    assert str(info.value) == message


def test_config_defaults_are_the_originals_rmsnorm_and_relu_and_every_name_has_a_function():
    config = GPTConfig(vocab_size=27)
    assert (config.norm, config.activation) == ("rmsnorm", "relu")
    assert list(NORMS) == ["rmsnorm", "layernorm"] and list(ACTIVATIONS) == ["relu", "gelu"]
    for norm in NORMS:
        for activation in ACTIVATIONS:
            GPTConfig(vocab_size=27, norm=norm, activation=activation)


def test_attention_weights_are_scaled_softmax_of_dot_products():
    q = [Value(1.0), Value(0.0), Value(2.0), Value(-1.0)]
    keys = [[Value(1.0)] * 4, [Value(0.5), Value(1.0), Value(0.0), Value(2.0)]]
    scores = [(1 + 2 - 1) / 2, (0.5 - 2) / 2]
    total = sum(math.exp(s) for s in scores)
    assert [w.data for w in attention_weights(q, keys)] == pytest.approx(
        [math.exp(s) / total for s in scores]
    )


def test_a_single_position_attends_only_to_itself():
    q, k, v = [Value(0.3)] * 2, [[Value(-1.0)] * 2], [[Value(5.0), Value(7.0)]]
    assert [o.data for o in attention_head(q, k, v)] == [5.0, 7.0]


@settings(max_examples=25, deadline=None)
@given(st.lists(small, min_size=2 + 3 * 2 + 3 * 2, max_size=2 + 3 * 2 + 3 * 2))
def test_attention_head_gradients_match_central_differences(xs):
    def f(v):
        q, keys, values = v[:2], [v[2:4], v[4:6], v[6:8]], [v[8:10], v[10:12], v[12:14]]
        out = attention_head(q, keys, values)
        return out[0] - 0.7 * out[1]

    check_gradients(f, xs)


def test_multi_head_attention_keeps_heads_apart():
    rng = random.Random(0)
    q = [Value(rng.uniform(-1, 1)) for _ in range(4)]
    keys = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(3)]
    values = [[Value(rng.uniform(-1, 1)) for _ in range(4)] for _ in range(3)]
    out = [o.data for o in multi_head_attention(q, keys, values, n_head=2)]
    first = attention_head(q[:2], [k[:2] for k in keys], [v[:2] for v in values])
    second = attention_head(q[2:], [k[2:] for k in keys], [v[2:] for v in values])
    assert out == [o.data for o in first + second]


def run(config, state_dict, tokens):
    keys, values = empty_kv_cache(config)
    return [gpt(t, pos, keys, values, state_dict, config) for pos, t in enumerate(tokens)]


def test_gpt_logits_do_not_depend_on_later_tokens():
    config = GPTConfig(vocab_size=27, n_layer=2)
    state_dict = init_params(config, random.Random(1))
    a = run(config, state_dict, [26, 3, 5, 7])
    b = run(config, state_dict, [26, 3, 9, 1])
    assert [x.data for x in a[1]] == [x.data for x in b[1]]
    assert [x.data for x in a[2]] != [x.data for x in b[2]]
    assert all(len(logits) == 27 for logits in a)


def test_gpt_uses_the_norm_and_activation_its_config_names():
    rng = random.Random(2)
    state_dict = init_params(GPTConfig(vocab_size=27), rng, std=0.5)
    logits = {}
    for norm in ("rmsnorm", "layernorm"):
        for activation in ("relu", "gelu"):
            config = GPTConfig(vocab_size=27, norm=norm, activation=activation)
            logits[norm, activation] = [z.data for z in run(config, state_dict, [26, 3, 5])[-1]]
    assert len({tuple(z) for z in logits.values()}) == 4
    default = run(GPTConfig(vocab_size=27), state_dict, [26, 3, 5])[-1]
    assert [z.data for z in default] == logits["rmsnorm", "relu"]


@pytest.mark.parametrize(
    "n_layer, norm, activation",
    [(1, "rmsnorm", "relu"), (2, "rmsnorm", "relu"), (2, "layernorm", "gelu")],
)
def test_gpt_gradients_match_central_differences(n_layer, norm, activation):
    config = GPTConfig(
        vocab_size=5,
        n_embd=4,
        n_head=2,
        n_layer=n_layer,
        block_size=4,
        norm=norm,
        activation=activation,
    )
    state_dict = init_params(config, random.Random(7), std=0.5)
    names = list(state_dict)
    shapes = {name: (len(m), len(m[0])) for name, m in state_dict.items()}
    flat = [p.data for p in parameters(state_dict)]

    def f(v):
        it = iter(v)
        sd = {
            name: [[next(it) for _ in range(cols)] for _ in range(rows)]
            for name, (rows, cols) in shapes.items()
        }
        logits = run(config, sd, [4, 1, 2])
        return sum((0.3 * i - 0.5) * z for i, z in enumerate(logits[-1])) + logits[0][1]

    assert names[0] == "wte"
    check_gradients(f, flat, tol=1e-4)
