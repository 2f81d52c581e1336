"""Chapter 4 (parameters): param_shapes, init_params, parameters.

Configurations come from the reference GPTConfig; state dicts for parameters are the reference
init_params' weights copied into value_cls.
"""

import contextlib
import math
import random

import microgpt

from .core import as_values, call, expect_returned, fail, is_node, is_number, kind, named_parameters, reference_pieces, show

CONFIGS = [
    microgpt.GPTConfig(vocab_size=27),
    microgpt.GPTConfig(vocab_size=27, n_layer=2),
    microgpt.GPTConfig(vocab_size=10, n_embd=8, n_head=2, n_layer=3, block_size=5),
    microgpt.GPTConfig(vocab_size=5, n_embd=12, n_head=3, n_layer=1, block_size=7),
]
LAYOUT = ("wte, wpe, lm_head, then for each layer attn_wq, attn_wk, attn_wv, attn_wo, mlp_fc1, mlp_fc2 "
          "(named like 'layer0.attn_wq')")
# Big enough that the sample standard deviation of the weights is within 1% of std (about 16,000 weights).
STATS_CONFIG = microgpt.GPTConfig(vocab_size=50, n_embd=32, n_head=4, n_layer=1, block_size=16)


def _expect_shapes(got, config, shown):
    """got: name -> (rows, cols), compared with the reference param_shapes(config), names in order."""
    expected = microgpt.param_shapes(config)
    expect_returned(got, shown)
    if not isinstance(got, dict):
        fail(f"{shown} returned {kind(got)}; expected a dict from names to (rows, cols).")
    for name in expected:
        if name not in got:
            fail(f"{shown} has no {name!r}; expected the names {LAYOUT}, for every layer in range(n_layer).")
    for name in got:
        if name not in expected:
            fail(f"{shown} has an unexpected name {name!r}; expected only {LAYOUT}.")
    if list(got) != list(expected):
        fail(f"{shown} has the names in the order {show(list(got))}; expected {LAYOUT} (init_params draws the "
             f"weights in this order).")
    for name, shape in expected.items():
        mine = got[name]
        if not isinstance(mine, (tuple, list)) or tuple(mine) != shape:
            fail(f"{shown}: {name!r} is {show(mine)}; expected {shape} (a matrix is n_out rows of n_in; "
                 f"n_embd = {config.n_embd}, vocab_size = {config.vocab_size}, block_size = {config.block_size}).")


def check_param_shapes(fn):
    """param_shapes(config) maps every weight matrix's name to (rows, cols), in initialisation order,
    for 1, 2 and 3 layers and different sizes."""
    for config in CONFIGS:
        shown = f"param_shapes({config})"
        _expect_shapes(call(fn, (config,), shown, "param_shapes"), config, shown)


def _shapes_of(state_dict, shown):
    """name -> (rows, cols) of a state dict whose matrices are lists of equally long rows."""
    expect_returned(state_dict, shown)
    if not isinstance(state_dict, dict):
        fail(f"{shown} returned {kind(state_dict)}; expected a dict from names to matrices (lists of rows).")
    shapes = {}
    for name, matrix in state_dict.items():
        if not isinstance(matrix, list) or not all(isinstance(row, list) for row in matrix):
            fail(f"{shown}: {name!r} is {kind(matrix)}; expected a matrix, a list of rows (lists of Values).")
        if len({len(row) for row in matrix}) > 1:
            fail(f"{shown}: the rows of {name!r} have different lengths; expected rows of equal length.")
        shapes[name] = (len(matrix), len(matrix[0]) if matrix else 0)
    return shapes


def _weights(state_dict):
    return [p for matrix in state_dict.values() for row in matrix for p in row]


def _expect_fresh_leaves(state_dict, cls, shown):
    """Every weight a distinct Value of cls with a number as data, no children and grad 0."""
    seen = {}
    for name, matrix in state_dict.items():
        for r, row in enumerate(matrix):
            for c, p in enumerate(row):
                where = f"{name}[{r}][{c}]"
                if is_number(p):
                    fail(f"{shown}: {where} is the number {show(p)}; expected a Value, so that training can "
                         f"compute its gradient: Value(rng.gauss(0, std)).")
                if not is_node(p):
                    fail(f"{shown}: {where} is {kind(p)}; expected a Value.")
                if not isinstance(p, cls):
                    fail(f"{shown}: {where} is a Value of another class ({type(p).__module__}.{type(p).__name__}); "
                         f"expected the Value class this notebook defines: create the weights with Value(...).")
                if not is_number(p.data) or tuple(p._children) or p.grad != 0:
                    fail(f"{shown}: {where} is {p!r}; expected a fresh Value holding a number (no children, grad 0).")
                if id(p) in seen:
                    fail(f"{shown}: the same Value object is both {seen[id(p)]} and {where}: create a new Value "
                         f"for every weight ([Value(...) for _ in range(cols)], not [Value(...)] * cols).")
                seen[id(p)] = where


@contextlib.contextmanager
def _global_random_seeded(seed):
    """Seed the random module for the block, then restore its state."""
    state = random.getstate()
    random.seed(seed)
    try:
        yield
    finally:
        random.setstate(state)


def _draw(fn, config, seed, shown, global_seed=0, **keywords):
    """fn(config, random.Random(seed), **keywords), run with the random module seeded with global_seed."""
    with _global_random_seeded(global_seed), reference_pieces(fn, ("param_shapes",)):
        return call(lambda: fn(config, random.Random(seed), **keywords), (), shown, "init_params")


