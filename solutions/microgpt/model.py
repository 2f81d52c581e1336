"""The GPT: its configuration, its parameters and its forward pass for one position.

Shapes: n_embd = C, n_head = H, head_dim = C / H, vocab_size = V. A matrix is
a list of rows (n_out x n_in) of `Value`s; the state dict maps names to matrices.
"""

from dataclasses import dataclass

from .autograd import Value
from .nn import gelu, layernorm, linear, relu, rmsnorm, softmax


@dataclass(frozen=True)
class GPTConfig:
    """Hyperparameters of the model; defaults are the original microgpt's.

    norm names the normalisation used after the embeddings and before each block ("rmsnorm" or
    "layernorm"); activation names the MLP's nonlinearity ("relu" or "gelu").
    """

    vocab_size: int
    n_embd: int = 16
    n_head: int = 4
    n_layer: int = 1
    block_size: int = 16
    norm: str = "rmsnorm"
    activation: str = "relu"

    def __post_init__(self):
        for name in ("vocab_size", "n_embd", "n_head", "n_layer", "block_size"):
            if not isinstance(getattr(self, name), int) or getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        # spelled out here, not read from NORMS and ACTIVATIONS, so that the class stands on its own
        for name, choices in (("norm", ("rmsnorm", "layernorm")), ("activation", ("relu", "gelu"))):
            if getattr(self, name) not in choices:
                raise ValueError(
                    f"{name} must be one of {', '.join(map(repr, choices))}, "
                    f"got {getattr(self, name)!r}"
                )

    @property
    def head_dim(self):
        return self.n_embd // self.n_head


# the functions GPTConfig's norm and activation name (the same names, in the same order)
NORMS = {"rmsnorm": rmsnorm, "layernorm": layernorm}
ACTIVATIONS = {"relu": relu, "gelu": gelu}


def param_shapes(config):
    """Name -> (rows, cols), a tuple of two ints, of every weight matrix, in initialisation order:
    wte (V, C), wpe (block_size, C), lm_head (V, C), then per layer l "layer{l}.attn_wq", "attn_wk",
    "attn_wv", "attn_wo" (C, C), "layer{l}.mlp_fc1" (4C, C) and "layer{l}.mlp_fc2" (C, 4C)."""
    c = config.n_embd
    shapes = {
        "wte": (config.vocab_size, c),
        "wpe": (config.block_size, c),
        "lm_head": (config.vocab_size, c),
    }
    for layer in range(config.n_layer):
        for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo"):
            shapes[f"layer{layer}.{name}"] = (c, c)
        shapes[f"layer{layer}.mlp_fc1"] = (4 * c, c)
        shapes[f"layer{layer}.mlp_fc2"] = (c, 4 * c)
    return shapes


def init_params(config, rng, std=0.08):
    """State dict of Gaussian weights N(0, std^2): the names of `param_shapes`, in its order, each
    mapped to a list of rows of fresh `Value`s (grad 0).

    Random draws: exactly one rng.gauss(0, std) per weight, matrix by matrix in `param_shapes`
    order, row by row, left to right within a row, and no other call on rng; so the same seed
    always gives the same weights, and the random module is never used.
    """
    return {
        name: [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config).items()
    }


def parameters(state_dict):
    """Every scalar weight of the state dict as one new flat list of the state dict's own `Value`s
    (not copies): matrix by matrix in the dict's order, row by row, left to right."""
    return [p for matrix in state_dict.values() for row in matrix for p in row]


def empty_kv_cache(config):
    """(keys, values): per layer, an empty list that will hold one C-vector per position."""
    return [[] for _ in range(config.n_layer)], [[] for _ in range(config.n_layer)]


def attention_weights(q, keys):
    """Softmax of scaled dot products: w_t = softmax_t(q . k_t / sqrt(d)).

    q: d values; keys: T vectors of d values. Returns T weights summing to 1.
    """
    scale = len(q) ** 0.5
    return softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / scale for k in keys])


def attention_head(q, keys, values):
    """One attention head: out_j = sum_t w_t * values[t][j], w = attention_weights(q, keys).

    q: d values; keys, values: T vectors of d values (the cache, current
    position included). Returns d values.
    """
    weights = attention_weights(q, keys)
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]


def multi_head_attention(q, keys, values, n_head):
    """Split C channels into n_head heads of C / n_head, attend in each, concatenate.

    q: C values; keys, values: T vectors of C values. Returns C values.
    """
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        s = slice(h * head_dim, (h + 1) * head_dim)
        out.extend(attention_head(q[s], [k[s] for k in keys], [v[s] for v in values]))
    return out


def attention_block(x, keys, values, state_dict, layer, n_head, norm=rmsnorm):
    """x + W_o · MHA(W_q x', cache + W_k x', cache + W_v x'), with x' = norm(x).

    Appends this position's key and value to the layer's cache (keys, values).
    """
    prefix = f"layer{layer}."
    x_norm = norm(x)
    q = linear(x_norm, state_dict[prefix + "attn_wq"])
    keys.append(linear(x_norm, state_dict[prefix + "attn_wk"]))
    values.append(linear(x_norm, state_dict[prefix + "attn_wv"]))
    out = linear(multi_head_attention(q, keys, values, n_head), state_dict[prefix + "attn_wo"])
    return [o + r for o, r in zip(out, x)]


def mlp_block(x, state_dict, layer, norm=rmsnorm, activation=relu):
    """x + W_2 · activation(W_1 · norm(x)), with a hidden width of 4C; activation maps one Value
    to one Value."""
    prefix = f"layer{layer}."
    hidden = [activation(h) for h in linear(norm(x), state_dict[prefix + "mlp_fc1"])]
    out = linear(hidden, state_dict[prefix + "mlp_fc2"])
    return [o + r for o, r in zip(out, x)]


def gpt(token_id, pos_id, keys, values, state_dict, config):
    """Logits (V values) for the token after `token_id` at position `pos_id`.

    keys, values: the KV cache from `empty_kv_cache`, holding the earlier
    positions of this sequence; this call appends the current one. The norm and
    the activation are the ones config names.
    """
    norm, activation = NORMS[config.norm], ACTIVATIONS[config.activation]
    tok_emb, pos_emb = state_dict["wte"][token_id], state_dict["wpe"][pos_id]
    x = norm([t + p for t, p in zip(tok_emb, pos_emb)])
    for layer in range(config.n_layer):
        x = attention_block(x, keys[layer], values[layer], state_dict, layer, config.n_head, norm)
        x = mlp_block(x, state_dict, layer, norm, activation)
    return linear(x, state_dict["lm_head"])
