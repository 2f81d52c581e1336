# %% [markdown]
# # Chapter 4 · The model's parameters: shapes, initialisation and counting
#
# Chapter 3 built the operations a GPT computes with. They all multiply by numbers that nobody has written down yet:
# the model's **parameters**. This chapter decides how many there are, how they are arranged and named, and what
# they are before any training — and shows that those choices matter more than they might seem.
#
# **Goals.** By the end of this chapter you will
#
# - say what a *parameter* is, and what distinguishes it from everything else in a neural network;
# - name every weight matrix of our GPT, give its shape and say what job it does;
# - count the parameters of a model from its configuration alone, and predict how the count grows;
# - create the weights the way the original microgpt does — small Gaussian numbers, drawn in a fixed order — and
#   explain why they must be random and why they must be small;
# - collect every weight into one flat list, ready for the optimizer.
#
# **Time:** about 45 minutes.
#
# **Graded exercises: 5 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `param_shapes(config)` | the name and shape of every weight matrix, in a fixed order | 2 |
# | `init_params(config, rng, std=0.08)` | the state dict: every matrix filled with Gaussian random `Value`s | 2 |
# | `parameters(state_dict)` | every weight of the state dict in one flat list | 1 |

# %% [markdown] passage=how_to_work

# %% fetch

# %% [markdown]
# ## 0 · Where we are
#
# In chapter 1 you built `Value`, a number that remembers how it was computed so that `backward()` can find
# derivatives. Chapter 2 turned names into token ids: 26 letters plus one special token, BOS, so the vocabulary has
# **27** tokens. Chapter 3 gave us three building blocks — `linear`, `softmax` and `rmsnorm` — that take lists of
# `Value`s to lists of `Value`s.
#
# Two things are still missing before we can assemble a GPT in chapter 5: the **numbers** the building blocks multiply
# by, and a **description of the model's size**. This chapter provides both.
#
# First the tools: the standard library's `math` and `random`, matplotlib for the pictures, and the course's
# test helpers.

# %%
import math
import random

# course_tools first: in the browser, offline, it stands in for matplotlib (pictures skipped)
from course_tools import check_shape, expect_close, expect_equal, expect_value, show

import matplotlib.pyplot as plt

# %% [markdown]
# Below are the pieces you need from earlier chapters. `Value` is the reference version of your chapter 1 class.
# `GPTConfig` is new: it is a small record of the model's hyperparameters.

# %% given="microgpt.autograd:Value microgpt.model:GPTConfig"

# %% [markdown]
# ## 1 · What is a parameter?
#
# A neural network is a fixed recipe of arithmetic with **blanks** in it. The recipe — "look up a row, add, normalise,
# multiply by a matrix, take a softmax…" — is the code you write, and it never changes. The blanks are the numbers
# the recipe multiplies by: those are the **parameters** (or *weights*; we use the two words interchangeably).
#
# Training never touches the code. It only changes the parameters: it runs the recipe on a name, measures how wrong
# the prediction was, asks `backward()` for the derivative of that error with respect to every parameter, and nudges
# each one a little downhill. Everything our GPT will ever "know" about names — that `q` is almost always followed by
# `u`, that names often end in `a` — will be stored in these numbers and nowhere else.
#
# That is why every parameter is a `Value`: the gradient of the loss has to flow back to it.
#
# ### The configuration
#
# How many blanks there are, and how they are arranged, is decided by a handful of **hyperparameters** — numbers we
# choose before training and never learn. `GPTConfig` holds them:
#
# | field | symbol | default | meaning |
# |---|---|---|---|
# | `vocab_size` | $V$ | (required) | number of distinct tokens: 27 for our names |
# | `n_embd` | $C$ | 16 | width of the vector that represents each token inside the model ("channels") |
# | `n_head` | $H$ | 4 | number of attention heads (chapter 5); must divide `n_embd` |
# | `n_layer` | $L$ | 1 | number of transformer blocks stacked on top of each other |
# | `block_size` | $T$ | 16 | the longest sequence the model can read (its *context length*) |
# | `norm`, `activation` | | `"rmsnorm"`, `"relu"` | which normalisation and which nonlinearity the model uses (chapter 10 tries others) |
#
# The defaults are the original microgpt's. They describe a very small model, which is exactly what we want: pure
# Python is slow, and small numbers let us look at every weight.

# %%
config = GPTConfig(vocab_size=27)
print(config)
print("head_dim =", config.head_dim, "(n_embd / n_head: the width of one attention head)")

# %% [markdown]
# `GPTConfig` checks its fields when it is created, so an impossible model fails immediately rather than deep inside
# a computation:

# %%
try:
    GPTConfig(vocab_size=27, n_embd=16, n_head=5)
except ValueError as error:
    print("ValueError:", error)


