# %% [markdown]
# # Chapter 9 · Understanding: what has the model learned?
#
# The model of chapter 7 invents names that sound right. Its 4,192<!-- claim: sum(len(row) for matrix in state_dict.values() for row in matrix) --> numbers must hold something about names: which
# letters follow which, how long names run, which letters behave alike. In this chapter you open the trained model
# up and look: where its attention heads look, how well it predicts names it has never seen, and how it arranges
# the 27<!-- claim: len(state_dict["wte"]) --> tokens in its embedding space. Then you say in your own words what you see.
#
# **Goals.** By the end of this chapter you will be able to
#
# - record the **attention weights** of every head while the model reads a name, and compare the trained heads with
#   the untrained ones of chapter 5;
# - measure the loss on **held-out** names and explain the gap to the training loss;
# - find the **nearest neighbours** of a letter by cosine similarity of the embeddings, and project the embeddings to
#   two dimensions to see the whole arrangement at once;
# - write down, with evidence from the pictures and numbers, what the model has learned.
#
# **Time:** about 75 minutes.
#
# **Graded work: 13 points in total**, 7 graded automatically and 6 by your instructor.
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `attention_maps(doc, state_dict, config, chars)` | every head's attention weights at every position | 3 |
# | `mean_loss(docs, state_dict, config, chars)` | the average loss over a list of names | 2 |
# | `nearest_neighbours(token_id, embeddings, k)` | the k most similar tokens by cosine similarity | 2 |
# | Questions 1-3 (written, graded by hand) | what the heads, the loss gap and the embeddings show | 6 |
#
# The three questions are answered in the Markdown cells that say "YOUR ANSWER HERE": double-click, write,
# and run the cell to render it; your instructor grades them by hand.

# %% [markdown] passage=how_to_work

# %% fetch

# %%
import math
import random

# course_tools first: in the browser, offline, it stands in for matplotlib (pictures skipped)
from course_tools import check_probabilities, expect_close, expect_equal, show, unchanged

import matplotlib.pyplot as plt

# %% [markdown]
# ## 0 · The model, given
#
# The whole model is given: `Value`, the building blocks, the forward pass and its pieces (chapter 5), the loss of a
# document (chapter 7), the tokenizer (chapter 2), and `load` for the trained model of chapter 7, shipped next to
# this notebook as `microgpt-names-1000.json`. We also rebuild the *untrained* model of chapter 5: the same
# configuration, weights drawn by `init_params` with seed 42.

# %% given="microgpt.autograd:Value microgpt.nn:linear,softmax,rmsnorm,relu"

# %%
# Given code: NORMS, ACTIVATIONS. Run this cell; leave it as it is.
# the model's choices of normalisation and activation by name; chapter 10 adds LayerNorm and GeLU
NORMS = {"rmsnorm": rmsnorm}
ACTIVATIONS = {"relu": relu}

# %% given=microgpt.model:GPTConfig,param_shapes,init_params,empty_kv_cache,attention_weights,attention_head,multi_head_attention,attention_block,mlp_block,gpt

# %% given="microgpt.tokenizer:bos_id,vocab_size,encode,decode microgpt.train:next_token_probs,document_loss"

# %% given=microgpt.checkpoint:FORMAT,VERSION,SHAPE_FIELDS,ARCHITECTURE_FIELDS,CheckpointError,Checkpoint,load

# %%
trained = load("microgpt-names-1000.json")
state_dict, config, chars = trained.state_dict, trained.config, trained.chars
untrained = init_params(config, random.Random(42))
BOS = bos_id(chars)


def token_str(token_id):
    return "BOS" if token_id == BOS else chars[token_id]


print(config)
steps, final_loss = trained.meta["steps"], trained.meta["final_loss"]
print(f"trained for {steps} steps; final training loss {final_loss:.4f}")