def _expect_std(values, std, tolerance, shown, what):
    mean = sum(values) / len(values)
    sample_std = math.sqrt(sum((x - mean) ** 2 for x in values) / len(values))
    if abs(sample_std - std) > tolerance * std:
        fail(f"{shown}: {what} have standard deviation {sample_std:.4g}; expected about {std} (std = {std}): "
             f"draw each weight with rng.gauss(0, std) (std is the standard deviation, not the variance).")
    if abs(mean) > 4 * std / math.sqrt(len(values)) + 1e-3 * std:
        fail(f"{shown}: {what} have mean {mean:.4g}; expected about 0: draw each weight with rng.gauss(0, std).")


def check_init_params(fn, value_cls=None):
    """init_params(config, rng, std=0.08): the reference's names, order and shapes; every weight a
    distinct fresh Value; the same weights for the same seed whatever the random module's state,
    different weights for different seeds; and, on about 16,000 weights, mean 0, standard deviation
    std (per matrix within 25%, overall within 3%), a Gaussian share within one std, a fresh draw for
    every weight; the std argument is used."""
    cls = value_cls or microgpt.Value
    config = CONFIGS[1]
    shown = f"init_params({config}, random.Random(1))"
    first = _draw(fn, config, 1, shown)
    shapes = _shapes_of(first, shown)
    _expect_shapes(shapes, config, shown)
    _expect_fresh_leaves(first, cls, shown)
    again = _draw(fn, config, 1, shown, global_seed=1)
    if [p.data for p in _weights(again)] != [p.data for p in _weights(first)]:
        fail(f"{shown} gave different weights on two calls with the same seed: draw every weight from the rng "
             f"argument (rng.gauss(0, std)), not from the random module.")
    other = _draw(fn, config, 2, shown)
    if [p.data for p in _weights(other)] == [p.data for p in _weights(first)]:
        fail(f"init_params gave the same weights for random.Random(1) and random.Random(2): draw every weight "
             f"from the rng argument (rng.gauss(0, std)).")

    shown = f"init_params({STATS_CONFIG}, random.Random(3))"
    state_dict = _draw(fn, STATS_CONFIG, 3, shown)
    _expect_shapes(_shapes_of(state_dict, shown), STATS_CONFIG, shown)
    for name, matrix in state_dict.items():
        values = [p.data for row in matrix for p in row]
        if len(set(values)) < 0.99 * len(values):
            fail(f"{shown}: only {len(set(values))} of the {len(values)} weights of {name!r} are different: draw "
                 f"a fresh rng.gauss(0, std) for every weight.")
        _expect_std(values, 0.08, 0.25, shown, f"the weights of {name!r}")
    values = [p.data for p in _weights(state_dict)]
    _expect_std(values, 0.08, 0.03, shown, "the weights")
    within = sum(abs(x) < 0.08 for x in values) / len(values)
    if abs(within - 0.6827) > 0.02:
        fail(f"{shown}: {within:.1%} of the weights lie within one standard deviation of 0; a Gaussian has "
             f"68.3% there: draw each weight with rng.gauss(0, std).")

    shown = f"init_params({config}, random.Random(4), std=0.02)"
    _expect_std([p.data for p in _weights(_draw(fn, config, 4, shown, std=0.02))], 0.02, 0.1, shown,
                "the weights")


def check_parameters(fn, value_cls=None):
    """parameters(state_dict) is the flat list of the state dict's own Value objects (not copies),
    matrix by matrix in the dict's order, row by row: 4,192 at the default config, more layers, and a
    dict in an unusual order with non-square matrices."""
    cls = value_cls or microgpt.Value
    unusual = {"b": [[1.0, 2.0, 3.0]], "a": [[4.0], [5.0]], "wte": [[6.0, 7.0], [8.0, 9.0], [10.0, 11.0]]}
    cases = [(f"parameters(init_params({config}, random.Random(0)))",
              as_values(microgpt.init_params(config, random.Random(0)), cls)) for config in CONFIGS[:3]]
    cases.append((f"parameters({show(unusual)})", as_values(unusual, cls)))
    for shown, state_dict in cases:
        got = call(fn, (state_dict,), shown, "parameters")
        expected = named_parameters(state_dict)
        expect_returned(got, shown)
        if not isinstance(got, list):
            fail(f"{shown} returned {kind(got)}; expected a list of {len(expected)} Values.")
        if any(isinstance(p, list) for p in got):
            fail(f"{shown} returned a list of lists; expected one flat list of {len(expected)} Values "
                 f"(every row of every matrix, one after the other).")
        if len(got) != len(expected):
            fail(f"{shown} returned {len(got)} items; expected {len(expected)}, every weight of every matrix.")
        if all(is_number(p) for p in got):
            fail(f"{shown} returned numbers; expected the state dict's Value objects themselves, so that the "
                 f"optimiser can update them.")
        ids = {id(p): name for name, p in expected}
        for i, (p, (name, q)) in enumerate(zip(got, expected)):
            if p is q:
                continue
            if id(p) not in ids:
                fail(f"{shown}: item {i} is {kind(p)}, not a Value from the state dict: return the state dict's "
                     f"own Value objects (not copies), so that updating them updates the model.")
            fail(f"{shown}: item {i} is {ids[id(p)]}; expected {name}: go matrix by matrix in the dict's order, "
                 f"and within a matrix row by row.")