# %% [markdown]
# ## 2 · The state dict: every matrix, its shape and its job
#
# Our model keeps its parameters in a **state dict**: a Python `dict` that maps a name to a matrix. A matrix is a list
# of rows, and each row is a list of `Value`s — the same convention as `linear(x, w)` from chapter 3, where `w` has one
# row per *output*. So a matrix that turns a $C$-vector into a $V$-vector has shape $V \times C$
# (`rows x cols` = `n_out x n_in`).
#
# Here is every matrix, in the order we will create them. You will meet each of them at work in chapter 5; for now,
# what matters is what goes in, what comes out, and therefore the shape.
#
# **Embeddings — turning ids into vectors.**
#
# - `wte`, the **token embedding** table, $V \times C$. Row $i$ is the learned vector for token $i$. The model reads a
#   token by *looking up* its row — no multiplication needed. (Multiplying by a one-hot vector, all zeros except a 1
#   at position $i$, would pick out the same $C$ numbers; looking them up is the same thing, only faster.)
# - `wpe`, the **position embedding** table, $T \times C$. Row $t$ is a learned vector meaning "I am at position $t$".
#   Attention on its own does not know the order of tokens; adding this vector tells it. It has `block_size` rows
#   because those are the only positions the model will ever see — that is exactly what the context length means.
#
# **One transformer block (per layer $\ell$; names start with `layer{ℓ}.`).**
#
# - `attn_wq`, `attn_wk`, `attn_wv`, each $C \times C$: they turn the current token's vector into a **query** ("what am
#   I looking for?"), a **key** ("what do I contain?") and a **value** ("what do I pass on if someone attends to me?").
# - `attn_wo`, $C \times C$: the **output projection**, which mixes what the attention heads found back into the
#   model's $C$ channels.
# - `mlp_fc1`, $4C \times C$: the first layer of the small feed-forward network (the **MLP**), which *expands* each
#   vector to four times its width…
# - `mlp_fc2`, $C \times 4C$: …and the second, which projects it back down to $C$.
#
# **The output.**
#
# - `lm_head`, $V \times C$: turns the final $C$-vector into $V$ **logits**, one score per possible next token
#   ("lm" stands for *language model*). It has the same shape as `wte`, but it is a separate matrix with its own
#   job: `wte` maps ids to vectors, `lm_head` maps vectors to scores over ids.
#
# The order in which the names appear matters (section 3 explains why), so we fix it:
#
# 1. `wte`, `wpe`, `lm_head`;
# 2. then, for each layer $\ell = 0, 1, \dots, L-1$: `layer{ℓ}.attn_wq`, `layer{ℓ}.attn_wk`, `layer{ℓ}.attn_wv`,
#    `layer{ℓ}.attn_wo`, `layer{ℓ}.mlp_fc1`, `layer{ℓ}.mlp_fc2`.
#
# Python dictionaries remember the order in which keys were inserted, so a dict built in this order *is* this order.
#
# ### Counting them
#
# Adding up rows × columns gives the number of parameters $P$ directly from the configuration:
#
# $$
# P \;=\; \underbrace{VC}_{\texttt{wte}} + \underbrace{TC}_{\texttt{wpe}} + \underbrace{VC}_{\texttt{lm\_head}}
# \;+\; L\,\big(\underbrace{4C^2}_{\text{attention}} + \underbrace{4C\cdot C + C\cdot 4C}_{\text{MLP}}\big)
# \;=\; 2VC + TC + 12\,L\,C^2 .
# $$
#
# **Worked example** with the defaults ($V=27$, $C=16$, $T=16$, $L=1$):
#
# - `wte` and `lm_head`: $27 \times 16 = 432$ each, so $864$<!-- claim: counts["wte (token embedding)"] + counts["lm_head (output)"] -->;
# - `wpe`: $16 \times 16 = 256$;
# - attention: $4 \times 16 \times 16 = 1{,}024$;
# - MLP: $64 \times 16 + 16 \times 64 = 2{,}048$;
# - total: $864 + 256 + 1{,}024 + 2{,}048 = \mathbf{4{,}192}$ parameters.<!-- claim: [counts["wpe (position embedding)"], counts["attention (wq, wk, wv, wo)"], counts["MLP (fc1, fc2)"], total] == [256, 1024, 2048, 4192] -->
#
# Notice that the MLP alone holds half the model<!-- claim: abs(counts["MLP (fc1, fc2)"] / total - 0.5) < 0.02 -->, twice as much as attention<!-- claim: counts["MLP (fc1, fc2)"] == 2 * counts["attention (wq, wk, wv, wo)"] -->.
#
# ### Exercise 1: `param_shapes` (2 points)
#
# Write `param_shapes(config)`: it returns a dict mapping each matrix name to its `(rows, cols)` tuple, with the names
# inserted in the order above. It only describes the model; it creates no `Value`s.
#
# A useful shortcut: call `config.n_embd` $C$ once at the top. Build names like `layer0.attn_wq` with an f-string,
# `f"layer{layer}.attn_wq"`.