# %% [markdown]
# ## 1 · Where do the heads look?
#
# **Intuition.** Each attention head of chapter 5 computes, at position $t$, one weight per position
# $s = 0, \dots, t$: how much of position $s$'s value it takes in. These weights are the clearest window into the
# model: a head that always puts its weight on the previous position is reading "the letter before me"; a head
# that stays on BOS is reading "how far into the name am I" (its value barely changes, so it acts like a default).
# Untrained, the weights are close to uniform<!-- claim: all(abs(focus(before, h) - sum(1 / (t + 1) for t in range(1, len(before[0][h]))) / (len(before[0][h]) - 1)) < 0.05 for h in range(config.n_head)) -->, because random queries and keys barely agree.
#
# **Math.** With $x_t$ the input of the layer at position $t$ (for layer 0, the normalised embedding of chapter 5)
# and $x'_t = \mathrm{norm}(x_t)$, head $h$ uses the slice $[h]$ of $d = C / H$ channels of the query and keys:
#
# $$q_t = W_q\, x'_t, \qquad k_s = W_k\, x'_s, \qquad
#   w_{t,s} = \mathrm{softmax}_s\!\left(\frac{q_t[h] \cdot k_s[h]}{\sqrt d}\right), \quad s = 0, \dots, t,$$
#
# which is exactly the given `attention_weights(q[h], [k_0[h], ..., k_t[h]])`. `gpt` computes $q_t$ and throws it
# away after use, so to record the weights we walk the forward pass ourselves, layer by layer, with the given
# blocks: for each position embed and normalise the token, then for each layer compute the query from
# `norm(x)`, run `attention_block` (which appends $k_t$ and $v_t$ to the cache), read the weights from the query and
# the cached keys, and run `mlp_block`.
#
# ### Exercise 1: `attention_maps` (3 points)

# %% exercise=attention_maps
def attention_maps(doc, state_dict, config, chars):
    """The attention weights of every head at every position while the model reads doc.

    tokens = encode(doc, chars); the positions read are t = 0 .. n - 1, n = min(block_size,
    len(tokens) - 1) (the positions the loss predicts from), through one KV cache, as gpt runs them.
    With norm = NORMS[config.norm], activation = ACTIVATIONS[config.activation] and x the input of
    the layer (for layer 0: norm(wte[token] + wpe[t])):
        q = linear(norm(x), state_dict[f"layer{l}.attn_wq"])
        x = attention_block(x, keys[l], values[l], state_dict, l, config.n_head, norm)
        maps[l][h][t] = [w.data for w in attention_weights(q[s_h], [k[s_h] for k in keys[l]])]
        x = mlp_block(x, state_dict, l, norm, activation)
    where s_h = slice(h * head_dim, (h + 1) * head_dim).

    Returns:
        maps[l][h][t]: a list of t + 1 floats summing to 1, the weights position t gives to
        positions 0 .. t. Shape n_layer x n_head x n x (t + 1).
    """
    ### BEGIN SOLUTION
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
            x = attention_block(x, keys[layer], values[layer], state_dict, layer, config.n_head,
                                norm)
            for head, s in zip(maps[layer], heads):
                head.append([w.data for w in attention_weights(q[s], [k[s] for k in keys[layer]])])
            x = mlp_block(x, state_dict, layer, norm, activation)
    return maps
    ### END SOLUTION


# %% tests=attention_maps points=3
# a model of 2 layers (random weights): the weights of the last position read, per layer and head.
# Layer 1's input x is not normalised (layer 0's is), so there a query from x instead of norm(x)
# shows plainly
deep = GPTConfig(vocab_size=config.vocab_size, n_layer=2, block_size=4)
deep_state = init_params(deep, random.Random(3), std=0.5)
deep_last_rows = [[[0.9879, 0.0017, 0.0078, 0.0026], [0.1681, 0.7367, 0.0703, 0.0249],
                   [0.4328, 0.0065, 0.0672, 0.4935], [0.0981, 0.417, 0.0547, 0.4303]],
                  [[0.2182, 0.0261, 0.6363, 0.1193], [0.3205, 0.0958, 0.0473, 0.5364],
                   [0.002, 0.0116, 0.9406, 0.0458], [0.3344, 0.5629, 0.0379, 0.0647]]]
deep_maps = attention_maps("ava", deep_state, deep, chars)
expect_equal("2 layers: heads per layer", [len(layer) for layer in deep_maps], [4, 4])
expect_close("layer 1, last rows", [head[-1] for head in deep_maps[1]], deep_last_rows[1],
             abs_tol=5e-5)  # wrong here alone? its query is linear(norm(x), ...), as its keys
expect_close("2 layers, last rows", [[head[-1] for head in layer] for layer in deep_maps],
             deep_last_rows, abs_tol=5e-5)
