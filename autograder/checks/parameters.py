"""Chapter 4 (parameters): param_shapes, init_params, parameters.

Configurations come from the reference GPTConfig; state dicts for parameters are the reference
init_params' weights copied into value_cls. init_params must make exactly the reference's random
draws (its docstring promises one rng.gauss(0, std) per weight, in param_shapes order, row by row),
so its weights are compared with the reference's for the same seed; while it runs, param_shapes
(graded in its own cell) is the reference's.
"""

import contextlib
import random

import microgpt

from .core import (
    about,
    as_values,
    call,
    close,
    expect_returned,
    fail,
    graded,
    is_node,
    is_number,
    kind,
    named_parameters,
    reference_pieces,
    show,
)
from .guards import expect_unchanged, snapshots

CONFIGS = [
    microgpt.GPTConfig(vocab_size=27),
    microgpt.GPTConfig(vocab_size=27, n_layer=2),
    microgpt.GPTConfig(vocab_size=10, n_embd=8, n_head=2, n_layer=3, block_size=5),
    microgpt.GPTConfig(vocab_size=5, n_embd=12, n_head=3, n_layer=1, block_size=7),
]
LAYOUT = (
    "wte, wpe, lm_head, then for each layer attn_wq, attn_wk, attn_wv, attn_wo, mlp_fc1, mlp_fc2 "
    "(named like 'layer0.attn_wq')"
)
STATE = "keep no state between calls: build a new dict (or list) inside the function on every call."
DRAWS = (
    "Draw each weight with exactly one rng.gauss(0, std) call, matrix by matrix in "
    "param_shapes order, row by row, left to right within a row, and make no other "
    "call on rng: the weights must then equal the reference's for the same seed."
)


def _expect_shapes(got, config, shown, earlier=()):
    """got: name -> (rows, cols), compared with the reference param_shapes(config), names in order;
    earlier: the configs of the calls before this one."""
    expected = microgpt.param_shapes(config)
    expect_returned(got, shown)
    if not isinstance(got, dict):
        fail(about(shown, f" returned {kind(got)}; expected a dict from names to (rows, cols)."))
    for name in expected:
        if name not in got:
            fail(
                about(
                    shown,
                    f" has no {name!r}; expected the names "
                    f"{LAYOUT}, for every layer in range(n_layer).",
                )
            )
    for name in got:
        if name not in expected:
            stale = any(name in microgpt.param_shapes(old) for old in earlier)
            fail(
                about(
                    shown,
                    f" has an unexpected name {name!r}; expected only "
                    f"{LAYOUT}{': it is a name of an earlier call, ' + STATE if stale else '.'}",
                )
            )
    if list(got) != list(expected):
        fail(
            about(
                shown,
                f" has the names in the order {show(list(got))}; expected "
                f"{LAYOUT} (init_params draws the weights in this order).",
            )
        )
    for name, shape in expected.items():
        mine = got[name]
        if not isinstance(mine, (tuple, list)) or tuple(mine) != shape:
            fail(
                about(
                    shown,
                    f": {name!r} is {show(mine)}; expected {shape} (a matrix is "
                    f"n_out rows of n_in; n_embd = {config.n_embd}, vocab_size "
                    f"= {config.vocab_size}, block_size = {config.block_size}).",
                )
            )
        if not isinstance(mine, tuple) or any(type(n) is not int for n in mine):
            fail(
                about(
                    shown,
                    f": {name!r} is {kind(mine)} {show(mine)}; expected the tuple of two ints "
                    f"{shape} (ints, as range() needs them: 4 * n_embd, not 4.0 * n_embd).",
                )
            )


@graded
def check_param_shapes(fn):
    """param_shapes(config) maps every weight matrix's name to (rows, cols), a tuple of two ints, in
    initialisation order, for 1, 2 and 3 layers and different sizes, one config after another."""
    for i, config in enumerate(CONFIGS):
        shown = f"param_shapes({config})"
        _expect_shapes(call(fn, (config,), shown, "param_shapes"), config, shown, CONFIGS[:i])


def _shapes_of(state_dict, shown):
    """name -> (rows, cols) of a state dict whose matrices are lists of equally long rows."""
    expect_returned(state_dict, shown)
    if not isinstance(state_dict, dict):
        fail(
            about(
                shown,
                f" returned {kind(state_dict)}; expected a "
                "dict from names to matrices (lists of rows).",
            )
        )
    shapes = {}
    for name, matrix in state_dict.items():
        if not isinstance(matrix, list) or not all(isinstance(row, list) for row in matrix):
            fail(
                about(
                    shown,
                    f": {name!r} is {kind(matrix)}; expected a "
                    "matrix, a list of rows (lists of Values).",
                )
            )
        if len({len(row) for row in matrix}) > 1:
            fail(
                about(
                    shown,
                    f": the rows of {name!r} have different "
                    "lengths; expected rows of equal length.",
                )
            )
        shapes[name] = (len(matrix), len(matrix[0]) if matrix else 0)
    return shapes