# %% exercise=param_shapes
def param_shapes(config):
    """The name and shape of every weight matrix of the model, in initialisation order.

    Input:
        config: a GPTConfig with vocab_size V, n_embd C, block_size T and n_layer L.

    Returns:
        a dict {name: (rows, cols)} whose keys are inserted in exactly this order:
            "wte": (V, C), "wpe": (T, C), "lm_head": (V, C),
            then for each layer l = 0, 1, ..., L-1:
            f"layer{l}.attn_wq": (C, C), f"layer{l}.attn_wk": (C, C),
            f"layer{l}.attn_wv": (C, C), f"layer{l}.attn_wo": (C, C),
            f"layer{l}.mlp_fc1": (4*C, C), f"layer{l}.mlp_fc2": (C, 4*C).
        Shapes are tuples of two ints. The dict has 3 + 6*L entries, and is a
        new dict on every call (nothing is kept from one call to the next).

    Example:
        >>> param_shapes(GPTConfig(vocab_size=27))
        {'wte': (27, 16), 'wpe': (16, 16), 'lm_head': (27, 16),
         'layer0.attn_wq': (16, 16), 'layer0.attn_wk': (16, 16), 'layer0.attn_wv': (16, 16),
         'layer0.attn_wo': (16, 16), 'layer0.mlp_fc1': (64, 16), 'layer0.mlp_fc2': (16, 64)}
    """
    ### BEGIN SOLUTION
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
    ### END SOLUTION


# %% tests=param_shapes points=2
from course_tools import expect_equal


def expect_shapes(config_name, got, expected):
    """got must hold expected's names in expected's order (a dict compares equal whatever the
    order of its keys, so the order is tested on its own), then each name's shape: a tuple
    of two ints."""
    expect_equal(f"names, in order ({config_name})", list(got) if isinstance(got, dict) else got,
                 list(expected))
    for name, shape in expected.items():
        expect_equal(f"{name} ({config_name})", got[name], shape)
    kinds = [type(shape).__name__ for shape in got.values()]
    expect_equal(f"shape types ({config_name})", kinds, ["tuple"] * len(expected))
    kinds = [type(n).__name__ for shape in got.values() for n in shape]
    expect_equal(f"dimension types ({config_name})", kinds, ["int"] * 2 * len(expected))


DEFAULT_SHAPES = {"wte": (27, 16), "wpe": (16, 16), "lm_head": (27, 16),
                  "layer0.attn_wq": (16, 16), "layer0.attn_wk": (16, 16),
                  "layer0.attn_wv": (16, 16), "layer0.attn_wo": (16, 16),
                  "layer0.mlp_fc1": (64, 16), "layer0.mlp_fc2": (16, 64)}
expect_shapes("defaults", param_shapes(GPTConfig(vocab_size=27)), DEFAULT_SHAPES)

expect_shapes("2 layers", param_shapes(GPTConfig(vocab_size=5, n_embd=8, n_head=2, n_layer=2,
                                                 block_size=3)),
              {"wte": (5, 8), "wpe": (3, 8), "lm_head": (5, 8),
               "layer0.attn_wq": (8, 8), "layer0.attn_wk": (8, 8), "layer0.attn_wv": (8, 8),
               "layer0.attn_wo": (8, 8), "layer0.mlp_fc1": (32, 8), "layer0.mlp_fc2": (8, 32),
               "layer1.attn_wq": (8, 8), "layer1.attn_wk": (8, 8), "layer1.attn_wv": (8, 8),
               "layer1.attn_wo": (8, 8), "layer1.mlp_fc1": (32, 8), "layer1.mlp_fc2": (8, 32)})

# one layer again, after two: a dict kept from the call before would still hold layer1's names
again = param_shapes(GPTConfig(vocab_size=27))
expect_equal("param_shapes(GPTConfig(vocab_size=27)) after the 2-layer call: names, in order "
             "(keep no state between calls: build a new dict in each call)",
             list(again) if isinstance(again, dict) else again, list(DEFAULT_SHAPES))

### BEGIN HIDDEN TESTS
from autograder.checks import check_param_shapes
check_param_shapes(param_shapes)
### END HIDDEN TESTS

# %% [markdown]
# ### Where the parameters live
#
# With `param_shapes` working we can tabulate the model by component. The table below is computed from *your*
# function, so it doubles as a check of the worked example.

# %% claims={"model's 4,192": "total", "token embedding 432": "list(counts.values()) == [432, 256, 1024, 2048, 432]"}
def count_by_component(config):
    """Parameters per component: embeddings, attention, MLP (all layers together), output head."""
    counts = {"wte (token embedding)": 0, "wpe (position embedding)": 0,
              "attention (wq, wk, wv, wo)": 0, "MLP (fc1, fc2)": 0, "lm_head (output)": 0}
    for name, (rows, cols) in param_shapes(config).items():
        if name == "wte":
            counts["wte (token embedding)"] += rows * cols
        elif name == "wpe":
            counts["wpe (position embedding)"] += rows * cols
        elif name == "lm_head":
            counts["lm_head (output)"] += rows * cols
        elif ".attn_" in name:
            counts["attention (wq, wk, wv, wo)"] += rows * cols
        else:
            counts["MLP (fc1, fc2)"] += rows * cols
    return counts


counts = count_by_component(config)
total = sum(counts.values())
print(f"{'component':<28}{'parameters':>12}{'share':>8}")
for component, count in counts.items():
    print(f"{component:<28}{count:>12,}{count / total:>8.1%}")