# a second call starts from an empty cache again: nothing is kept between calls
again = attention_maps("ava", deep_state, deep, chars)
expect_close("a second call, fresh cache", [[head[-1] for head in layer] for layer in again],
             deep_last_rows, abs_tol=5e-5)
maps = attention_maps("ava", state_dict, config, chars)
# the trained model's weights for 'ava' (layer 0; one list per head, one row per position)
expected = [[[[1.0], [0.5085, 0.4915], [0.319, 0.4536, 0.2274], [0.2497, 0.2454, 0.2599, 0.245]],
             [[1.0], [0.4172, 0.5828], [0.3696, 0.3166, 0.3138], [0.1543, 0.2544, 0.2457, 0.3457]],
             [[1.0], [0.2235, 0.7765], [0.2775, 0.6988, 0.0237], [0.0334, 0.1276, 0.7708, 0.0682]],
             [[1.0], [0.9377, 0.0623], [0.1641, 0.7385, 0.0975], [0.2408, 0.0106, 0.7286, 0.02]]]]
expect_close("attention_maps('ava', ...) (to 4 decimals)", maps, expected, abs_tol=5e-5)
expect_equal("the weights' type", type(maps[0][3][3][0]).__name__, "float")
check_probabilities(maps[0][3][3])
# the trained weights read through 4 positions: 'isabella' has 9 tokens to predict, 4 are read
short = GPTConfig(vocab_size=config.vocab_size, block_size=4)
capped = attention_maps("isabella", state_dict, short, chars)
expect_equal("rows, isabella, block_size 4", [[len(row) for row in head] for head in capped[0]],
             [[1, 2, 3, 4]] * 4)