def _expect_fresh_leaves(state_dict, cls, shown):
    """Every weight a distinct Value of cls with a number as data, no children and grad 0."""
    seen = {}
    for name, matrix in state_dict.items():
        for r, row in enumerate(matrix):
            for c, p in enumerate(row):
                where = f"{name}[{r}][{c}]"
                if is_number(p):
                    fail(
                        about(
                            shown,
                            f": {where} is the number {show(p)}; expected a Value, so that "
                            "training can compute its gradient: Value(rng.gauss(0, std)).",
                        )
                    )
                if not is_node(p):
                    fail(about(shown, f": {where} is {kind(p)}; expected a Value."))
                if not isinstance(p, cls):
                    fail(
                        about(
                            shown,
                            f": {where} is a Value of another class "
                            f"({type(p).__module__}.{type(p).__name__}); expected the Value "
                            "class this notebook defines: create the weights with Value(...).",
                        )
                    )
                if not is_number(p.data) or tuple(p._children) or p.grad != 0:
                    fail(
                        about(
                            shown,
                            f": {where} is a Value with data {show(p.data)}, grad {show(p.grad)} "
                            f"and {len(tuple(p._children))} children; expected a fresh Value "
                            "holding a number (no children, grad 0): Value(rng.gauss(0, std)).",
                        )
                    )
                if id(p) in seen:
                    fail(
                        about(
                            shown,
                            f": the same Value object is both {seen[id(p)]} and "
                            f"{where}: create a new Value for every weight ([Value(...) "
                            "for _ in range(cols)], not [Value(...)] * cols).",
                        )
                    )
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


def _reference_draws(config, draw):
    """The numbers the reference's loop would hold with draw() in place of rng.gauss(0, std)."""
    return [
        draw() for rows, cols in microgpt.param_shapes(config).values() for _ in range(rows * cols)
    ]


def _draws_hint(got, config, seed, std, global_seed):
    """What a learner's weights got (numbers, in parameters order) that are not the reference's
    say."""
    expected = _reference_draws(config, lambda rng=random.Random(seed): rng.gauss(0, std))
    if sorted(got) == sorted(expected):
        return (
            "The weights are the right numbers in the wrong places: draw matrix by "
            "matrix in param_shapes order, row by row, left to right within a row."
        )
    if len(set(got)) < 0.99 * len(got):
        return "Some weights are equal: draw a fresh rng.gauss(0, std) for every weight."
    mistakes = [
        (
            "std is the standard deviation, not the variance: "
            "rng.gauss(0, std), not rng.gauss(0, std ** 2).",
            lambda rng=random.Random(seed): rng.gauss(0, std**2),
        ),
        (
            "Draw from the rng argument (rng.gauss), not from the random module.",
            lambda rng=random.Random(global_seed): rng.gauss(0, std),
        ),
        (
            "Use rng.gauss(0, std) as the docstring says: rng.normalvariate draws other numbers.",
            lambda rng=random.Random(seed): rng.normalvariate(0, std),
        ),
        (
            f"Use the std argument ({std}), not a fixed 0.08.",
            lambda rng=random.Random(seed): rng.gauss(0, 0.08),
        ),
    ]
    for hint, draw in mistakes:
        if close(got, _reference_draws(config, draw)):
            return hint
    return DRAWS


def _expect_reference_draws(fn, config, seed, cls, global_seed=0, **keywords):
    """fn's weights for random.Random(seed) must be the reference's, and leave rng where the
    reference leaves it."""
    std = keywords.get("std", 0.08)
    options = "".join(f", {key}={value!r}" for key, value in keywords.items())
    shown = f"init_params({config}, random.Random({seed}){options})"
    rng, ref_rng = random.Random(seed), random.Random(seed)
    with _global_random_seeded(global_seed), reference_pieces(fn, ("param_shapes",)):
        got = call(lambda: fn(config, rng, **keywords), (), shown, "init_params")
    expected = microgpt.init_params(config, ref_rng, **keywords)
    _expect_shapes(_shapes_of(got, shown), config, shown)
    _expect_fresh_leaves(got, cls, shown)
    for (name, p), (_, q) in zip(named_parameters(got), named_parameters(expected)):
        if not close(p.data, q.data):
            got_numbers = [p.data for _, p in named_parameters(got)]
            fail(
                about(
                    shown,
                    f": {name} is {show(p.data)}; expected {show(q.data)}, the reference's weight "
                    f"for this seed. {_draws_hint(got_numbers, config, seed, std, global_seed)}",
                )
            )
    if rng.getstate() != ref_rng.getstate():
        fail(
            about(
                shown,
                ": the weights are right, but rng was used for more than them "
                "afterwards: make no other call on rng than one rng.gauss(0, "
                "std) per weight (the training run draws from the same rng next).",
            )
        )


