"""Chapter 05_gpt: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

from visible_tests import Variant

# the instructor's gpt with one line changed: {MARK} is replaced by each mistake's version of it
GPT = """
tok_emb, pos_emb = state_dict["wte"][token_id], state_dict["wpe"][pos_id]
x = rmsnorm([t + p for t, p in zip(tok_emb, pos_emb)])
for layer in range(config.n_layer):
    prefix = f"layer{layer}."
    x_norm = rmsnorm(x)
    q = linear(x_norm, state_dict[prefix + "attn_wq"])
    keys[layer].append(linear(x_norm, state_dict[prefix + "attn_wk"]))
    values[layer].append(linear(x_norm, state_dict[prefix + "attn_wv"]))
    out = linear(multi_head_attention(q, keys[layer], values[layer], config.n_head),
                 state_dict[prefix + "attn_wo"])
    x = [o + r for o, r in zip(out, x)]
    hidden = [h.relu() for h in linear(rmsnorm(x), state_dict[prefix + "mlp_fc1"])]
    out = linear(hidden, state_dict[prefix + "mlp_fc2"])
    x = [o + r for o, r in zip(out, x)]
return linear(x, state_dict["lm_head"])
"""


def gpt_with(old, new):
    """The instructor's gpt with the line(s) old replaced by new (old must occur once)."""
    assert GPT.count(old) == 1, old
    return GPT.replace(old, new)


CORRECT = [
    Variant(
        "attention_head",
        "weights by an explicit softmax over .exp()",
        """
d = len(q)
scores = [sum(a * b for a, b in zip(q, k)) / d ** 0.5 for k in keys]
weights = softmax(scores)
out = []
for j in range(len(values[0])):
    out.append(sum(w * v[j] for w, v in zip(weights, values)))
return out
""",
    ),
    Variant(
        "multi_head_attention",
        "heads by index arithmetic, results concatenated with +",
        """
size = len(q) // n_head
out = []
for h in range(n_head):
    lo, hi = h * size, h * size + size
    out = out + attention_head(q[lo:hi], [k[lo:hi] for k in keys], [v[lo:hi] for v in values])
return out
""",
    ),
    Variant(
        "gpt",
        "each layer's cache list replaced by a longer one",
        gpt_with(
            """    keys[layer].append(linear(x_norm, state_dict[prefix + "attn_wk"]))
    values[layer].append(linear(x_norm, state_dict[prefix + "attn_wv"]))
""",
            """    keys[layer] = keys[layer] + [linear(x_norm, state_dict[prefix + "attn_wk"])]
    values[layer] = values[layer] + [linear(x_norm, state_dict[prefix + "attn_wv"])]
""",
        ),
    ),
    Variant(
        "gpt",
        "helper functions for the two blocks",
        """
def attention_block(x, layer):
    x_norm = rmsnorm(x)
    w = lambda name: state_dict[f"layer{layer}.{name}"]
    q = linear(x_norm, w("attn_wq"))
    keys[layer].append(linear(x_norm, w("attn_wk")))
    values[layer].append(linear(x_norm, w("attn_wv")))
    heads = multi_head_attention(q, keys[layer], values[layer], config.n_head)
    return [o + r for o, r in zip(linear(heads, w("attn_wo")), x)]

def mlp_block(x, layer):
    hidden = [h.relu() for h in linear(rmsnorm(x), state_dict[f"layer{layer}.mlp_fc1"])]
    return [o + r for o, r in zip(linear(hidden, state_dict[f"layer{layer}.mlp_fc2"]), x)]

x = rmsnorm([a + b for a, b in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])])
for layer in range(config.n_layer):
    x = mlp_block(attention_block(x, layer), layer)
return linear(x, state_dict["lm_head"])
""",
    ),
]

