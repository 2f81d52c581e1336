"""Reading a trained model: where its heads look, how well it predicts unseen names, and how its
token embeddings are arranged.

Everything here reads numbers (.data) and returns floats; nothing is trained or changed.
Shapes: n_layer = L, n_head = H, head_dim = d = C / H, vocab_size = V, n_embd = C.
"""

import math

from .model import ACTIVATIONS, NORMS, attention_block, attention_weights, empty_kv_cache, mlp_block
from .nn import linear
from .tokenizer import encode
from .train import document_loss

POWER_ITERATION_TOLERANCE = 1e-12  # an axis is found when no entry moves by more than this


def attention_maps(doc, state_dict, config, chars):
    """The attention weights of every head at every position while the model reads doc.

    tokens = encode(doc, chars); the positions read are t = 0 .. n - 1 with
    n = min(block_size, len(tokens) - 1), the positions next_token_probs predicts from, through one
    KV cache as gpt runs them. Returns maps with maps[layer][head][t] a list of t + 1 floats summing
    to 1, the weights position t gives to positions 0 .. t:
        maps[l][h][t] = attention_weights(q[h], [k_0[h], ..., k_t[h]]),
    q = W_q norm(x_t) and k_s = W_k norm(x_s) for the input x of layer l, [h] the head's slice of d
    channels. Shape L x H x n x (t + 1).
    """
    tokens = encode(doc, chars)
    n = min(config.block_size, len(tokens) - 1)
    norm, activation = NORMS[config.norm], ACTIVATIONS[config.activation]
    keys, values = empty_kv_cache(config)
    heads = [slice(h * config.head_dim, (h + 1) * config.head_dim) for h in range(config.n_head)]
    maps = [[[] for _ in heads] for _ in range(config.n_layer)]
    for t in range(n):
        # gpt's forward pass, reading each layer's query (gpt itself keeps only the keys and values)
        x = norm([e + p for e, p in zip(state_dict["wte"][tokens[t]], state_dict["wpe"][t])])
        for layer in range(config.n_layer):
            q = linear(norm(x), state_dict[f"layer{layer}.attn_wq"])
            x = attention_block(
                x, keys[layer], values[layer], state_dict, layer, config.n_head, norm
            )
            for head, s in zip(maps[layer], heads):
                head.append([w.data for w in attention_weights(q[s], [k[s] for k in keys[layer]])])
            x = mlp_block(x, state_dict, layer, norm, activation)
    return maps


def mean_loss(docs, state_dict, config, chars):
    """The mean over docs of document_loss(encode(doc, chars), state_dict, config).data, a float.

    Every document weighs the same whatever its length, as in the training loss averaged over
    steps; on names the model never saw it measures how well it generalises.
    """
    losses = [document_loss(encode(doc, chars), state_dict, config).data for doc in docs]
    return sum(losses) / len(docs)


def cosine_similarity(a, b):
    """a . b / (|a| |b|) for two vectors of numbers (neither all zeros): 1 for the same direction,
    -1 for opposite ones."""
    dot = sum(x * y for x, y in zip(a, b))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def nearest_neighbours(token_id, embeddings, k=5):
    """The k tokens whose embeddings point most nearly the same way as token_id's.

    embeddings: V rows of C Values (state_dict["wte"]), no row all zeros. Returns a list of
    min(k, V - 1) pairs (j, s_j), j an int and s_j = cosine_similarity(row token_id, row j) a float,
    token_id itself left out, highest similarity first and equal similarities by lower j first.
    """
    rows = [[w.data for w in row] for row in embeddings]
    scored = [
        (j, cosine_similarity(rows[token_id], row)) for j, row in enumerate(rows) if j != token_id
    ]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))[:k]


def centred(rows):
    """rows (N lists of C numbers) minus their mean row."""
    mean = [sum(column) / len(rows) for column in zip(*rows)]
    return [[x - m for x, m in zip(row, mean)] for row in rows]


def principal_components(rows, k=2, max_iterations=1000):
    """The k leading principal axes of rows (N lists of C numbers), as k unit vectors of C floats.

    With X the rows minus their mean row, S = X^T X / N is their covariance (C x C); the axes are
    its eigenvectors of the k largest eigenvalues. Each is found by power iteration,
    v <- S v / |S v|, from the column of S with the largest norm (the first on a tie), until no
    entry moves by more than 1e-12 or after max_iterations; then S <- S - lambda v v^T
    (lambda = v . S v) removes it.
    Sign convention: the entry of largest absolute value of each axis is positive (the first on a
    tie). Raises ValueError when the rows vary in fewer than k directions (|S v| at most 1e-12 of
    the total variance).
    """
    n, c = len(rows), len(rows[0])
    x = centred(rows)
    cov = [[sum(row[i] * row[j] for row in x) / n for j in range(c)] for i in range(c)]
    total_variance = sum(cov[i][i] for i in range(c))
    axes = []
    for _ in range(k):
        columns = [[cov[i][j] for i in range(c)] for j in range(c)]
        v = max(columns, key=lambda col: sum(x * x for x in col))
        for _ in range(max_iterations):
            w = [sum(s * x for s, x in zip(row, v)) for row in cov]
            norm = math.sqrt(sum(x * x for x in w))
            if norm <= POWER_ITERATION_TOLERANCE * total_variance:  # only rounding noise is left
                raise ValueError(f"the rows vary in fewer than {k} directions")
            w = [x / norm for x in w]
            converged = max(abs(a - b) for a, b in zip(w, v)) <= POWER_ITERATION_TOLERANCE
            v = w
            if converged:
                break
        largest = max(range(c), key=lambda j: (abs(v[j]), -j))
        v = v if v[largest] > 0 else [-x for x in v]
        eigenvalue = sum(v[i] * sum(s * x for s, x in zip(cov[i], v)) for i in range(c))
        cov = [[cov[i][j] - eigenvalue * v[i] * v[j] for j in range(c)] for i in range(c)]
        axes.append(v)
    return axes


def pca_2d(embeddings):
    """Each row of embeddings (V rows of C Values, e.g. state_dict["wte"]) as a point (x, y) of
    floats: its offset from the mean row projected on the first two principal_components."""
    rows = [[w.data for w in row] for row in embeddings]
    first, second = principal_components(rows, 2)
    return [
        (sum(a * b for a, b in zip(row, first)), sum(a * b for a, b in zip(row, second)))
        for row in centred(rows)
    ]
