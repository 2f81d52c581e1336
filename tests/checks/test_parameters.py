"""Chapter 4 checks: param_shapes, init_params and parameters accept correct implementations and
reject plausible mistakes with a message that points at the cause."""

import itertools
import random

import microgpt
import pytest
from hypothesis import given, settings, strategies as st
from microgpt import Value

from autograder.checks import check_init_params, check_param_shapes, check_parameters
from mutants import (
    case_tables,
    none_mistake,
    notebook,
    notebook_value_class,
    rejection,
    stub_mistake,
)

# --- param_shapes ---


def param_shapes_listed(config):
    c, names = config.n_embd, ["wte", "wpe", "lm_head"]
    rows = {"wte": config.vocab_size, "wpe": config.block_size, "lm_head": config.vocab_size}
    for layer in range(config.n_layer):
        for matrix, shape in [
            ("attn_wq", (c, c)),
            ("attn_wk", (c, c)),
            ("attn_wv", (c, c)),
            ("attn_wo", (c, c)),
            ("mlp_fc1", (4 * c, c)),
            ("mlp_fc2", (c, 4 * c)),
        ]:
            names.append(f"layer{layer}.{matrix}")
            rows[names[-1]] = shape
    return {
        name: rows[name] if isinstance(rows[name], tuple) else (rows[name], c) for name in names
    }


def shapes_lm_head_transposed(config):
    shapes = microgpt.param_shapes(config)
    shapes["lm_head"] = (config.n_embd, config.vocab_size)
    return shapes


def shapes_one_layer(config):
    return microgpt.param_shapes(
        microgpt.GPTConfig(config.vocab_size, config.n_embd, config.n_head, 1, config.block_size)
    )


def shapes_layers_first(config):
    shapes = microgpt.param_shapes(config)
    return {
        name: shapes[name] for name in sorted(shapes, key=lambda name: not name.startswith("layer"))
    }


def shapes_fc1_transposed(config):
    shapes = microgpt.param_shapes(config)
    return {
        name: (shape[1], shape[0]) if name.endswith("mlp_fc1") else shape
        for name, shape in shapes.items()
    }


def shapes_underscore_names(config):
    return {
        name.replace("layer", "layer_"): shape
        for name, shape in microgpt.param_shapes(config).items()
    }


def shapes_wpe_vocab(config):
    return {**microgpt.param_shapes(config), "wpe": (config.vocab_size, config.n_embd)}


def shapes_lists(config):
    return {name: list(shape) for name, shape in microgpt.param_shapes(config).items()}


def shapes_float_hidden(config):
    shapes = microgpt.param_shapes(config)
    c = config.n_embd
    return {
        name: (c * 4.0, c)
        if name.endswith("mlp_fc1")
        else (c, c * 4.0)
        if name.endswith("mlp_fc2")
        else shape
        for name, shape in shapes.items()
    }


SHAPES = {}


def shapes_global_dict(config):
    SHAPES.update(microgpt.param_shapes(config))
    return SHAPES


# --- init_params ---


def init_params_normalvariate(config, rng, std=0.08):
    state_dict = {}
    for name, (rows, cols) in microgpt.param_shapes(config).items():
        state_dict[name] = [
            [Value(rng.normalvariate(0, std)) for _ in range(cols)] for _ in range(rows)
        ]
    return state_dict


def init_params_column_by_column(config, rng, std=0.08):
    state_dict = {}
    for name, (rows, cols) in microgpt.param_shapes(config).items():
        columns = [[rng.gauss(0, std) for _ in range(rows)] for _ in range(cols)]
        state_dict[name] = [[Value(columns[c][r]) for c in range(cols)] for r in range(rows)]
    return state_dict


def init_params_scaled_unit_gauss(config, rng, std=0.08):
    state_dict = {}
    for name, (rows, cols) in microgpt.param_shapes(config).items():
        matrix = []
        for _ in range(rows):
            matrix.append([Value(std * rng.gauss(0, 1)) for _ in range(cols)])
        state_dict[name] = matrix
    return state_dict


def init_with(draw):
    """init_params drawing each weight with draw(rng, std)."""

    def init_params(config, rng, std=0.08):
        return {
            name: [[Value(draw(rng, std)) for _ in range(cols)] for _ in range(rows)]
            for name, (rows, cols) in microgpt.param_shapes(config).items()
        }

    return init_params