### BEGIN HIDDEN TESTS
from autograder.checks import check_attention_maps
check_attention_maps(attention_maps, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# Here are the four heads on `isabella`, untrained (chapter 5's weights) above and trained below. Row $t$ shows how
# position $t$ spreads its attention over positions $0, \dots, t$; the token it reads is on the left.

# %% claims={"after 1,000": "steps"}
def draw_heads(axes_row, maps, labels, title):
    cmap = plt.get_cmap("viridis").copy()
    cmap.set_bad("white")
    n = len(labels)
    for h, ax in enumerate(axes_row):
        square = [row + [float("nan")] * (n - len(row)) for row in maps[0][h]]
        image = ax.imshow(square, cmap=cmap, vmin=0, vmax=1)
        ax.set_title(f"{title}, head {h}", fontsize=9)
        ax.set_xticks(range(n), labels, fontsize=7)
        ax.set_yticks(range(n), labels, fontsize=7)
    return image


name = "isabella"
labels = [token_str(t) for t in encode(name, chars)[:-1]]
fig, axes = plt.subplots(2, config.n_head, figsize=(13, 7), layout="constrained")
draw_heads(axes[0], attention_maps(name, untrained, config, chars), labels, "untrained")
image = draw_heads(axes[1], attention_maps(name, state_dict, config, chars), labels, "trained")
fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
fig.suptitle(f"Layer-0 attention on '{name}': before and after 1,000 steps of training")
show("Eight heat maps of layer-0 attention on 'isabella', four heads before training (weights "
     "spread evenly over earlier positions) and the same heads after 1,000 steps (each head "
     "concentrating on a few positions).")


# %% [markdown]
# One number summarises how focused a head is: the average, over positions $t \ge 1$, of the largest weight in
# row $t$. Near $1 / (t + 1)$ means "spread evenly"; near 1 means "looks at one position".

# %%
def focus(maps, h):
    rows = maps[0][h][1:]
    return sum(max(row) for row in rows) / len(rows)


before = attention_maps(name, untrained, config, chars)
after = attention_maps(name, state_dict, config, chars)
for h in range(config.n_head):
    print(f"head {h}: average largest weight {focus(before, h):.2f} untrained, "
          f"{focus(after, h):.2f} trained")


# %% [markdown]
# ### Question 1 (2 points, graded by hand)
#
# Compare the trained heads with the untrained ones. Pick one trained head and describe its pattern precisely
# (which positions does it weigh, and does the pattern depend on the letters or only on the positions?). What
# could that head be useful for when the model predicts the next letter? Run `attention_maps` on one or two other
# names in a new cell if it helps, and quote what you see.

# %% [markdown] answer=question_heads points=2
# **Rubric (2 points).** 1 point: a precise, correct description of one trained head's pattern, grounded in the
# heat map or the focus numbers (e.g. "head 2 puts most of its weight on the previous position at every row",
# "head 0 stays on BOS", "weight concentrates on vowels"), contrasted with the near-uniform untrained heads.
# 1 point: a plausible use for the next-letter prediction (previous letter → bigram statistics; BOS → how far into
# the name, useful for deciding when to end; vowel positions → alternation of vowels and consonants). Half a
# point off for claims the pictures contradict.

# %% [markdown]
# ## 2 · How well does it predict names it has never seen?
#
# **Intuition.** Training used 1,000<!-- claim: steps --> steps, one name each: the first 1,000 names after shuffling the 32,033<!-- claim: len(names) --> names
# with seed 42. The training loss says how well the model predicts *those* names. The question that matters is how
# well it predicts names it never saw: if the loss on **held-out** names is much higher, the model memorised; if it
# is about the same, it learned patterns that carry over.
#
# **Math.** The loss of one name is the mean cross-entropy of chapter 7, `document_loss`; the loss of a list of
# names is the plain average of theirs, each name counting once whatever its length:
#
# $$\bar L = \frac{1}{N} \sum_{i=1}^{N} L(\text{name}_i).$$
#
# For reference: a model that knows nothing and gives every token probability $1/27$ has a loss of
# $\ln 27 \approx 3.30$ on every name.
#
# ### Exercise 2: `mean_loss` (2 points)

# %% exercise=mean_loss
def mean_loss(docs, state_dict, config, chars):
    """The mean over docs of document_loss(encode(doc, chars), state_dict, config).data.

    Args:
        docs: a non-empty list of strings whose characters are all in chars.
        state_dict, config, chars: the model and its vocabulary.

    Returns:
        A float: (1 / len(docs)) * the sum of the documents' losses (each a float, via .data).
    """
    ### BEGIN SOLUTION
    losses = [document_loss(encode(doc, chars), state_dict, config).data for doc in docs]
    return sum(losses) / len(docs)
    ### END SOLUTION


# %% tests=mean_loss points=2
for docs, expected in [(["emma"], from_reference[numbers(mean_loss(["emma"], *trained), 7)]),
                       (["emma", "xavier"],
                        from_reference[numbers(mean_loss(["emma", "xavier"], *trained), 7)]),
                       (["emma", "emma"], from_reference[numbers(mean_loss(["emma"], *trained), 7)])]:
    # reading the model changes nothing in it: no backward, no updates
    with unchanged("docs", docs), unchanged("state_dict", state_dict):
        got = mean_loss(docs, state_dict, config, chars)
    expect_close(f"mean_loss({docs})", got, expected, rel_tol=1e-6)
expect_equal("mean_loss's type", type(got).__name__, "float")
# a vocabulary of 27 characters, whose BOS is bos_id(chars) = 27, not 26, and random weights
hyphenated = chars + ["-"]
wide = GPTConfig(vocab_size=vocab_size(hyphenated))
got = mean_loss(["ava", "bob"], init_params(wide, random.Random(8)), wide, hyphenated)
expect_close("chars + ['-'], BOS 27", got,
             from_reference[numbers(mean_loss(["ava", "bob"], init_params(GPTConfig(vocab_size=28),
                                                                           random.Random(8)),
                                              GPTConfig(vocab_size=28), trained[2] + ["-"]), 8)],
             rel_tol=1e-6)

### BEGIN HIDDEN TESTS
from autograder.checks import check_mean_loss
check_mean_loss(mean_loss, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# Now the experiment. We shuffle the names exactly as the trainer did, take 20 of the names it trained on and 20<!-- claim: len(seen) == len(unseen) == 20 -->
# it never saw, and compare. (Each name costs a forward pass per letter, so we keep the lists short: the numbers
# below are estimates good to about 0.1. With 400 names each, which takes minutes rather than seconds, the two losses of the
# trained model come out within a few hundredths of each other.)

# %%
names = [line.strip() for line in open("names.txt", encoding="utf-8") if line.strip()]
shuffled = list(names)
random.Random(42).shuffle(shuffled)
seen, unseen = shuffled[:20], shuffled[1000:1020]
seen_loss = mean_loss(seen, state_dict, config, chars)
unseen_loss = mean_loss(unseen, state_dict, config, chars)
untrained_loss = mean_loss(unseen, untrained, config, chars)
print(f"trained model, 20 names it trained on:   {seen_loss:.3f}")
print(f"trained model, 20 names it never saw:    {unseen_loss:.3f}")
print(f"untrained model, the same unseen names:  {untrained_loss:.3f}")
print(f"uniform guess over 27 tokens:            {math.log(27):.3f}")


# %% [markdown]
# ### Question 2 (2 points, graded by hand)
#
# What do the four numbers above tell you about what the model learned? Is there a gap between the names it trained
# on and the names it never saw, and what would a large gap have meant? Would training for 10,000 steps instead of
# 1,000 (one new name per step, so 10,000 different names) be likely to lower the loss on unseen names, and why?

# %% [markdown] answer=question_loss points=2
# **Rubric (2 points).** 1 point: reads the numbers correctly: trained ≈ unseen (small gap) and both well below the
# untrained and uniform losses, so the model learned patterns that generalise, not the names themselves; a large
# gap (unseen much higher) would have meant memorisation/overfitting. 1 point: 10,000 steps of one new name each
# shows the model ten times as many different names, so the unseen loss would most likely fall further (more data,
# still under one pass over the 32,033 names), down to the limit of what a model this small can represent; a
# remark that the learning-rate schedule scales with the number of steps earns no penalty either way.

# %% [markdown]
# ## 3 · Which letters does the model treat alike?
#
# **Intuition.** Each token has an embedding, a row of `wte` with $C = 16$ numbers. Training moves these rows so
# that tokens which play similar roles (they are followed by similar letters, they appear in similar places) get
# similar rows, because then the rest of the network can treat them alike. We measure "similar" by the angle
# between two rows: the **cosine similarity**
#
# $$\cos(a, b) = \frac{a \cdot b}{\lVert a \rVert\, \lVert b \rVert} \in [-1, 1],$$
#
# 1 for the same direction, 0 for unrelated, $-1$ for opposite. The length of a row matters less here: the model
# normalises the embedded vector right away (chapter 5).
#
# ### Exercise 3: `nearest_neighbours` (2 points)

# %% exercise=nearest_neighbours
def nearest_neighbours(token_id, embeddings, k=5):
    """The k tokens whose embeddings point most nearly the same way as token_id's.

    Args:
        token_id: an int, a row of embeddings.
        embeddings: V rows of C Values (state_dict["wte"]); no row is all zeros.
        k: how many neighbours (an int >= 1).

    Returns:
        A list of min(k, V - 1) pairs (j, s): j an int, s the cosine similarity (a float) of
        row token_id and row j, computed on .data. token_id itself is left out; the highest
        similarity comes first, and equal similarities are ordered by lower j first.
    """
    ### BEGIN SOLUTION
    rows = [[w.data for w in row] for row in embeddings]

    def cosine(a, b):
        dot = sum(x * y for x, y in zip(a, b))
        return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))

    scored = [(j, cosine(rows[token_id], row)) for j, row in enumerate(rows) if j != token_id]
    return sorted(scored, key=lambda pair: (-pair[1], pair[0]))[:k]
    ### END SOLUTION