print(f"{'total':<28}{total:>12,}{1:>8.0%}")

fig, ax = plt.subplots(figsize=(7, 3))
names = list(counts)
colors = ["#4c72b0", "#4c72b0", "#dd8452", "#55a868", "#4c72b0"]
ax.barh(names, [counts[n] for n in names], color=colors)
for i, n in enumerate(names):
    ax.text(counts[n] + 20, i, f"{counts[n]:,}", va="center")
ax.invert_yaxis()
ax.set_xlim(0, 2500)
ax.set_xlabel("number of parameters")
ax.set_title(f"Where the {total:,} parameters of the default model live")
plt.tight_layout()
show("Horizontal bars of where the default model's 4,192 parameters are: token embedding 432, "
     "position embedding 256, attention 1,024, MLP 2,048, output head 432.")

# %% [markdown]
# ### How the count grows
#
# The formula $P = 2VC + TC + 12LC^2$ tells us how the model grows when we make it bigger:
#
# - more **layers** add $12C^2$ each: the count grows *linearly* in $L$;
# - a wider **embedding** grows the blocks *quadratically*: doubling $C$ roughly quadruples the $12LC^2$ term, while
#   the embeddings and the head only double.
#
# So for small $C$ the embedding tables are a sizeable share of the model, but as the width grows the transformer
# blocks take over. At real scale the blocks dominate: GPT-2 small ($C=768$, $L=12$) has about
# $12 \times 12 \times 768^2 \approx 85$<!-- claim: 12 * 12 * 768**2 / 1e6 ± 0.5 --> million parameters in its blocks, out of 124 million in all — most of the rest is its
# embedding table for 50,257 tokens (GPT-2 reuses that table as its output head, a trick called *weight tying*; we
# keep `lm_head` separate, like the original microgpt).

# %% claims={"doubling the layers roughly": "all(1.5 < table[c, 2 * l] / table[c, 1 * l] < 2 for c in widths for l in (1, 2))"}
widths, depths = [8, 16, 32, 64, 128], [1, 2, 4]
table = {}
for c in widths:
    for l in depths:
        shapes = param_shapes(GPTConfig(vocab_size=27, n_embd=c, n_layer=l))
        table[c, l] = sum(rows * cols for rows, cols in shapes.values())

print("parameters for vocab_size=27, block_size=16")
print(f"{'n_embd':>8}" + "".join(f"{'n_layer=' + str(l):>14}" for l in depths)
      + f"{'blocks share (L=1)':>20}")
for c in widths:
    blocks = 12 * c * c
    print(f"{c:>8}" + "".join(f"{table[c, l]:>14,}" for l in depths)
          + f"{blocks / table[c, 1]:>20.0%}")

fig, ax = plt.subplots(figsize=(6, 3.5))
for l in depths:
    ax.plot(widths, [table[c, l] for c in widths], marker="o", label=f"n_layer = {l}")
ax.set_xscale("log", base=2)
ax.set_yscale("log")
ax.set_xticks(widths, [str(c) for c in widths])
ax.set_xlabel("n_embd (C)")
ax.set_ylabel("parameters")
ax.set_title("Parameter count: linear in layers, quadratic in width")
ax.legend()
plt.tight_layout()
show("Parameter count against n_embd from 8 to 128 on log scales, one line for each of 1, 2 and 4 "
     "layers: every line rises with the square of the width, and doubling the layers roughly "
     "doubles the count.")


# %% [markdown]
# On the log–log plot, a quantity proportional to $C^2$ is a straight line of slope 2. The curves bend up towards that
# slope as $C$ grows: the $C^2$ term takes over from the $C$ terms of the embeddings.
#
# ## 3 · Filling the matrices: small random numbers
#
# Now we need actual numbers in the blanks. What should a parameter be *before* training?
#
# ### Why random: breaking the symmetry
#
# Suppose we set every weight to the same constant, say $0.5$. Then two rows of the same matrix — two "neurons" of
# the same layer — compute exactly the same output for every input. They also receive exactly the same gradient,
# because they are in exactly the same situation. After one training step they have changed by the same amount and
# are *still* identical — and so on forever. The layer behaves as if it had a single neuron, copied many times.
#
# Random initial values **break the symmetry**: each neuron starts slightly different, gets a different gradient,
# and is free to specialise. Let's watch it happen on a tiny network with two hidden neurons,
# $h_i = \mathrm{relu}(w_{i0}x_0 + w_{i1}x_1)$ and output $y = u_0 h_0 + u_1 h_1$:

# %%
def tiny_net(w, u, x):
    """Two hidden neurons h_i = relu(w[i] . x), then y = u[0] h[0] + u[1] h[1]."""
    h = [(row[0] * x[0] + row[1] * x[1]).relu() for row in w]
    return u[0] * h[0] + u[1] * h[1]


def show_gradients(label, w, u):
    x = [Value(1.0), Value(2.0)]
    tiny_net(w, u, x).backward()
    print(label)
    for i, row in enumerate(w):
        weights, gradients = [round(p.data, 4) for p in row], [round(p.grad, 4) for p in row]
        print(f"  neuron {i}: weights {weights}, gradients {gradients}")