init_variance = init_with(lambda rng, std: rng.gauss(0, std**2))
init_uniform = init_with(lambda rng, std: rng.uniform(-std, std))
init_uniform_same_std = init_with(lambda rng, std: rng.uniform(-std * 3**0.5, std * 3**0.5))
init_global_random = init_with(lambda rng, std: random.gauss(0, std))
init_fixed_std = init_with(lambda rng, std: rng.gauss(0, 0.08))


def init_own_generator(config, rng, std=0.08):
    return microgpt.init_params(config, random.Random(42), std)


def init_repeated_row(config, rng, std=0.08):
    return {
        name: [[Value(rng.gauss(0, std))] * cols for _ in range(rows)]
        for name, (rows, cols) in microgpt.param_shapes(config).items()
    }


def init_one_draw_per_row(config, rng, std=0.08):
    state_dict = {}
    for name, (rows, cols) in microgpt.param_shapes(config).items():
        draws = [rng.gauss(0, std) for _ in range(rows)]
        state_dict[name] = [[Value(draws[r]) for _ in range(cols)] for r in range(rows)]
    return state_dict


def init_floats(config, rng, std=0.08):
    return {
        name: [[rng.gauss(0, std) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in microgpt.param_shapes(config).items()
    }


def init_transposed(config, rng, std=0.08):
    return {
        name: [[Value(rng.gauss(0, std)) for _ in range(rows)] for _ in range(cols)]
        for name, (rows, cols) in microgpt.param_shapes(config).items()
    }


def init_extra_draw(config, rng, std=0.08):
    state_dict = microgpt.init_params(config, rng, std)
    rng.gauss(0, std)  # one more, "to see what the next weight would be"
    return state_dict


def init_zero_head(config, rng, std=0.08):
    state_dict = microgpt.init_params(config, rng, std)
    state_dict["lm_head"] = [[Value(0.0) for _ in row] for row in state_dict["lm_head"]]
    return state_dict


# --- parameters ---


def parameters_loops(state_dict):
    params = []
    for matrix in state_dict.values():
        for row in matrix:
            for p in row:
                params.append(p)
    return params


def parameters_chain(state_dict):
    return list(itertools.chain.from_iterable(itertools.chain.from_iterable(state_dict.values())))


def parameters_reuses_first_row(state_dict):
    rows = [row for matrix in state_dict.values() for row in matrix]
    params = rows[0]  # the first row itself, not a copy
    for row in rows[1:]:
        params += row
    return params


PARAMS = []


def parameters_global_list(state_dict):
    PARAMS.extend(p for matrix in state_dict.values() for row in matrix for p in row)
    return list(PARAMS)


def parameters_copies(state_dict):
    return [Value(p.data) for p in microgpt.parameters(state_dict)]


def parameters_data(state_dict):
    return [p.data for p in microgpt.parameters(state_dict)]


def parameters_sorted_names(state_dict):
    return [p for name in sorted(state_dict) for row in state_dict[name] for p in row]


def parameters_column_major(state_dict):
    return [
        row[c] for matrix in state_dict.values() for c in range(len(matrix[0])) for row in matrix
    ]


def parameters_rows(state_dict):
    return [row for matrix in state_dict.values() for row in matrix]


def parameters_first_matrix(state_dict):
    return [p for row in next(iter(state_dict.values())) for p in row]


CASES = {
    "param_shapes": (
        check_param_shapes,
        [microgpt.param_shapes, param_shapes_listed],
        [
            (shapes_lm_head_transposed, "'lm_head' is (16, 27); expected (27, 16)"),
            (shapes_one_layer, "has no 'layer1.attn_wq'"),
            (shapes_layers_first, "(init_params draws the weights in this order)"),
            (shapes_fc1_transposed, "'layer0.mlp_fc1' is (16, 64); expected (64, 16)"),
            (shapes_underscore_names, "has no 'layer0.attn_wq'"),
            (shapes_wpe_vocab, "'wpe' is (27, 16); expected (16, 16)"),
            (
                shapes_lists,
                "'wte' is a list of 2 items [27, 16]; expected the tuple of two ints (27, 16)",
            ),
            (
                shapes_float_hidden,
                "'layer0.mlp_fc1' is a tuple of 2 items (64.0, 16); expected the tuple of two ints",
            ),
            (shapes_global_dict, "it is a name of an earlier call, keep no state between calls"),
        ],
    ),
    "init_params": (
        check_init_params,
        [microgpt.init_params, init_params_scaled_unit_gauss],
        [
            (init_params_normalvariate, "rng.normalvariate draws other numbers"),
            (init_params_column_by_column, "the right numbers in the wrong places"),
            (init_extra_draw, "make no other call on rng than one rng.gauss(0, std) per weight"),
            (init_variance, "std is the standard deviation, not the variance"),
            (
                init_uniform,
                "wte[0][0] is -0.0585017; expected 0.103055, the reference's weight for this seed",
            ),
            (init_uniform_same_std, "Draw each weight with exactly one rng.gauss(0, std) call"),
            (init_global_random, "not from the random module"),
            (init_own_generator, "Draw each weight with exactly one rng.gauss(0, std) call"),
            (init_fixed_std, "init_params: wte[0][0] is 0.00326848; expected 0.000817119"),
            (init_repeated_row, "create a new Value for every weight"),
            (init_one_draw_per_row, "draw a fresh rng.gauss(0, std) for every weight"),
            (init_floats, "expected a Value, so that training can compute its gradient"),
            (init_transposed, "'wte' is (16, 27); expected (27, 16)"),
            (init_zero_head, "lm_head[0][0] is 0.0; expected"),
        ],
    ),
    "parameters": (
        check_parameters,
        [microgpt.parameters, parameters_loops, parameters_chain],
        [
            (parameters_copies, "not copies"),
            (parameters_data, "the state dict's Value objects themselves"),
            (parameters_sorted_names, "go matrix by matrix in the dict's order"),
            (parameters_column_major, "within a matrix row by row"),
            (parameters_rows, "one flat list of 4192 Values"),
            (parameters_first_matrix, "returned 432 items; expected 4192"),
            (
                parameters_reuses_first_row,
                "changed its input: state_dict['wte'][0] had 16 items and now has 4192",
            ),
            (
                parameters_global_list,
                "called a second time returned 8384 items; expected 4192, every weight of every "
                "matrix: the list kept items from the first call, keep no state between calls",
            ),
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
    "piece, fn, phrase", MISTAKES, ids=[f"{p}-{phrase[:30]}" for p, fn, phrase in MISTAKES]
)
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)


def test_init_params_and_parameters_use_value_cls():
    value_cls = notebook_value_class()
    learner = notebook(
        """
        def init_params(config, rng, std=0.08):
            return {name: [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
                    for name, (rows, cols) in param_shapes(config).items()}

        def parameters(state_dict):
            return [p for matrix in state_dict.values() for row in matrix for p in row]
        """,
        Value=value_cls,
        param_shapes=microgpt.param_shapes,
    )
    check_init_params(learner["init_params"], value_cls)
    check_parameters(learner["parameters"], value_cls)
    # reference Values where the notebook's class is expected are not the notebook's Values
    assert "expected the Value class this notebook defines" in rejection(
        check_init_params, microgpt.init_params, value_cls
    )


def test_init_params_check_leaves_the_random_module_as_it_was():
    random.seed(123)
    expected = random.random()
    random.seed(123)
    check_init_params(microgpt.init_params)
    assert random.random() == expected


def test_init_params_is_graded_with_the_reference_param_shapes():
    # param_shapes is graded in its own cell: a wrong one must not cost init_params's points
    learner = notebook(
        """
        def param_shapes(config):
            return {"wte": (config.n_embd, config.vocab_size)}

        def init_params(config, rng, std=0.08):
            return {name: [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
                    for name, (rows, cols) in param_shapes(config).items()}
        """,
        Value=Value,
    )
    mine = learner["param_shapes"]
    check_init_params(learner["init_params"])
    assert learner["param_shapes"] is mine
    assert "has no 'wpe'" in rejection(check_param_shapes, mine)


@settings(max_examples=15, deadline=None)
@given(index=st.integers(0, 10_000), delta=st.floats(1e-6, 1.0))
def test_init_params_check_rejects_any_changed_weight(index, delta):
    def nudged(config, rng, std=0.08):
        state_dict = microgpt.init_params(config, rng, std)
        weights = microgpt.parameters(state_dict)
        weights[index % len(weights)].data += delta * std
        return state_dict

    assert "the reference's weight for this seed" in rejection(check_init_params, nudged)