# %% tests=nearest_neighbours points=2
four = [[Value(x), Value(y)] for x, y in [(1.0, 0.0), (0.0, 2.0), (3.0, 0.1), (-1.0, 0.0)]]
with unchanged("four", four):
    got = nearest_neighbours(0, four, k=3)
expect_close("nearest_neighbours(0, four, k=3)", got,
             from_reference[numbers(nearest_neighbours(0, four, k=3), 8)])
expect_equal("types of each (j, s)", [[type(j).__name__, type(s).__name__] for j, s in got],
             [["int", "float"]] * 3)
# rows 1 and 3 point the same way as row 0: equal similarities, the lower id first
tied = [[Value(x), Value(y)] for x, y in [(1.0, 0.0), (2.0, 0.0), (0.0, 1.0), (3.0, 0.0)]]
expect_close("ties: lower id first", nearest_neighbours(0, tied, k=3),
             [[1, 1.0], [3, 1.0], [2, 0.0]])
expect_close("nearest_neighbours(0, four, k=10) (only 3 others)", nearest_neighbours(0, four, k=10),
             from_reference[numbers(nearest_neighbours(0, four, k=10), 8)])
a = chars.index("a")
expect_close("nearest_neighbours(a, wte, k=3)", nearest_neighbours(a, state_dict["wte"], k=3),
             from_reference[numbers(nearest_neighbours(0, trained[0]["wte"], k=3), 6)], rel_tol=1e-5)