show_gradients("constant init (every weight 0.5):",
               [[Value(0.5), Value(0.5)], [Value(0.5), Value(0.5)]], [Value(0.5), Value(0.5)])

rng = random.Random(2)
show_gradients("random init (Gaussian, std 0.5):",
               [[Value(rng.gauss(0, 0.5)) for _ in range(2)] for _ in range(2)],
               [Value(rng.gauss(0, 0.5)) for _ in range(2)])


# %% [markdown]
# With the constant start both neurons get the same gradient, so no amount of training can ever tell them apart.
# With the random start they get different gradients and will learn different things.
#
# ### Why small
#
# Random, yes — but how large? The model's final step is `lm_head` applied to a vector whose entries are around 1 in
# size (that is what `rmsnorm` arranges). Each logit is a sum of $C$ products $w_j x_j$; if the weights have standard
# deviation $\sigma$, the logits have a standard deviation of roughly $\sigma\sqrt{C}$.
#
# - With $\sigma = 0.08$ and $C = 16$ that is about $0.3$<!-- claim: 0.08 * math.sqrt(16) ± 0.05 -->: the logits are all close to each other, the softmax is
#   close to uniform, and the untrained model says "I don't know": no letter gets more than a few percent<!-- claim: untrained_head(0.08)[0] < 0.1 -->, against
#   $1/27 \approx 3.7\%$ for a perfectly even guess. Its loss starts near $\ln 27 \approx 3.30$<!-- claim: abs(untrained_head(0.08)[1] - math.log(27)) < 0.1 -->, the honest value for knowing nothing.
# - With $\sigma = 1$ the logits spread over several units, the softmax becomes sharp, and the untrained model is
#   *confidently wrong*: it puts most of its probability on arbitrary letters<!-- claim: untrained_head(1.0)[0] > 0.5 -->. The loss starts far higher<!-- claim: untrained_head(1.0)[1] > 2 * math.log(27) -->, and the
#   first training steps are spent undoing that false confidence.
#
# The simulation below measures exactly this: for random unit-size inputs, the average probability of the most likely
# token and the average cross-entropy of a random target.

# %%
def float_softmax(logits):
    m = max(logits)
    exps = [math.exp(z - m) for z in logits]
    return [e / sum(exps) for e in exps]


def untrained_head(std, trials=300, vocab=27, width=16, seed=1):
    """Average top probability and loss of a random V x C head applied to random rms-1 inputs."""
    rng = random.Random(seed)
    top, loss = 0.0, 0.0
    for _ in range(trials):
        w = [[rng.gauss(0, std) for _ in range(width)] for _ in range(vocab)]
        x = [rng.gauss(0, 1) for _ in range(width)]
        probs = float_softmax([sum(w_j * x_j for w_j, x_j in zip(row, x)) for row in w])
        top += max(probs) / trials
        loss += -math.log(probs[rng.randrange(vocab)]) / trials
    return top, loss


print(f"uniform guess: top probability {1 / 27:.3f}, loss ln 27 = {math.log(27):.3f}")
for std in (0.08, 0.3, 1.0):
    top, loss = untrained_head(std)
    print(f"std = {std:<4}: top probability {top:.3f}, loss {loss:.3f}")

# %% [markdown]
# The original microgpt draws every weight from a normal (Gaussian) distribution with mean 0 and standard deviation
# $\sigma = 0.08$:
#
# $$
# W_{ij} \sim \mathcal{N}(0,\ \sigma^2), \qquad \sigma = 0.08 .
# $$
#
# There is nothing magic about $0.08$ — it is simply small enough for the reasons above and works well for this model.
# (Larger models usually scale the standard deviation with the width, e.g. $1/\sqrt{C}$; the idea is the same.)
#
# ### Why the order of the draws matters
#
# A random number generator such as `random.Random(42)` produces a fixed, reproducible **stream** of numbers: create
# it again with the same seed and you get exactly the same stream. So if we draw the weights in exactly the same
# order as the original microgpt did, we get exactly the same model — and later in the course, after training, exactly
# the same loss curve and the same generated names, down to the last digit. Draw them in any other order and you get
# an equally good but *different* model, and nothing can be compared with the original run any more.
#
# The order is:
#
# 1. matrix by matrix, in the order of `param_shapes`;
# 2. within a matrix, row by row (row 0 first);
# 3. within a row, left to right;
#
# with one call `rng.gauss(0, std)` per weight. Two practical traps: use the generator you are given (`rng.gauss`, not
# the module-level `random.gauss`, which uses Python's global generator), and use `gauss` itself (other functions
# such as `normalvariate` produce a different stream from the same seed).
#
# **Worked example.** A tiny model with $V=2$, $C=2$, $T=2$, one head and one layer has 60<!-- claim: sum(r * c for r, c in param_shapes(tiny).values()) --> parameters. Drawing 60
# numbers from `random.Random(7)` and dealing them out in the order above gives its state dict:

