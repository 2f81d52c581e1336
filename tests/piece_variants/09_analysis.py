"""Chapter 09_analysis: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

from visible_tests import Variant

# attention_maps as the instructor's solution, with one line changed by each mistake below
MAPS = """
tokens = encode(doc, chars)
n = min(config.block_size, len(tokens) - 1)
norm, activation = NORMS[config.norm], ACTIVATIONS[config.activation]
keys, values = empty_kv_cache(config)
heads = [slice(h * config.head_dim, (h + 1) * config.head_dim) for h in range(config.n_head)]
maps = [[[] for _ in heads] for _ in range(config.n_layer)]
for t in range(n):
    x = norm([e + p for e, p in zip(state_dict["wte"][tokens[t]], state_dict["wpe"][t])])
    for layer in range(config.n_layer):
        q = linear(norm(x), state_dict[f"layer{layer}.attn_wq"])
        x = attention_block(x, keys[layer], values[layer], state_dict, layer, config.n_head, norm)
        for head, s in zip(maps[layer], heads):
            head.append([w.data for w in attention_weights(q[s], [k[s] for k in keys[layer]])])
        x = mlp_block(x, state_dict, layer, norm, activation)
return maps
"""

CORRECT = [
    Variant(
        "attention_maps",
        "positions outside, heads indexed by number",
        """
tokens = encode(doc, chars)
norm, activation = NORMS[config.norm], ACTIVATIONS[config.activation]
keys, values = empty_kv_cache(config)
d = config.n_embd // config.n_head
maps = [[[] for _ in range(config.n_head)] for _ in range(config.n_layer)]
for t, token in enumerate(tokens[:config.block_size][:len(tokens) - 1]):
    x = norm([e + p for e, p in zip(state_dict["wte"][token], state_dict["wpe"][t])])
    for l in range(config.n_layer):
        q = linear(norm(x), state_dict[f"layer{l}.attn_wq"])
        x = attention_block(x, keys[l], values[l], state_dict, l, config.n_head, norm)
        for h in range(config.n_head):
            weights = attention_weights(q[h * d:(h + 1) * d],
                                        [k[h * d:(h + 1) * d] for k in keys[l]])
            maps[l][h].append([float(w.data) for w in weights])
        x = mlp_block(x, state_dict, l, norm, activation)
return maps
""",
    ),
    Variant(
        "mean_loss",
        "a running total",
        """
total = 0.0
for doc in docs:
    total += document_loss(encode(doc, chars), state_dict, config).data
return total / len(docs)
""",
    ),
    Variant(
        "nearest_neighbours",
        "math.hypot norms and a sort in two passes",
        """
target = [w.data for w in embeddings[token_id]]
pairs = []
for j, row in enumerate(embeddings):
    if j == token_id:
        continue
    other = [w.data for w in row]
    pairs.append((j, sum(a * b for a, b in zip(target, other))
                  / (math.hypot(*target) * math.hypot(*other))))
pairs.sort(key=lambda pair: pair[0])
pairs.sort(key=lambda pair: pair[1], reverse=True)
return pairs[:k]
""",
    ),
]

MISTAKES = [
    Variant(
        "attention_maps",
        "the weights as Values",
        MAPS.replace("[w.data for w in", "[w for w in"),
        says="expected 'float'",
    ),
    Variant(
        "attention_maps",
        "no cap at block_size",
        MAPS.replace("n = min(config.block_size, len(tokens) - 1)", "n = len(tokens) - 1"),
        says="expected 4",
    ),
    Variant(
        "attention_maps",
        "one position too few",
        MAPS.replace(
            "n = min(config.block_size, len(tokens) - 1)",
            "n = min(config.block_size, len(tokens) - 2)",
        ),
        says="expected 4",
    ),
    # layer 0's x is normalised already (norm(x) differs from x by 1e-5 there): layer 1's tells them
    # apart
    Variant(
        "attention_maps",
        "the query from x, not norm(x)",
        MAPS.replace("linear(norm(x),", "linear(x,"),
        says="layer 1, last rows: item [0][0] is 8.97",
    ),
    Variant(
        "attention_maps",
        "one KV cache kept between calls",
        """
global maps_cache
if "maps_cache" not in globals():
    maps_cache = empty_kv_cache(config)
keys, values = maps_cache
"""
        + MAPS.replace("keys, values = empty_kv_cache(config)\n", ""),
        says="a second call, fresh cache",
    ),
    Variant(
        "mean_loss",
        "a Value instead of a float",
        """
return sum(document_loss(encode(doc, chars), state_dict, config) for doc in docs) / len(docs)
""",
        says="expected 'float'",
    ),
    Variant(
        "mean_loss",
        "the sum, not the mean",
        """
return sum(document_loss(encode(doc, chars), state_dict, config).data for doc in docs)
""",
        says="expected 2.50317",
    ),
    Variant(
        "mean_loss",
        "weighted by the number of tokens",
        """
tokens = [encode(doc, chars) for doc in docs]
counts = [min(config.block_size, len(t) - 1) for t in tokens]
losses = [document_loss(t, state_dict, config).data for t in tokens]
return sum(x * c for x, c in zip(losses, counts)) / sum(counts)
""",
        says="expected 2.50317",
    ),
    Variant(
        "mean_loss",
        "a backward on each loss",
        """
total = 0.0
for doc in docs:
    loss = document_loss(encode(doc, chars), state_dict, config)
    loss.backward()
    total += loss.data
return total / len(docs)
""",
        says="no backward",
    ),
    Variant(
        "nearest_neighbours",
        "the similarity as a Value",
        """
row = embeddings[token_id]
def cosine(other):
    dot = sum(a * b for a, b in zip(row, other))
    return dot / (sum(a * a for a in row) ** 0.5 * sum(b * b for b in other) ** 0.5)
pairs = [(j, cosine(other)) for j, other in enumerate(embeddings) if j != token_id]
return sorted(pairs, key=lambda pair: (-pair[1].data, pair[0]))[:k]
""",
        says="expected 'float'",
    ),
    Variant(
        "nearest_neighbours",
        "ties by the higher id first",
        """
rows = [[w.data for w in row] for row in embeddings]
def cosine(a, b):
    return (sum(x * y for x, y in zip(a, b))
            / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))))
pairs = [(j, cosine(rows[token_id], row)) for j, row in enumerate(rows) if j != token_id]
return sorted(pairs, key=lambda pair: (pair[1], pair[0]), reverse=True)[:k]
""",
        says="ties",
    ),
    Variant(
        "nearest_neighbours",
        "normalises the rows in place",
        """
for row in embeddings:
    length = math.sqrt(sum(w.data * w.data for w in row))
    for w in row:
        w.data = w.data / length
pairs = [(j, sum(a.data * b.data for a, b in zip(embeddings[token_id], row)))
         for j, row in enumerate(embeddings) if j != token_id]
return sorted(pairs, key=lambda pair: (-pair[1], pair[0]))[:k]
""",
        says="you changed four in place",
    ),
    Variant(
        "attention_maps",
        "layer 0's query weights in every layer",
        MAPS.replace('state_dict[f"layer{layer}.attn_wq"]', 'state_dict["layer0.attn_wq"]'),
        says="layer 1, last rows",
    ),
    Variant(
        "mean_loss",
        "the notebook's BOS around each name",
        """
tokens = [[BOS] + [chars.index(c) for c in doc] + [BOS] for doc in docs]
return sum(document_loss(t, state_dict, config).data for t in tokens) / len(docs)
""",
        says="BOS 27",
    ),
]
