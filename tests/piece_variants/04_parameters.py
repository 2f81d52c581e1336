"""Chapter 04_parameters: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

from visible_tests import Variant

CORRECT = [
    Variant(
        "param_shapes",
        "a list of pairs turned into a dict",
        """
V, C, T = config.vocab_size, config.n_embd, config.block_size
pairs = [("wte", (V, C)), ("wpe", (T, C)), ("lm_head", (V, C))]
for l in range(config.n_layer):
    pairs += [(f"layer{l}.attn_w{k}", (C, C)) for k in "qkvo"]
    pairs += [(f"layer{l}.mlp_fc1", (4 * C, C)), (f"layer{l}.mlp_fc2", (C, 4 * C))]
return dict(pairs)
""",
    ),
    Variant(
        "init_params",
        "loops filling a dict",
        """
state_dict = {}
for name, (rows, cols) in param_shapes(config).items():
    matrix = []
    for _ in range(rows):
        matrix.append([Value(rng.gauss(0, std)) for _ in range(cols)])
    state_dict[name] = matrix
return state_dict
""",
    ),
    Variant(
        "parameters",
        "extend a new list row by row",
        """
params = []
for matrix in state_dict.values():
    for row in matrix:
        params.extend(row)
return params
""",
    ),
]

MISTAKES = [
    Variant(
        "param_shapes",
        "mlp_fc1 and mlp_fc2 with swapped dimensions",
        """
c = config.n_embd
shapes = {"wte": (config.vocab_size, c), "wpe": (config.block_size, c),
          "lm_head": (config.vocab_size, c)}
for layer in range(config.n_layer):
    for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
        shapes[f"layer{layer}.{name}"] = (c, c)
    shapes[f"layer{layer}.mlp_fc1"] = (c, 4 * c)
    shapes[f"layer{layer}.mlp_fc2"] = (4 * c, c)
return shapes
""",
        says="layer0.mlp_fc1",
    ),
    Variant(
        "param_shapes",
        "wte as (n_embd, vocab_size)",
        """
c = config.n_embd
shapes = {"wte": (c, config.vocab_size), "wpe": (config.block_size, c),
          "lm_head": (config.vocab_size, c)}
for layer in range(config.n_layer):
    for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
        shapes[f"layer{layer}.{name}"] = (c, c)
    shapes[f"layer{layer}.mlp_fc1"] = (4 * c, c)
    shapes[f"layer{layer}.mlp_fc2"] = (c, 4 * c)
return shapes
""",
        says="wte (defaults): item [0] is 16; expected 27",
    ),
    Variant(
        "param_shapes",
        "lists instead of tuples",
        """
c = config.n_embd
shapes = {"wte": [config.vocab_size, c], "wpe": [config.block_size, c],
          "lm_head": [config.vocab_size, c]}
for layer in range(config.n_layer):
    for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
        shapes[f"layer{layer}.{name}"] = [c, c]
    shapes[f"layer{layer}.mlp_fc1"] = [4 * c, c]
    shapes[f"layer{layer}.mlp_fc2"] = [c, 4 * c]
return shapes
""",
        says="tuple",
    ),
    Variant(
        "param_shapes",
        "one dict kept between calls",
        """
c = config.n_embd
shapes = globals().setdefault("all_shapes", {})
shapes.update({"wte": (config.vocab_size, c), "wpe": (config.block_size, c),
               "lm_head": (config.vocab_size, c)})
for layer in range(config.n_layer):
    for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
        shapes[f"layer{layer}.{name}"] = (c, c)
    shapes[f"layer{layer}.mlp_fc1"] = (4 * c, c)
    shapes[f"layer{layer}.mlp_fc2"] = (c, 4 * c)
return shapes
""",
        says="keep no state between calls",
    ),
    Variant(
        "param_shapes",
        "4.0 * n_embd, a float",
        """
c = config.n_embd
shapes = {"wte": (config.vocab_size, c), "wpe": (config.block_size, c),
          "lm_head": (config.vocab_size, c)}
for layer in range(config.n_layer):
    for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
        shapes[f"layer{layer}.{name}"] = (c, c)
    shapes[f"layer{layer}.mlp_fc1"] = (4.0 * c, c)
    shapes[f"layer{layer}.mlp_fc2"] = (c, 4.0 * c)
return shapes
""",
        says="dimension types (defaults): item [14] is 'float'; expected 'int'",
    ),
    Variant(
        "init_params",
        "the random module instead of rng",
        """
import random
return {name: [[Value(random.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config).items()}
""",
        says="draw from rng",
    ),
    Variant(
        "init_params",
        "a fixed std of 0.08",
        """
return {name: [[Value(rng.gauss(0, 0.08)) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config).items()}
""",
        says="std=0.5",
    ),
    Variant(
        "init_params",
        "rows and columns swapped",
        """
return {name: [[Value(rng.gauss(0, std)) for _ in range(rows)] for _ in range(cols)]
        for name, (rows, cols) in param_shapes(config).items()}
""",
        says="wte has 16 items; expected 27",
    ),
    Variant(
        "init_params",
        "plain numbers instead of Values",
        """
return {name: [[rng.gauss(0, std) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config).items()}
""",
        says="expected a Value",
    ),
    Variant(
        "init_params",
        "normalvariate instead of gauss",
        """
return {name: [[Value(rng.normalvariate(0, std)) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config).items()}
""",
        says="expected -0.0115272",
    ),
    Variant(
        "init_params",
        "param_shapes given the vocabulary size, not the config",
        """
return {name: [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config.vocab_size).items()}
""",
        says="init_params called param_shapes(27): pass it the config",
    ),
    Variant(
        "init_params",
        "one more draw from rng",
        """
state_dict = {name: [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
              for name, (rows, cols) in param_shapes(config).items()}
rng.random()
return state_dict
""",
        says="no other call",
    ),
    Variant(
        "parameters",
        "copies of the weights",
        """
return [Value(p.data) for matrix in state_dict.values() for row in matrix for p in row]
""",
        says="own objects, not copies: item [0] is False",
    ),
    Variant(
        "parameters",
        "a list of rows",
        """
return [row for matrix in state_dict.values() for row in matrix]
""",
        says="the result has 3 items; expected 4",
    ),
    Variant(
        "parameters",
        "extends the first row of the state dict",
        """
params = None
for matrix in state_dict.values():
    for row in matrix:
        if params is None:
            params = row
        else:
            params.extend(row)
return params
""",
        says="you changed state_dict in place",
    ),
    Variant(
        "parameters",
        "one list kept between calls",
        """
params = globals().setdefault("all_params", [])
for matrix in state_dict.values():
    for row in matrix:
        params.extend(row)
return params
""",
        says="keep no state between calls",
    ),
]