# %%
tiny = GPTConfig(vocab_size=2, n_embd=2, n_head=1, n_layer=1, block_size=2)
rng = random.Random(7)
draws = [rng.gauss(0, 0.08) for _ in range(60)]
print("the first 8 draws:", [round(d, 4) for d in draws[:8]])
rounded = [round(d, 4) for d in draws]
print("so wte = [[draw 0, draw 1], [draw 2, draw 3]] =", [rounded[0:2], rounded[2:4]])
print("and wpe = [[draw 4, draw 5], [draw 6, draw 7]] =", [rounded[4:6], rounded[6:8]])

rng_again = random.Random(7)
print("a fresh Random(7) gives the same first draw:", round(rng_again.gauss(0, 0.08), 4))


# %% [markdown]
# ### Exercise 2: `init_params` (2 points)
#
# Write `init_params(config, rng, std=0.08)`. It returns the **state dict**: for every `name, (rows, cols)` in
# `param_shapes(config)` (use your function from exercise 1), a matrix of `rows` lists of `cols` fresh `Value`s, each
# holding one draw `rng.gauss(0, std)`, drawn in the order described above. A nested list comprehension does it in
# one line per matrix; in a comprehension `[[... for _ in range(cols)] for _ in range(rows)]` the inner loop runs
# fastest, which is exactly "row by row, left to right".
#
# Every weight must be its own `Value` object — a row like `[v] * cols` would make all entries one shared object, and
# training one would train them all.