@graded
def check_init_params(fn, value_cls=None):
    """init_params(config, rng, std=0.08): the reference's names, order and shapes; every weight a
    distinct fresh Value of value_cls; exactly the reference's weights for the same seed (one
    rng.gauss(0, std) per weight, matrix by matrix in param_shapes order, row by row, nothing else
    drawn from rng), whatever the random module's state, for 2 and 3 layers and an explicit std."""
    cls = value_cls or microgpt.Value
    _expect_reference_draws(fn, CONFIGS[1], 1, cls)
    _expect_reference_draws(fn, CONFIGS[1], 1, cls, global_seed=1)
    _expect_reference_draws(fn, CONFIGS[2], 2, cls)
    _expect_reference_draws(fn, CONFIGS[0], 4, cls, std=0.02)


@graded
def check_parameters(fn, value_cls=None):
    """parameters(state_dict) is a flat list of the state dict's own Value objects (not copies),
    matrix by matrix in the dict's order, row by row: 4,192 at the default config, more layers, and
    a dict in an unusual order with non-square matrices; the state dict left unchanged, and a second
    call giving the same list again."""
    cls = value_cls or microgpt.Value
    unusual = {
        "b": [[1.0, 2.0, 3.0]],
        "a": [[4.0], [5.0]],
        "wte": [[6.0, 7.0], [8.0, 9.0], [10.0, 11.0]],
    }
    cases = [
        (
            f"parameters(init_params({config}, random.Random(0)))",
            as_values(microgpt.init_params(config, random.Random(0)), cls),
        )
        for config in CONFIGS[:3]
    ]
    cases.append((f"parameters({show(unusual)})", as_values(unusual, cls)))
    for shown, state_dict in cases:
        before = snapshots({"state_dict": state_dict})
        got = call(fn, (state_dict,), shown, "parameters")
        expect_unchanged(
            before,
            {"state_dict": state_dict},
            shown,
            "Leave the state dict as it is: collect its "
            "Values into a new list (params = [], then append or extend params, not a row).",
        )
        _expect_flat_parameters(got, named_parameters(state_dict), shown)
        shown = f"{shown}: called a second time"
        _expect_flat_parameters(
            call(fn, (state_dict,), shown, "parameters"), named_parameters(state_dict), shown
        )


def _expect_flat_parameters(got, expected, shown):
    """got must be the list of the Values of expected ((name, Value) pairs), in order, the objects
    themselves."""
    expect_returned(got, shown)
    if not isinstance(got, list):
        fail(about(shown, f" returned {kind(got)}; expected a list of {len(expected)} Values."))
    if any(isinstance(p, list) for p in got):
        fail(
            about(
                shown,
                f" returned a list of lists; expected one flat list of {len(expected)} "
                "Values (every row of every matrix, one after the other).",
            )
        )
    if len(got) != len(expected):
        again = shown.endswith("a second time") and len(got) > len(expected)
        fail(
            about(
                shown,
                f" returned {len(got)} items; expected {len(expected)}, every weight of every "
                f"matrix{': the list kept items from the first call, ' + STATE if again else '.'}",
            )
        )
    if all(is_number(p) for p in got):
        fail(
            about(
                shown,
                " returned numbers; expected the state dict's Value "
                "objects themselves, so that the optimiser can update them.",
            )
        )
    ids = {id(p): name for name, p in expected}
    for i, (p, (name, q)) in enumerate(zip(got, expected)):
        if p is q:
            continue
        if id(p) not in ids:
            fail(
                about(
                    shown,
                    f": item {i} is {kind(p)}, not a Value from the state "
                    "dict: return the state dict's own Value objects (not "
                    "copies), so that updating them updates the model.",
                )
            )
        fail(
            about(
                shown,
                f": item {i} is {ids[id(p)]}; expected {name}: go matrix by "
                "matrix in the dict's order, and within a matrix row by row.",
            )
        )