MISTAKES = [
    Variant(
        "gpt",
        "the MLP's output added to the normed x",
        gpt_with(
            "    x = [o + r for o, r in zip(out, x)]\nreturn",
            "    x = [o + r for o, r in zip(out, rmsnorm(x))]\nreturn",
        ),
        says="the MLP adds to x, not to its norm",
    ),
    Variant(
        "gpt",
        "a norm before lm_head",
        gpt_with(
            'return linear(x, state_dict["lm_head"])',
            'return linear(rmsnorm(x), state_dict["lm_head"])',
        ),
        says="lm_head reads x as it is",
    ),
    Variant(
        "gpt",
        "head_dim where n_head goes",
        gpt_with("values[layer], config.n_head)", "values[layer], config.head_dim)"),
        says="multi_head_attention takes config.n_head",
    ),
    Variant(
        "gpt",
        "a weight read from the notebook's global state_dict",
        gpt_with(
            "tok_emb, pos_emb =",
            'state_dict = globals()["state_dict"]  # the notebook\'s\ntok_emb, pos_emb =',
        ),
        says="not from the notebook's globals",
    ),
    Variant(
        "attention_head",
        "q scaled in place",
        """
scale = len(q) ** 0.5
for j in range(len(q)):
    q[j] = q[j] / scale
weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) for k in keys])
return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]
""",
        says="you changed q in place",
    ),
    Variant(
        "attention_head",
        "scores not divided by sqrt(d)",
        """
weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) for k in keys])
return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]
""",
        says="q.k/sqrt(d)",
    ),
    Variant(
        "attention_head",
        "scores divided by d",
        """
weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / len(q) for k in keys])
return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]
""",
        says="q.k/sqrt(d)",
    ),
    Variant(
        "attention_head",
        "the weighted sum of the keys",
        """
weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / len(q) ** 0.5 for k in keys])
return [sum(w_t * k_t[j] for w_t, k_t in zip(weights, keys)) for j in range(len(values[0]))]
""",
        says="one position: its data is 2.0; expected 3.0",
    ),
    Variant(
        "attention_head",
        "a softmax of its own, without subtracting the largest score",
        """
scores = [sum(q_j * k_j for q_j, k_j in zip(q, k)) / len(q) ** 0.5 for k in keys]
exps = [s.exp() for s in scores]
total = sum(exps)
weights = [e / total for e in exps]
return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]
""",
        says="exp overflowed",
    ),
    Variant(
        "attention_head",
        "numbers instead of Values",
        """
weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / len(q) ** 0.5 for k in keys])
return [sum(w_t.data * v_t[j].data for w_t, v_t in zip(weights, values))
        for j in range(len(values[0]))]
""",
        says="expected a Value",
    ),
    Variant(
        "multi_head_attention",
        "the result written into q (out = q)",
        """
head_dim = len(q) // n_head
out = q
for h in range(n_head):
    s = slice(h * head_dim, (h + 1) * head_dim)
    out[s] = attention_head(q[s], [k[s] for k in keys], [v[s] for v in values])
return out
""",
        says="you changed q in place",
    ),
    Variant(
        "multi_head_attention",
        "every n_head-th channel instead of a contiguous slice",
        """
out = []
for h in range(n_head):
    out.extend(attention_head(q[h::n_head], [k[h::n_head] for k in keys],
                              [v[h::n_head] for v in values]))
return out
""",
        says="2 heads",
    ),
    Variant(
        "multi_head_attention",
        "one head over all channels",
        """
return attention_head(q, keys, values)
""",
        says="2 heads",
    ),
    Variant(
        "multi_head_attention",
        "head_dim of the notebook's config, not of q",
        """
out = []
for h in range(n_head):
    s = slice(h * config.head_dim, (h + 1) * config.head_dim)
    out.extend(attention_head(q[s], [k[s] for k in keys], [v[s] for v in values]))
return out
""",
        says="empty slice of q",
    ),
    Variant(
        "multi_head_attention",
        "numbers instead of Values",
        """
head_dim = len(q) // n_head
out = []
for h in range(n_head):
    s = slice(h * head_dim, (h + 1) * head_dim)
    out.extend(o.data for o in attention_head(q[s], [k[s] for k in keys], [v[s] for v in values]))
return out
""",
        says="expected a Value",
    ),
    Variant(
        "gpt",
        "no norm after the embedding",
        gpt_with(
            "x = rmsnorm([t + p for t, p in zip(tok_emb, pos_emb)])",
            "x = [t + p for t, p in zip(tok_emb, pos_emb)]",
        ),
        says="embedded x, normed",
    ),
    Variant(
        "gpt",
        "token and position embeddings swapped",
        gpt_with(
            'state_dict["wte"][token_id], state_dict["wpe"][pos_id]',
            'state_dict["wte"][pos_id], state_dict["wpe"][token_id]',
        ),
        says="look up wte[token_id] and wpe[pos_id]",
    ),
    Variant(
        "gpt",
        "no norm before the attention block",
        gpt_with("    x_norm = rmsnorm(x)\n", "    x_norm = x\n"),
        says="x after attention",
    ),
    Variant(
        "gpt",
        "no residual around the attention block",
        gpt_with("    x = [o + r for o, r in zip(out, x)]\n    hidden", "    x = out\n    hidden"),
        says="blocks adding 0 keep x",
    ),
    Variant(
        "gpt",
        "no norm before the MLP block",
        gpt_with(
            'linear(rmsnorm(x), state_dict[prefix + "mlp_fc1"])',
            'linear(x, state_dict[prefix + "mlp_fc1"])',
        ),
        says="x after the MLP",
    ),
    Variant(
        "gpt",
        "no relu in the MLP block",
        gpt_with("[h.relu() for h in", "[h for h in"),
        says="x after the MLP",
    ),
    Variant(
        "gpt",
        "no residual around the MLP block",
        gpt_with("    x = [o + r for o, r in zip(out, x)]\nreturn", "    x = out\nreturn"),
        says="blocks adding 0 keep x",
    ),
    Variant(
        "gpt",
        "the key and value appended after attending",
        gpt_with(
            """    keys[layer].append(linear(x_norm, state_dict[prefix + "attn_wk"]))
    values[layer].append(linear(x_norm, state_dict[prefix + "attn_wv"]))
    out = linear(multi_head_attention(q, keys[layer], values[layer], config.n_head),
                 state_dict[prefix + "attn_wo"])
""",
            """    out = linear(multi_head_attention(q, keys[layer], values[layer], config.n_head),
                 state_dict[prefix + "attn_wo"])
    keys[layer].append(linear(x_norm, state_dict[prefix + "attn_wk"]))
    values[layer].append(linear(x_norm, state_dict[prefix + "attn_wv"]))
""",
        ),
        says="empty cache",
    ),
    Variant(
        "gpt",
        "a new cache list instead of appending to the one given",
        gpt_with(
            """    keys[layer].append(linear(x_norm, state_dict[prefix + "attn_wk"]))
    values[layer].append(linear(x_norm, state_dict[prefix + "attn_wv"]))
    out = linear(multi_head_attention(q, keys[layer], values[layer], config.n_head),
""",
            """    layer_keys = keys[layer] + [linear(x_norm, state_dict[prefix + "attn_wk"])]
    layer_values = values[layer] + [linear(x_norm, state_dict[prefix + "attn_wv"])]
    out = linear(multi_head_attention(q, layer_keys, layer_values, config.n_head),
""",
        ),
        says="keys[0] has 0 items; expected 1",
    ),
    Variant(
        "gpt",
        "every layer's key into keys[0]",
        gpt_with("keys[layer].append", "keys[0].append"),
        says="empty cache",
    ),
    Variant(
        "gpt",
        "the embedding added into the row of wte",
        gpt_with(
            """tok_emb, pos_emb = state_dict["wte"][token_id], state_dict["wpe"][pos_id]
x = rmsnorm([t + p for t, p in zip(tok_emb, pos_emb)])""",
            """x = state_dict["wte"][token_id]
for i, p in enumerate(state_dict["wpe"][pos_id]):
    x[i] = x[i] + p
x = rmsnorm(x)""",
        ),
        says="you changed state_dict in place",
    ),
    Variant(
        "gpt",
        "n_head fixed at the default model's 4",
        GPT.replace("config.n_head", "4"),
        says="multi_head_attention takes config.n_head",
    ),
    Variant(
        "gpt",
        "one layer only",
        gpt_with("range(config.n_layer)", "range(1)"),
        says="x after attention",
    ),
    Variant(
        "gpt",
        "a final norm before lm_head (as in GPT-2)",
        gpt_with(
            'return linear(x, state_dict["lm_head"])',
            'return linear(rmsnorm(x), state_dict["lm_head"])',
        ),
        says="x after attention",
    ),
    Variant(
        "gpt",
        "the embedding computed on numbers (no gradient to wte and wpe)",
        gpt_with(
            "x = rmsnorm([t + p for t, p in zip(tok_emb, pos_emb)])",
            "x = rmsnorm([Value(t.data + p.data) for t, p in zip(tok_emb, pos_emb)])",
        ),
        says="backward gives",
    ),
]