# %% exercise=init_params
def init_params(config, rng, std=0.08):
    """Create the model's weights: a state dict of Gaussian random Value matrices.

    Inputs:
        config: a GPTConfig (it fixes the names and shapes, via param_shapes(config)).
        rng:    a random.Random instance, the only source of randomness.
        std:    the standard deviation of the Gaussian (default 0.08).

    Returns:
        a dict {name: matrix} with the same keys, in the same order, as param_shapes(config).
        Each matrix is a list of `rows` rows, each row a list of `cols` fresh, distinct Value
        objects (grad 0).

    Random draws: exactly one rng.gauss(0, std) per weight, matrix by matrix in param_shapes
    order, row by row, left to right within a row, and no other call on rng (it is left where
    those draws leave it); so the same seed always gives the same weights, and the random
    module is never used.

    Example:
        >>> state_dict = init_params(GPTConfig(vocab_size=27), random.Random(42))
        >>> len(state_dict["wte"]), len(state_dict["wte"][0])
        (27, 16)
        >>> state_dict["wte"][0][0].data      # the very first draw of random.Random(42)
        -0.011527226366234268
    """
    ### BEGIN SOLUTION
    return {
        name: [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(config).items()
    }
    ### END SOLUTION


# %% tests=init_params points=2
from course_tools import check_shape, expect_close, expect_equal, expect_value, standing_in

# These tests grade init_params alone. While they run, param_shapes is a stand-in that returns
# the shapes written out below, so a slip in your param_shapes costs exercise 1's points only.
DEFAULT_SHAPES = {"wte": (27, 16), "wpe": (16, 16), "lm_head": (27, 16),
                  "layer0.attn_wq": (16, 16), "layer0.attn_wk": (16, 16),
                  "layer0.attn_wv": (16, 16), "layer0.attn_wo": (16, 16),
                  "layer0.mlp_fc1": (64, 16), "layer0.mlp_fc2": (16, 64)}
TINY_SHAPES = {"wte": (2, 2), "wpe": (2, 2), "lm_head": (2, 2),
               "layer0.attn_wq": (2, 2), "layer0.attn_wk": (2, 2), "layer0.attn_wv": (2, 2),
               "layer0.attn_wo": (2, 2), "layer0.mlp_fc1": (8, 2), "layer0.mlp_fc2": (2, 8)}


def shapes_for_a_config(shapes):
    """A stand-in for param_shapes that returns shapes, and only for a GPTConfig, as yours needs."""
    def param_shapes(config):
        if not isinstance(config, GPTConfig):
            raise AssertionError(f"init_params called param_shapes({config!r}): pass it the config "
                                 f"itself, param_shapes(config)")
        return shapes
    return param_shapes


with standing_in(globals(), param_shapes=shapes_for_a_config(DEFAULT_SHAPES)):
    state_dict = init_params(GPTConfig(vocab_size=27), random.Random(42))
    # (None stays None, so that a missing return is reported as such)
    names = list(state_dict) if state_dict is not None else None
    expect_equal("names, in param_shapes order", names, list(DEFAULT_SHAPES))
    for name, (rows, cols) in DEFAULT_SHAPES.items():
        check_shape(name, state_dict[name], (rows, cols))
    # the same seed again gives the same weights, unless they come from the random module
    again = init_params(GPTConfig(vocab_size=27), random.Random(42))
    expect_close("init_params(GPTConfig(vocab_size=27), random.Random(42)) a second time: the same "
                 "weights (draw from rng, not from the random module)",
                 again["wte"][0][:4], state_dict["wte"][0][:4])
    expect_value("init_params(...)['wte'][0][0]: a fresh Value holding the first draw of "
                 "random.Random(42)",
                 state_dict["wte"][0][0], from_reference[init_params(GPTConfig(vocab_size=27), random.Random(42))["wte"][0][0].data],
                 children=[], local_grads=[])
    expect_close("wte[0][:4] with random.Random(42)", state_dict["wte"][0][:4],
                 from_reference[numbers(init_params(GPTConfig(vocab_size=27), random.Random(42))["wte"][0][:4])])
    expect_close("the last weight, layer0.mlp_fc2[15][63]", state_dict["layer0.mlp_fc2"][15][63],
                 from_reference[init_params(GPTConfig(vocab_size=27), random.Random(42))["layer0.mlp_fc2"][15][63].data])

with standing_in(globals(), param_shapes=shapes_for_a_config(TINY_SHAPES)):
    tiny = GPTConfig(vocab_size=2, n_embd=2, n_head=1, n_layer=1, block_size=2)
    rng = random.Random(7)
    tiny_state = init_params(tiny, rng, std=0.5)
    names = list(tiny_state) if tiny_state is not None else None
    expect_equal("tiny model: names, in param_shapes order", names, list(TINY_SHAPES))
    reference = random.Random(7)
    expect_close("init_params(tiny, random.Random(7), std=0.5): all 60 weights in draw order "
                 "(matrix, row, column)",
                 [p for name in TINY_SHAPES for row in tiny_state[name] for p in row],
                 [reference.gauss(0, 0.5) for _ in range(60)])
    # rng is left where its 60 draws leave it: the training run draws from it next
    expect_close("rng.random() after init_params(tiny, rng, std=0.5): no other call on rng than "
                 "the 60 draws", rng.random(), reference.random())

### BEGIN HIDDEN TESTS
from autograder.checks import check_init_params
check_init_params(init_params, Value)
### END HIDDEN TESTS

# %% [markdown]
# Let's look at the 4,192<!-- claim: len(params) --> numbers we just made. Their histogram should follow the bell curve of
# $\mathcal{N}(0, 0.08^2)$:

# %% claims={"histogram of the 4,192": "len(params)", "between about -0.3 and 0.3": "[round(f(p.data for p in params), 1) for f in (min, max)] == [-0.3, 0.3]"}
state_dict = init_params(GPTConfig(vocab_size=27), random.Random(42))
weights = [p.data for matrix in state_dict.values() for row in matrix for p in row]
mean = sum(weights) / len(weights)
std = (sum((w - mean) ** 2 for w in weights) / len(weights)) ** 0.5
print(f"{len(weights)} weights: mean {mean:+.4f}, standard deviation {std:.4f}, "
      f"smallest {min(weights):+.3f}, largest {max(weights):+.3f}")

fig, ax = plt.subplots(figsize=(6, 3))
ax.hist(weights, bins=50, density=True, color="#4c72b0", alpha=0.7,
        label="the 4,192 initial weights")
grid = [-0.32 + 0.64 * i / 200 for i in range(201)]
ax.plot(grid, [math.exp(-g * g / (2 * 0.08**2)) / (0.08 * math.sqrt(2 * math.pi)) for g in grid],
        color="black", label=r"density of $\mathcal{N}(0,\ 0.08^2)$")
ax.set_xlabel("weight")
ax.set_ylabel("density")
ax.legend(fontsize=8)
plt.tight_layout()
show("A histogram of the 4,192 initial weights, centred on 0 and between about -0.3 and 0.3, "
     "following the bell curve of the normal density with standard deviation 0.08 drawn over it.")


# %% [markdown]
# ## 4 · One flat list for the optimizer
#
# The state dict is organised for the *model*: the forward pass asks for `state_dict["layer0.attn_wq"]` by name. The
# *optimizer* (chapter 6) does not care about names or shapes at all. Its job is the same for every weight: read its
# gradient, update its `data`. It wants one flat list:
#
# $$
# \texttt{params} = [\,\underbrace{w^{\texttt{wte}}_{0,0}, w^{\texttt{wte}}_{0,1}, \dots}_{\text{all of wte, row by row}},\
# \underbrace{w^{\texttt{wpe}}_{0,0}, \dots}_{\text{all of wpe}},\ \dots,\
# \underbrace{\dots, w^{\texttt{mlp\_fc2}}_{C-1,\,4C-1}}_{\text{last layer's mlp\_fc2}}\,] .
# $$
#
# The crucial detail is that the list holds **the same `Value` objects** as the state dict, not copies. When the
# optimizer changes `params[i].data`, the model's matrix changes with it, because they are one and the same object.
# A copy such as `Value(p.data)` would be a new, disconnected node: the optimizer would update it and the model would
# never notice.
#
# **Worked example.** For the tiny model above, `parameters` gives 60<!-- claim: len(parameters(init_params(tiny, random.Random(7)))) --> `Value`s. The first four are `wte`'s two rows,
# the next four are `wpe`'s, and the last is the bottom-right corner of `layer0.mlp_fc2`. Since we draw the weights in
# the same order, `parameters(init_params(config, rng))` holds the draws in the order they were made.
#
# ### Exercise 3: `parameters` (1 point)
#
# Write `parameters(state_dict)`: every `Value` of every matrix, in the dict's order, row by row, left to right, in one
# flat list.

# %% exercise=parameters
def parameters(state_dict):
    """Every scalar weight of the state dict, as one flat list of the same Value objects.

    Input:
        state_dict: a dict {name: matrix}, each matrix a list of rows of Values
                    (as made by init_params).

    Returns:
        a list of Values: the matrices in the dict's order, each matrix row by row, each row left
        to right. The entries are the state dict's own objects (not copies), so changing p.data
        for p in the list changes the model. Its length is the total number of parameters. The
        list is new on every call; the state dict is left unchanged.

    Example:
        >>> state_dict = {"a": [[Value(1.0), Value(2.0)]], "b": [[Value(3.0)], [Value(4.0)]]}
        >>> [p.data for p in parameters(state_dict)]
        [1.0, 2.0, 3.0, 4.0]
    """
    ### BEGIN SOLUTION
    return [p for matrix in state_dict.values() for row in matrix for p in row]
    ### END SOLUTION


# %% tests=parameters points=1
from course_tools import expect_equal, unchanged

small = {"a": [[Value(1.0), Value(2.0)]], "b": [[Value(3.0)], [Value(4.0)]]}
weights = [small["a"][0][0], small["a"][0][1], small["b"][0][0], small["b"][1][0]]
with unchanged("state_dict", small):
    flat = parameters(small)
expect_equal("parameters(small)", flat, [1.0, 2.0, 3.0, 4.0])
expect_equal("own objects, not copies", [p is q for p, q in zip(flat, weights)], [True] * 4)
expect_equal("parameters(small) a second time (keep no state between calls)", parameters(small),
             [1.0, 2.0, 3.0, 4.0])

# a state dict of the tiny model's shapes whose weights are numbered 1, 2, 3, ... in reading order
numbers = iter(range(1, 61))
numbered = {name: [[Value(float(next(numbers))) for _ in range(cols)] for _ in range(rows)]
            for name, (rows, cols) in [("wte", (2, 2)), ("wpe", (2, 2)), ("lm_head", (2, 2)),
                                       ("layer0.attn_wq", (2, 2)), ("layer0.attn_wk", (2, 2)),
                                       ("layer0.attn_wv", (2, 2)), ("layer0.attn_wo", (2, 2)),
                                       ("layer0.mlp_fc1", (8, 2)), ("layer0.mlp_fc2", (2, 8))]}
expect_equal("a numbered state dict: matrix by matrix, row by row, left to right",
             parameters(numbered), [float(n) for n in range(1, 61)])

### BEGIN HIDDEN TESTS
from autograder.checks import check_parameters
check_parameters(parameters, Value)
### END HIDDEN TESTS

# %% [markdown]
# Putting the three pieces together, this is how the training script of the original microgpt starts its model: one
# seeded generator, the weights drawn from it, and the flat list for the optimizer.

# %%
rng = random.Random(42)
config = GPTConfig(vocab_size=27)
state_dict = init_params(config, rng)
params = parameters(state_dict)
print(f"vocabulary of {config.vocab_size} tokens, {len(params):,} parameters")
for name, matrix in state_dict.items():
    print(f"  {name:<16} {len(matrix):>3} x {len(matrix[0]):<3} first weights "
          f"{[round(p.data, 4) for p in matrix[0][:3]]}")

# %% [markdown]
# (In the full training run the generator first shuffles the list of names and only then draws the weights, so the
# weights of the real run are a later stretch of the same stream. That is one more reason the order of every draw is
# fixed.)
#
# ## Recap
#
# - **Parameters** are the numbers a network learns; the code around them is fixed. Each is a `Value` so that the
#   gradient of the loss reaches it.
# - The **state dict** maps names to matrices (lists of rows, `n_out x n_in`). Our GPT has `wte` ($V\times C$),
#   `wpe` ($T \times C$), `lm_head` ($V \times C$) and, per layer, `attn_wq`, `attn_wk`, `attn_wv`, `attn_wo`
#   ($C \times C$ each), `mlp_fc1` ($4C \times C$) and `mlp_fc2` ($C \times 4C$).
# - The count is $P = 2VC + TC + 12LC^2$: **4,192**<!-- claim: len(params) --> for the defaults with 27 tokens. It grows linearly with depth and
#   quadratically with width, and at scale the transformer blocks dominate.
# - Weights start as **small random** numbers, $\mathcal{N}(0, 0.08^2)$: random to break the symmetry between
#   neurons, small so that the untrained model starts out unsure instead of confidently wrong.
# - The weights are drawn in a **fixed order** (matrix by matrix, row by row, left to right), so a seed reproduces the
#   original run exactly.
# - `parameters` gives the optimizer the **same objects** in one flat list.
#
# ## What comes next
#
# We now have 4,192<!-- claim: len(params) --> numbers with names, but nothing that uses them. In **chapter 5** we put them to work: token and
# position embeddings, causal self-attention with queries, keys and values, multiple heads, the MLP and the residual
# stream — the complete GPT forward pass, which turns a token into 27 logits for the next one.