### BEGIN HIDDEN TESTS
from autograder.checks import check_nearest_neighbours
check_nearest_neighbours(nearest_neighbours, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# The three nearest neighbours of every vowel, in the trained and in the untrained model:

# %%
for letter in "aeiouy":
    row = []
    for model in (state_dict, untrained):
        pairs = nearest_neighbours(chars.index(letter), model["wte"], k=3)
        row.append(", ".join(f"{token_str(j)} {s:.2f}" for j, s in pairs))
    print(f"{letter}:  trained {row[0]:<26} untrained {row[1]}")

# %% [markdown]
# ### All 27 embeddings at once
#
# Sixteen dimensions cannot be drawn, but we can look at the two directions along which the embeddings vary most,
# their first two **principal components**, and place every token by its coordinates along them. The projection is
# given (`pca_2d`, computed by power iteration in pure Python); vowels (and `y`) are red, consonants blue,
# BOS black.

# %% given=microgpt.analysis:POWER_ITERATION_TOLERANCE,centred,principal_components,pca_2d

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
for ax, model, title in ((axes[0], untrained, "untrained"), (axes[1], state_dict, "trained")):
    points = pca_2d(model["wte"])
    for token, (x, y) in enumerate(points):
        label = token_str(token)
        colour = "black" if token == BOS else "tab:red" if label in "aeiouy" else "tab:blue"
        ax.scatter(x, y, color=colour, s=25)
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(4, 3), fontsize=10,
                    color=colour)
    ax.set_title(f"{title} model")
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
fig.suptitle("Token embeddings, first two principal components (vowels and y: red; BOS: black)")
show("The token embeddings of the untrained and the trained model on their first two principal "
     "components: untrained, the letters are scattered; trained, the vowels and y (red) gather on "
     "one side, apart from the consonants.")

# %% [markdown]
# ### Question 3 (2 points, graded by hand)
#
# Where do the vowels fall in the trained model's picture, compared with the consonants and with BOS, and how does
# that differ from the untrained picture? What does it suggest the model has learned about letters? Name one
# reason why a two-dimensional picture of 16-dimensional embeddings can mislead, and say how the nearest-neighbour
# lists above support or contradict what you see in the picture.

# %% [markdown] answer=question_embeddings points=2
# **Rubric (2 points).** 1 point: in the trained picture the vowels (a, e, i, o, u, and often y) gather on one side,
# apart from most consonants, with BOS set apart; in the untrained picture the tokens are scattered with no
# grouping; so the model learned that vowels play a similar role (they are interchangeable in many contexts, and
# alternate with consonants). 1 point: a correct caveat (two components keep only part of the variance, so tokens
# close in the picture can be far apart in 16 dimensions, and vice versa), tied to the neighbour lists (e.g. the
# vowels' nearest neighbours are mostly vowels, supporting the picture; or a case where they disagree).

# %% [markdown]
# ## What you have found
#
# - The trained heads are no longer uniform<!-- claim: all(focus(after, h) > focus(before, h) + 0.05 for h in range(config.n_head)) -->: they have specialised, several of them on particular positions.
# - The loss on names the model never saw is close to the training loss<!-- claim: abs(unseen_loss - seen_loss) < 0.1 --> and far below a uniform guess<!-- claim: unseen_loss < math.log(27) - 0.5 -->: it learned
#   patterns of names, not a list of names.
# - The embeddings have arranged themselves so that letters with similar roles, the vowels above all, sit together<!-- claim: all(token_str(j) in "aeiou" for letter in "aeiou" for j, s in nearest_neighbours(chars.index(letter), state_dict["wte"], k=3)) -->.
#
# Chapter 10 turns from looking to changing: you will rank names by their likelihood, check whether the model
# copies its training names, and try other choices of normalisation, activation and size.
