# %% [markdown]
# # Chapter 5 · The GPT architecture: embeddings, attention and the transformer block
#
# This is the chapter where the pieces become a GPT. Chapter 3 gave us `linear`, `softmax` and `rmsnorm`; chapter 4
# gave us 4,192<!-- claim: sum(len(row) for matrix in state_dict.values() for row in matrix) --> named weights. Here we wire them together into the forward pass: a token goes in, 27 scores for the
# next token come out, and on the way the model looks back at everything it has read so far.
#
# **Goals.** By the end of this chapter you will be able to
#
# - explain how a GPT turns a token and its position into a vector (**embeddings**), and why it normalises that
#   vector right away;
# - explain **causal self-attention** — queries, keys, values, scaled dot products and a softmax — and say why the
#   scores are divided by $\sqrt{d}$;
# - explain why processing one position at a time with a **KV cache** makes the model causal with no extra effort;
# - split attention into several **heads** and put their results back together;
# - assemble the full **forward pass**: pre-norm attention block, MLP block, residual connections and the output head;
# - run a name through an untrained GPT, check its gradients, and look at what its attention heads do.
#
# **Time:** about 90 minutes.
#
# **Graded exercises: 10 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `attention_head(q, keys, values)` | one head of scaled dot-product attention | 3 |
# | `multi_head_attention(q, keys, values, n_head)` | split the channels into heads, attend in each, concatenate | 2 |
# | `gpt(token_id, pos_id, keys, values, state_dict, config)` | the complete forward pass for one position | 5 |

# %% [markdown] passage=how_to_work

# %% fetch

# %% [markdown]
# ## 0 · The pieces we start from
#
# First the tools: the standard library's `math` and `random`, matplotlib for the pictures, and the course's
# test helpers.

# %%
import math
import random

# course_tools first: in the browser, offline, it stands in for matplotlib (pictures skipped)
from course_tools import check_probabilities, check_shape, expect_close, gradient_check, show

import matplotlib.pyplot as plt

# %% [markdown]
# Here are the pieces from earlier chapters (the reference versions of what you wrote). `empty_kv_cache` is new; it
# is introduced in section 3.

# %% given="microgpt.autograd:Value microgpt.nn:linear,softmax,rmsnorm"

# %% given=microgpt.model:GPTConfig,param_shapes,init_params,parameters,empty_kv_cache

# %% [markdown]
# Finally the letters of chapter 2, a default model with the weights of chapter 4, and `vec`, a shorthand for
# writing a vector of `Value`s in the tests.

# %%
chars = "abcdefghijklmnopqrstuvwxyz"  # token ids 0..25 are the letters
BOS = 26                              # token id 26 marks the beginning (and the end) of a name


def encode(name):
    """[BOS, id of each letter, BOS], as in chapter 2."""
    return [BOS] + [chars.index(c) for c in name] + [BOS]


def token_str(token_id):
    return "BOS" if token_id == BOS else chars[token_id]


def vec(*numbers):
    """A vector of Values: vec(1, 2) is [Value(1.0), Value(2.0)]."""
    return [Value(float(n)) for n in numbers]


config = GPTConfig(vocab_size=27)
state_dict = init_params(config, random.Random(42))
print(config)
print("encode('emma') =", encode("emma"))

# %% [markdown]
# ## 1 · The big picture
#
# A GPT is a machine for one question: *given the tokens so far, what comes next?* Ours answers it one position at a
# time. The function you will write at the end of this chapter,
#
# ```
# logits = gpt(token_id, pos_id, keys, values, state_dict, config)
# ```
#
# takes the token at position `pos_id`, together with a memory of the earlier positions (`keys`, `values`), and
# returns 27 **logits** — one score for each token that could come next. A softmax turns them into probabilities.
#
# Inside, one vector of $C = 16$ numbers travels from the bottom to the top. People call it the **residual stream**:
#
# 1. **Embed**: look up the token's vector and the position's vector, add them, normalise.
# 2. For each layer:
#    - **Attention block**: look back at the earlier positions and *add* what is found to the stream.
#    - **MLP block**: think about it, position by position, and *add* the result to the stream.
# 3. **Read out**: multiply by `lm_head` to get the logits.
#
# Attention is the only place where positions talk to each other. Everything else works on one position's vector
# alone. We now build each stage.
#
# ## 2 · Embeddings: a token and its position become a vector
#
# The model cannot compute with the integer `4` (the letter `e`): it needs a vector whose numbers it can adjust. The
# **token embedding** `wte` has one learned row per token; the **position embedding** `wpe` has one learned row per
# position. The input vector is their sum, normalised:
#
# $$
# x \;=\; \mathrm{rmsnorm}\big(\,\texttt{wte}[\text{token}] + \texttt{wpe}[\text{pos}]\,\big) \in \mathbb{R}^{C}.
# $$
#
# **Why add the position?** Attention, as we will see, treats the earlier positions as an unordered collection: it
# compares vectors, and nothing in the comparison says which came first. Adding a position vector marks every token
# with *where* it is, so the model can learn things like "the letter right before me" or "I am the third letter".
# Adding (rather than, say, concatenating) keeps the width at $C$; the model can learn to keep the two kinds of
# information in different directions of the same space.
#
# **Why normalise right away?** The embedding rows start as tiny random numbers (rms about $0.08\sqrt{2} \approx 0.11$<!-- claim: 0.08 * math.sqrt(2) -->
# for the sum) and will grow or shrink during training. `rmsnorm` rescales the vector to a root mean square of 1, so
# the first block always receives an input of the same size, whatever the embeddings currently look like. (The
# original microgpt does this; it is a small detail of this model, not of every GPT.)
#
# **Worked example**: the letter `e` (id 4) at position 1.

# %%
tok_emb, pos_emb = state_dict["wte"][4], state_dict["wpe"][1]
summed = [t + p for t, p in zip(tok_emb, pos_emb)]
x = rmsnorm(summed)


def rms(vector):
    return math.sqrt(sum(v.data ** 2 for v in vector) / len(vector))


print("wte[4][:4]       =", [round(v.data, 4) for v in tok_emb[:4]])
print("wpe[1][:4]       =", [round(v.data, 4) for v in pos_emb[:4]])
print("sum[:4]          =", [round(v.data, 4) for v in summed[:4]], f" rms {rms(summed):.4f}")
print("rmsnorm(sum)[:4] =", [round(v.data, 4) for v in x[:4]], f" rms {rms(x):.4f}")


# %% [markdown]
# ## 3 · Self-attention: looking back at earlier positions
#
# ### The intuition
#
# To predict what follows `em` in `emma`, the model at position 2 (the `m`) needs information from earlier positions:
# there is an `e` before me, I am the second letter… Attention is how a position *gathers* information from the
# positions before it. Each position produces three vectors from its own residual-stream vector:
#
# - a **query** $q$: what am I looking for?
# - a **key** $k$: what do I offer? (what others compare their query against)
# - a **value** $v$: what do I hand over to whoever attends to me?
#
# The current position compares its query with the key of every position so far, including itself. A large dot
# product $q \cdot k_s$ means "position $s$ has what I am looking for". A softmax turns the scores into weights that are
# positive and sum to 1, and the output is the weighted average of the values. It is a *soft* dictionary look-up:
# instead of returning the one entry whose key matches, it returns a blend of all entries, weighted by how well each
# key matches.
#
# ### The math
#
# For the current position $t$, a query $q \in \mathbb{R}^d$, and keys $k_0, \dots, k_t$ and values
# $v_0, \dots, v_t$ (one per position so far, each in $\mathbb{R}^d$):
#
# $$
# \text{score}_s = \frac{q \cdot k_s}{\sqrt{d}} = \frac{1}{\sqrt{d}}\sum_{j=0}^{d-1} q_j\, k_{s,j},
# \qquad
# w = \mathrm{softmax}(\text{score}_0, \dots, \text{score}_t),
# \qquad
# \text{out}_j = \sum_{s=0}^{t} w_s\, v_{s,j} .
# $$
#
# The output has the same width $d$ as the values.
#
# ### Why divide by $\sqrt{d}$?
#
# A dot product is a sum of $d$ products. If the entries of $q$ and $k$ are independent with mean 0 and variance 1, each
# product has variance 1 and the sum has variance $d$: its typical size grows like $\sqrt{d}$. Large scores make the
# softmax *saturate* — nearly all the weight lands on the single largest score, the output is almost a hard choice,
# and the gradients with respect to all the other scores become tiny, so the model struggles to learn where to look.
# Dividing by $\sqrt{d}$ brings the scores back to variance 1 whatever the head width. The simulation below draws random
# queries and 8 random keys for several widths:

# %%
def float_softmax(scores):
    m = max(scores)
    exps = [math.exp(s - m) for s in scores]
    return [e / sum(exps) for e in exps]


rng = random.Random(0)
print(f"{'d':>5}{'std of q.k':>14}{'std of q.k/sqrt(d)':>20}"
      f"{'top weight, raw':>18}{'top weight, scaled':>20}")
for d in (4, 16, 64, 256):
    raw, top_raw, top_scaled = [], 0.0, 0.0
    trials = 200
    for _ in range(trials):
        q = [rng.gauss(0, 1) for _ in range(d)]
        scores = [sum(q_j * rng.gauss(0, 1) for q_j in q) for _ in range(8)]
        raw.extend(scores)
        top_raw += max(float_softmax(scores)) / trials
        top_scaled += max(float_softmax([s / math.sqrt(d) for s in scores])) / trials
    std = math.sqrt(sum(s * s for s in raw) / len(raw))
    print(f"{d:>5}{std:>14.2f}{std / math.sqrt(d):>20.2f}{top_raw:>18.2f}{top_scaled:>20.2f}")

# %% [markdown]
# Without the scaling, the wider the head, the closer the softmax comes to putting all its weight on one key. With
# it, the behaviour is the same at every width.
#
# ### Worked example
#
# A head of width $d = 2$ at position $t = 2$, so three keys and three values:

# %%
q_ex = [1.0, 0.5]
keys_ex = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
values_ex = [[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]]

scores_ex = [sum(q_j * k_j for q_j, k_j in zip(q_ex, k)) / math.sqrt(2) for k in keys_ex]
weights_ex = float_softmax(scores_ex)
out_ex = [sum(w * v[j] for w, v in zip(weights_ex, values_ex)) for j in range(2)]
print("scores  q.k/sqrt(2) =", [round(s, 4) for s in scores_ex])
print("weights softmax     =", [round(w, 4) for w in weights_ex], " sum", round(sum(weights_ex), 4))
print("output  sum w_s v_s =", [round(o, 4) for o in out_ex])


# %% [markdown]
# The third key, $[1, 1]$, agrees best with the query, so the third value gets the largest weight<!-- claim: max(weights_ex) == weights_ex[2] --> and pulls the output
# towards $[3, 3]$.
#
# ### Exercise 1: `attention_head` (3 points)
#
# Write `attention_head(q, keys, values)`: compute the scores $q \cdot k_s / \sqrt{d}$ for every key (with $d$ =
# `len(q)`), turn them into weights with the given `softmax`, and return the weighted sum of the values, one number per
# value channel. Everything is a `Value`, so gradients will flow through it.
#
# To compute exactly like the reference (so your numbers match to the last digit), compute each score as
# `sum(q_j * k_j for ...) / scale` with `scale = len(q) ** 0.5`, and each output channel $j$ as
# `sum(w_t * v_t[j] for ...)` over the positions.

# %% exercise=attention_head
def attention_head(q, keys, values):
    """One head of causal self-attention for the current position.

    Inputs:
        q:      the current position's query, a list of d Values.
        keys:   a list of T keys (T >= 1: every position so far, the current one included),
                each a list of d Values.
        values: a list of T values, each a list of d Values (values[s] belongs with keys[s]).

    Returns:
        a list of d Values, out_j = sum_s w_s * values[s][j], where
        w = softmax([q . keys[s] / sqrt(d) for s in range(T)]) and d = len(q).
        q, keys and values are left unchanged.

    Example (d = 4, two positions; q . k = 2 and 0, so the scores are 2/sqrt(4) = 1 and 0):
        >>> out = attention_head([Value(2.0), Value(0.0), Value(0.0), Value(0.0)],
        ...                      [[Value(1.0), Value(0.0), Value(0.0), Value(0.0)],
        ...                       [Value(0.0), Value(0.0), Value(0.0), Value(0.0)]],
        ...                      [[Value(1.0), Value(0.0), Value(0.0), Value(0.0)],
        ...                       [Value(0.0), Value(1.0), Value(0.0), Value(0.0)]])
        >>> [round(o.data, 4) for o in out]      # weights e/(e+1) and 1/(e+1)
        [0.7311, 0.2689, 0.0, 0.0]
    """
    ### BEGIN SOLUTION
    scale = len(q) ** 0.5
    weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / scale for k in keys])
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]
    ### END SOLUTION


# %% tests=attention_head points=3
from course_tools import check_shape, expect_close, expect_value, explain_errors, gradient_check
from course_tools import unchanged

q, keys, values = vec(0.5, -1.0), [vec(2.0, 1.0)], [vec(3.0, -4.0)]
with unchanged("values", values), unchanged("keys", keys), unchanged("q", q):
    out = attention_head(q, keys, values)
check_shape("out", out, (2,))
expect_value("out[0], one position", out[0], 3.0)  # a Value, so that gradients flow through it
expect_close("one position: its value", out, [3.0, -4.0])
expect_close("equal keys: mean of values",
             attention_head(vec(1.0, 2.0), [vec(0.5, 0.5), vec(0.5, 0.5)],
                            [vec(1.0, 0.0), vec(3.0, 4.0)]),
             [2.0, 2.0])
# the docstring example, where q . k = 2 becomes the score 2 / sqrt(4) = 1; 0.8808 instead of
# 0.7311 would mean the scores were not divided by sqrt(d)
expect_close("q.k/sqrt(d), d=4",
             attention_head(vec(2, 0, 0, 0), [vec(1, 0, 0, 0), vec(0, 0, 0, 0)],
                            [vec(1, 0, 0, 0), vec(0, 1, 0, 0)]),
             from_reference[numbers(softmax(vec(1, 0))) + [0.0, 0.0]])
q, keys, values = (vec(0.3, -1.2), [vec(1.0, 0.5), vec(-0.4, 0.8), vec(0.9, -1.1)],
                   [vec(0.2, -0.7), vec(1.5, 0.1), vec(-0.3, 0.6)])
expect_close("three positions, d=2", attention_head(q, keys, values),
             from_reference[numbers(attention_head(q, keys, values))])
# scores of 1800 / sqrt(2) and 0: exp(1272.8) is beyond any float, so a softmax must subtract the
# largest score before exp (the given one does)
with explain_errors("attention_head(vec(30, 30), [vec(30, 30), vec(-30, 30)], ...)",
                    OverflowError="exp overflowed on the scores 1272.8 and 0: use the given "
                                  "softmax, which subtracts the largest score before exp"):
    out = attention_head(vec(30, 30), [vec(30, 30), vec(-30, 30)], [vec(1, 0), vec(0, 1)])
expect_close("scores of 1272.8 and 0", out, [1.0, 0.0])

def head_output(xs):
    """q = xs[0:2], keys = xs[2:4], xs[4:6], values = xs[6:8], xs[8:10]; returns out_0 - 2 out_1."""
    out = attention_head(xs[0:2], [xs[2:4], xs[4:6]], [xs[6:8], xs[8:10]])
    return out[0] - 2 * out[1]


print("gradients of attention_head (backward vs. finite differences):")
gradient_check(head_output, [0.3, -1.2, 1.0, 0.5, -0.4, 0.8, 0.2, -0.7, 1.5, 0.1],
                               Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_attention_head
check_attention_head(attention_head, Value)
### END HIDDEN TESTS

# %% [markdown]
# ### Causality for free: one position at a time, with a KV cache
#
# A language model must never peek at the future: when it predicts the letter after `em`, the answer (`m`) must not
# be among its inputs, or training would teach it to copy rather than to predict. Attention is the only place where
# positions meet, so attention must be **causal**: position $t$ may attend to positions $0, \dots, t$ and never to
# $t+1, \dots$
#
# Our GPT gets this for free from the way it runs. It processes a name **one position at a time**, left to right.
# When it handles position $t$, it computes that position's key and value and *appends* them to a per-layer memory,
# the **KV cache**; then it attends over everything in the cache. At that moment the cache holds exactly the positions
# $0, \dots, t$ — the future has not been computed yet, so there is nothing to hide.
#
# `empty_kv_cache(config)` makes that memory: a list `keys` and a list `values`, each with one empty list per layer.
# Calling `gpt` at position $t$ appends one $C$-vector to `keys[l]` and one to `values[l]` for every layer $l$.

# %%
keys, values = empty_kv_cache(config)
print("an empty cache for", config.n_layer, "layer(s): keys =", keys, " values =", values)

# %% [markdown]
# Two remarks put this in context:
#
# - Large GPTs are *trained* on all positions of a sequence at once, with matrix multiplications over the whole
#   block. There, position $t$ could see the future, so they add a **causal mask**: the scores of positions $s > t$
#   are set to $-\infty$ before the softmax, which gives them weight exactly 0. The result is the same as ours; the
#   cache is the sequential way of getting it.
# - The cache also saves work. The key and value of position $s$ depend only on tokens $0, \dots, s$, so they never
#   change once computed: every later position reuses them instead of recomputing them. That is exactly how large
#   models generate text quickly, one token at a time.
#
# ## 4 · Multi-head attention
#
# One head computes one set of weights per position: it can look for *one* thing at a time. But a position usually
# wants several kinds of information at once — say, "what was the previous letter?" and "how far am I from the
# start?". **Multi-head attention** runs several heads side by side, each in its own slice of the channels.
#
# With $H$ heads, each head gets $d = C/H$ channels (`config.head_dim`: $16/4 = 4$<!-- claim: config.head_dim --> here). Head $h$ uses channels
# $hd, \dots, (h+1)d - 1$ of the query, of every key and of every value:
#
# $$
# \text{out} = \big[\ \text{head}_0 \ \big\|\ \text{head}_1 \ \big\|\ \cdots \ \big\|\ \text{head}_{H-1}\ \big],
# \qquad
# \text{head}_h = \text{attention\_head}\big(q^{(h)}, [k_s^{(h)}]_{s\le t}, [v_s^{(h)}]_{s\le t}\big),
# $$
#
# where $x^{(h)}$ is the $h$-th slice of $d$ channels and $\|$ means concatenation. The output has $C$ channels again.
# Each head has its own attention weights, so heads can attend to different positions; the output projection
# `attn_wo`, applied next, mixes the heads' findings together. Splitting costs nothing: $H$ heads of width $C/H$ do
# the same amount of arithmetic as one head of width $C$.
#
# **Worked example.** $C = 4$ and $H = 2$, so $d = 2$: head 0 works on channels 0–1, head 1 on channels 2–3.

# %%
q_ex = [0.3, -1.2, 0.8, 0.6]
keys_ex = [[1.0, 0.5, -0.2, 0.4], [-0.4, 0.8, 0.6, -1.0]]
head_weights = []  # each head's attention weights over the two positions
for h in range(2):
    s = slice(2 * h, 2 * h + 2)
    print(f"head {h}: q slice {q_ex[s]}, key slices {[k[s] for k in keys_ex]}")
    scores = [sum(a * b for a, b in zip(q_ex[s], k[s])) / math.sqrt(2) for k in keys_ex]
    head_weights.append(float_softmax(scores))
    print(f"        weights {[round(w, 4) for w in head_weights[h]]}")


# %% [markdown]
# The two heads weight the same two positions differently: head 0 clearly prefers position 0 (weight
# 0.63<!-- claim: head_weights[0][0] -->), while head 1 splits its attention almost evenly (0.54<!-- claim: head_weights[1][0] --> and
# 0.46<!-- claim: head_weights[1][1] -->).
#
# ### Exercise 2: `multi_head_attention` (2 points)
#
# Write `multi_head_attention(q, keys, values, n_head)`. For each head $h$ in order, take the slice
# `h * head_dim : (h + 1) * head_dim` of the query, of every key and of every value, call *your* `attention_head` on
# the slices, and append its outputs to the result. Python's `slice(start, stop)` object, or plain `q[start:stop]`,
# helps.

# %% exercise=multi_head_attention
def multi_head_attention(q, keys, values, n_head):
    """Multi-head attention: split the channels into n_head heads, attend in each, concatenate.

    Inputs:
        q:      the current position's query, a list of C Values.
        keys:   a list of T keys, each a list of C Values (every position so far, current included).
        values: a list of T values, each a list of C Values.
        n_head: the number of heads H; C is divisible by H and head_dim = C // H.

    Returns:
        a list of C Values: attention_head(q[s], [k[s] for k in keys], [v[s] for v in values])
        for s = slice(0, d), slice(d, 2d), ..., slice((H-1)d, Hd), concatenated in that order.
        q, keys and values are left unchanged.

    Example (C = 4, n_head = 1: a single head over all four channels):
        >>> q = [Value(x) for x in (0.3, -1.2, 0.8, 0.6)]
        >>> keys = [[Value(x) for x in (1.0, 0.5, -0.2, 0.4)],
        ...         [Value(x) for x in (-0.4, 0.8, 0.6, -1.0)]]
        >>> values = [[Value(x) for x in (0.2, -0.7, 1.0, 0.3)],
        ...           [Value(x) for x in (1.5, 0.1, -0.5, 0.9)]]
        >>> [round(o.data, 4) for o in multi_head_attention(q, keys, values, 1)]
        [0.6939, -0.3961, 0.4302, 0.5279]
        >>> [round(o.data, 4) for o in multi_head_attention(q, keys, values, 2)]
        [0.6752, -0.4076, 0.3029, 0.5788]
    """
    ### BEGIN SOLUTION
    head_dim = len(q) // n_head
    out = []
    for h in range(n_head):
        s = slice(h * head_dim, (h + 1) * head_dim)
        out.extend(attention_head(q[s], [k[s] for k in keys], [v[s] for v in values]))
    return out
    ### END SOLUTION


# %% tests=multi_head_attention points=2
from course_tools import (check_shape, expect_close, expect_value, gradient_check, standing_in,
                          unchanged)


# These tests grade multi_head_attention alone. While they run, attention_head is this stand-in,
# built from the given softmax, so a slip in your attention_head costs exercise 1's points only.
def attention_head_for_these_tests(q, keys, values):
    if not q:
        raise AssertionError("attention_head was given an empty slice of q: each head has\n"
                             "head_dim = len(q) // n_head channels")
    weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / len(q) ** 0.5 for k in keys])
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]


q = vec(0.3, -1.2, 0.8, 0.6)
keys = [vec(1.0, 0.5, -0.2, 0.4), vec(-0.4, 0.8, 0.6, -1.0)]
values = [vec(0.2, -0.7, 1.0, 0.3), vec(1.5, 0.1, -0.5, 0.9)]
with standing_in(globals(), attention_head=attention_head_for_these_tests):
    with unchanged("values", values), unchanged("keys", keys), unchanged("q", q):
        out = multi_head_attention(q, keys, values, 2)
    # 4 Values, so that gradients flow through them
    check_shape("out for 2 heads", out, (4,))
    for first in out[:1]:
        expect_value("out[0] for 2 heads", first,
                     from_reference[multi_head_attention(q, keys, values, 2)[0].data])
    expect_close("1 head of 4 channels", multi_head_attention(q, keys, values, 1),
                 from_reference[numbers(multi_head_attention(q, keys, values, 1))])
    expect_close("2 heads of 2 channels", multi_head_attention(q, keys, values, 2),
                 from_reference[numbers(multi_head_attention(q, keys, values, 2))])
    expect_close("4 heads of 1 channel", multi_head_attention(q, keys, values, 4),
                 from_reference[numbers(multi_head_attention(q, keys, values, 4))])
    other_keys = [vec(1.0, 0.5, 9.0, -3.0), vec(-0.4, 0.8, -2.0, 5.0)]
    # heads are independent: new keys in channels 2-3 (head 1's) leave head 0's output as it was
    expect_close("head 1's keys changed",
                 multi_head_attention(q, other_keys, values, 2),
                 from_reference[numbers(multi_head_attention(q, other_keys, values, 2))])


def heads_output(xs):
    """q = xs[0:4], keys = xs[4:8], xs[8:12], values = xs[12:16], xs[16:20], 2 heads; returns
    out_0 - 2 out_3, one output of each head."""
    out = multi_head_attention(xs[0:4], [xs[4:8], xs[8:12]], [xs[12:16], xs[16:20]], 2)
    return out[0] - 2 * out[3]


print("gradients of multi_head_attention (backward vs. finite differences):")
with standing_in(globals(), attention_head=attention_head_for_these_tests):
    gradient_check(heads_output, [0.3, -1.2, 0.8, 0.6, 1.0, 0.5, -0.2, 0.4, -0.4, 0.8, 0.6, -1.0,
                                  0.2, -0.7, 1.0, 0.3, 1.5, 0.1, -0.5, 0.9], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_multi_head_attention
check_multi_head_attention(multi_head_attention, Value)
### END HIDDEN TESTS

# %% [markdown]
# ## 5 · The transformer block
#
# A layer (a *transformer block*) is two sub-blocks, each of which reads the residual stream, computes something, and
# **adds** its result back.
#
# ### The attention block
#
# $$
# \hat{x} = \mathrm{rmsnorm}(x), \qquad q = W_q\,\hat{x}, \quad k_t = W_k\,\hat{x}, \quad v_t = W_v\,\hat{x},
# $$
#
# $$
# x \;\leftarrow\; x + W_o\ \mathrm{MHA}\big(q,\ [k_0, \dots, k_t],\ [v_0, \dots, v_t]\big).
# $$
#
# In code: normalise, three `linear` calls with `attn_wq`, `attn_wk`, `attn_wv`; append $k_t$ and $v_t$ to this layer's
# cache; multi-head attention over the cache; `linear` with `attn_wo`; add the block's input back.
#
# ### The MLP block
#
# $$
# x \;\leftarrow\; x + W_2\ \mathrm{relu}\big(W_1\ \mathrm{rmsnorm}(x)\big), \qquad
# W_1 = \texttt{mlp\_fc1}\ (4C \times C), \quad W_2 = \texttt{mlp\_fc2}\ (C \times 4C).
# $$
#
# Attention *moves* information between positions; the MLP *processes* it, at each position separately. It widens the
# vector to $4C = 64$<!-- claim: len(state_dict["layer0.mlp_fc1"]) --> channels, applies the nonlinearity $\mathrm{relu}(z) = \max(0, z)$, and projects back to $C$. The
# nonlinearity is essential: without it, $W_2 W_1$ would be a single matrix, and stacking linear maps never gives more
# than a linear map. The wider middle layer gives the MLP room for many "feature detectors", each of which can switch
# on or off (that is what the relu does) for particular patterns in the stream.
#
# ### Why residual connections?
#
# Each block computes $x + f(x)$ rather than replacing $x$ by $f(x)$. Two good things follow:
#
# - **Gradients flow.** The derivative of $x + f(x)$ with respect to $x$ is $1 + f'(x)$: there is always a direct path
#   (the "1") by which the gradient reaches the embeddings unchanged, however many blocks are stacked.
# - **Blocks refine rather than rebuild.** A block only has to learn a *correction* to the stream. With small
#   initial weights, $f(x)$ is small and each block starts close to doing nothing, which is a safe place to start.
#
# ### Why normalise *before* each sub-block ("pre-norm")?
#
# The stream $x$ is a running sum, so its size drifts as blocks add to it. Each sub-block normalises *its own input*
# (`rmsnorm(x)`) so that its matrices always see vectors of the same scale, while the stream itself is left untouched —
# which keeps the residual path clean. This arrangement is used by GPT-2 and most GPTs since.
#
# ### The output head
#
# After the last layer, one more `linear` turns the $C$-vector into $V$ logits:
# $\text{logits} = W_{\text{lm}}\, x$ with $W_{\text{lm}} = \texttt{lm\_head}$ ($V \times C$). Row $i$ of `lm_head` is
# compared with the stream by a dot product: the better they agree, the more likely token $i$ comes next.
#
# ### Exercise 3: `gpt` (5 points)
#
# Write the forward pass for one position. The docstring spells out every step in order. Three things to watch:
#
# - call **your** `multi_head_attention` (by that name) inside the attention block;
# - use layer $l$'s weights, named `f"layer{l}.attn_wq"` and so on, and layer $l$'s cache, `keys[l]` and `values[l]`;
# - *append* the new key and value to the cache **before** attending, so the current position attends to itself too.
#
# You may write helper functions (say, `attention_block` and `mlp_block`) in this cell if you like; the reference has
# them. To match the reference's numbers exactly, add the residual as `[o + r for o, r in zip(out, x)]` and apply
# `relu` to each entry of the first MLP layer's output.

# %% exercise=gpt
def gpt(token_id, pos_id, keys, values, state_dict, config):
    """The GPT forward pass for one position: the logits of the token that comes next.

    Inputs:
        token_id:   the token at this position, an int in [0, vocab_size).
        pos_id:     this position, an int in [0, block_size) (0 for the first token).
        keys, values: the KV cache from empty_kv_cache(config): keys[l] and values[l] hold one
                    C-vector (list of C Values) per earlier position of this sequence, for layer l.
                    This call appends this position's key and value to keys[l] and values[l]
                    for every layer l (so each grows by exactly one).
        state_dict: the weights, as made by init_params(config, rng); left unchanged.
        config:     the GPTConfig (n_layer and n_head are read from it).

    Returns:
        a list of vocab_size Values: the logits (unnormalised scores) of every possible next token.

    Steps (linear(x, W) is W x; "+" between two vectors is elementwise; W_name = state_dict[name]):
        x = rmsnorm(W_wte[token_id] + W_wpe[pos_id])
        for each layer l = 0, ..., n_layer - 1, with p = f"layer{l}.":
            attention block:
                x_norm = rmsnorm(x)
                q = linear(x_norm, W_{p}attn_wq)
                append linear(x_norm, W_{p}attn_wk) to keys[l]
                append linear(x_norm, W_{p}attn_wv) to values[l]
                x = linear(multi_head_attention(q, keys[l], values[l], n_head), W_{p}attn_wo) + x
            MLP block:
                hidden = [h.relu() for h in linear(rmsnorm(x), W_{p}mlp_fc1)]      # 4C values
                x = linear(hidden, W_{p}mlp_fc2) + x
        return linear(x, W_lm_head)

    Example:
        >>> config = GPTConfig(vocab_size=27)
        >>> state_dict = init_params(config, random.Random(42))
        >>> keys, values = empty_kv_cache(config)
        >>> logits = gpt(26, 0, keys, values, state_dict, config)      # BOS at position 0
        >>> len(logits), round(logits[0].data, 4), len(keys[0]), len(values[0])
        (27, 0.4487, 1, 1)
    """
    ### BEGIN SOLUTION
    tok_emb, pos_emb = state_dict["wte"][token_id], state_dict["wpe"][pos_id]
    x = rmsnorm([t + p for t, p in zip(tok_emb, pos_emb)])
    for layer in range(config.n_layer):
        prefix = f"layer{layer}."
        # attention block: pre-norm, q/k/v, attend over the cache, output projection, residual
        x_norm = rmsnorm(x)
        q = linear(x_norm, state_dict[prefix + "attn_wq"])
        keys[layer].append(linear(x_norm, state_dict[prefix + "attn_wk"]))
        values[layer].append(linear(x_norm, state_dict[prefix + "attn_wv"]))
        out = linear(multi_head_attention(q, keys[layer], values[layer], config.n_head),
                     state_dict[prefix + "attn_wo"])
        x = [o + r for o, r in zip(out, x)]
        # MLP block: pre-norm, expand to 4C, relu, project back to C, residual
        hidden = [h.relu() for h in linear(rmsnorm(x), state_dict[prefix + "mlp_fc1"])]
        out = linear(hidden, state_dict[prefix + "mlp_fc2"])
        x = [o + r for o, r in zip(out, x)]
    return linear(x, state_dict["lm_head"])
    ### END SOLUTION


# %% tests=gpt points=5
from course_tools import (check_shape, expect_close, expect_value, explain_errors, gradient_check,
                          standing_in, unchanged)


# These tests grade gpt alone. While they run, attention_head and multi_head_attention are these
# stand-ins, built from the given softmax, so a slip in exercise 1 or 2 costs only its own points.
def attention_head_for_these_tests(q, keys, values):
    weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) / len(q) ** 0.5 for k in keys])
    return [sum(w_t * v_t[j] for w_t, v_t in zip(weights, values)) for j in range(len(values[0]))]


def multi_head_attention_for_these_tests(q, keys, values, n_head):
    if not keys:
        raise AssertionError("attention over an empty cache: append this position's key and\n"
                             "value to keys[layer] and values[layer] before attending")
    d = len(q) // n_head
    out = []
    for s in (slice(h * d, (h + 1) * d) for h in range(n_head)):
        out += attention_head_for_these_tests(q[s], [k[s] for k in keys], [v[s] for v in values])
    return out


# A 2-layer model whose logits are its residual stream x: vocab_size = n_embd and lm_head is the
# identity. With every layer's attn_wo (the attention block's last matrix) or mlp_fc2 (the MLP
# block's) zero, that block adds 0 to x, so the logits show x after each stage in turn.
probe = GPTConfig(vocab_size=8, n_embd=8, n_head=2, n_layer=2, block_size=4)
probe_state = init_params(probe, random.Random(7), std=0.5)
probe_state["lm_head"] = [[Value(float(i == j)) for j in range(8)] for i in range(8)]


def with_zero(names, weights=probe_state):
    """A copy of weights with the matrices names (e.g. "attn_wo") set to 0 in every layer."""
    weights = dict(weights)
    for layer in range(probe.n_layer):
        for name in names:
            weights[f"layer{layer}.{name}"] = [[Value(0.0) for _ in row]
                                               for row in weights[f"layer{layer}.{name}"]]
    return weights


def stream_at_position_0(weights):
    """gpt's logits, here the stream x at the top, for token 3 at position 0 of the probe model."""
    keys, values = empty_kv_cache(probe)
    return gpt(3, 0, keys, values, weights, probe)


def stream_at_position_1(weights):
    """The same for token 3 at position 1, after token 5 at position 0."""
    keys, values = empty_kv_cache(probe)
    gpt(5, 0, keys, values, weights, probe)
    return gpt(3, 1, keys, values, weights, probe)


# Both blocks adding 0, and an embedding wte[3] + wpe[0] already of rms 1 (so its norm changes it by
# 5e-6 only): x must come out as it went in. All 0 means a block replaced x instead of adding to it.
residuals_only = with_zero(["attn_wo", "mlp_fc2"])
residuals_only["wte"] = (probe_state["wte"][:3] + [vec(1, -1, 1, -1, 1, -1, 1, -1)]
                         + probe_state["wte"][4:])
residuals_only["wpe"] = [vec(0, 0, 0, 0, 0, 0, 0, 0)] + probe_state["wpe"][1:]

with standing_in(globals(), attention_head=attention_head_for_these_tests,
                 multi_head_attention=multi_head_attention_for_these_tests):
    config = GPTConfig(vocab_size=27)
    state_dict = init_params(config, random.Random(42))
    keys, values = empty_kv_cache(config)
    swapped = ("expected a row of each table: wte has one per token (vocab_size = 27), wpe one "
               "per position (block_size = 16): look up wte[token_id] and wpe[pos_id], not the "
               "other way round")
    with unchanged("state_dict", state_dict), explain_errors(
            "gpt(BOS, 0, keys, values, state_dict, config)", IndexError=swapped):
        logits = gpt(BOS, 0, keys, values, state_dict, config)
    check_shape("logits", logits, (27,))
    # one key and one value of 16 channels cached per layer and position
    check_shape("keys", keys, (1, 1, 16))
    check_shape("values", values, (1, 1, 16))

    # the probes have 2 layers: a weight read from elsewhere than the state_dict given fails here
    weights_given = ("a weight the 2-layer model's state_dict has not, or looked up in another: "
                     "read every weight from the state_dict and config gpt is given, not from "
                     "the notebook's globals")
    with explain_errors("gpt(3, 0, keys, values, weights, probe)", KeyError=weights_given):
        expect_close("blocks adding 0 keep x", stream_at_position_0(residuals_only),
                     from_reference[numbers(rmsnorm(vec(1, -1)))] * 4, rel_tol=1e-4)
        # x, of rms 1 here, reaches lm_head as it is; a norm after the last block (this model has
        # none) would change it by 5e-6 only here, so it shows in x after attention instead
        blocks_off = with_zero(["attn_wo", "mlp_fc2"])
        expect_close("embedded x, normed", stream_at_position_0(blocks_off),
                     from_reference[numbers(stream_at_position_0(blocks_off))], rel_tol=1e-4)
        expect_close("x after attention, through an MLP adding 0 (if your attention block is "
                     "right: the MLP adds to x, not to its norm; lm_head reads x as it is)",
                     stream_at_position_0(with_zero(["mlp_fc2"])),
                     from_reference[numbers(stream_at_position_0(with_zero(["mlp_fc2"])))])
        # at position 1 attention mixes two positions, so the heads show: 2 heads of head_dim 4
        expect_close("x after attention at position 1 (n_head = 2 heads of head_dim = 4 channels: "
                     "multi_head_attention takes config.n_head)",
                     stream_at_position_1(with_zero(["mlp_fc2"])),
                     from_reference[numbers(stream_at_position_1(with_zero(["mlp_fc2"])))])
        expect_close("x after the MLP", stream_at_position_0(probe_state),
                     from_reference[numbers(stream_at_position_0(probe_state))])

    # a Value: gradients flow through it
    expect_value("logits[0]", logits[0],
                 from_reference[gpt(26, 0, *empty_kv_cache(config), state_dict, config)[0].data])
    expect_close("logits for BOS at position 0", logits,
                 from_reference[numbers(gpt(26, 0, keys, values, state_dict, config))])

    logits = gpt(chars.index("e"), 1, keys, values, state_dict, config)
    check_shape("keys", keys, (1, 2, 16))
    check_shape("values", values, (1, 2, 16))
    # 'e' at position 1 attends to BOS and to itself
    expect_close("logits for 'e' at position 1", logits,
                 from_reference[numbers(gpt(4, 1, keys, values, state_dict, config))])

    two_layers = GPTConfig(vocab_size=5, n_embd=8, n_head=2, n_layer=2, block_size=4)
    small_state = init_params(two_layers, random.Random(3))
    keys2, values2 = empty_kv_cache(two_layers)
    for pos, token in enumerate([4, 0, 1]):
        with explain_errors(f"gpt({token}, {pos}, keys2, values2, small_state, two_layers)",
                            KeyError=weights_given):
            small_logits = gpt(token, pos, keys2, values2, small_state, two_layers)
    # 2 layers, 3 positions
    check_shape("keys", keys2, (2, 3, 8))
    check_shape("values", values2, (2, 3, 8))
    expect_close("2 layers, position 2", small_logits,
                 from_reference[numbers([gpt(token, pos, keys2, values2, small_state, two_layers)
                                         for pos, token in enumerate([4, 0, 1])][-1])])

    tiny = GPTConfig(vocab_size=3, n_embd=4, n_head=2, n_layer=1, block_size=4)
    tiny_state = init_params(tiny, random.Random(5), std=0.5)

    def logits_at_position_1(row):
        """logits[0] - 2 logits[2] for the tokens [2, 1] at position 1, with wte[1] = row: a path
        from the bottom of the model (the embedding) to its top."""
        weights = dict(tiny_state, wte=[tiny_state["wte"][0], row, tiny_state["wte"][2]])
        keys, values = empty_kv_cache(tiny)
        gpt(2, 0, keys, values, weights, tiny)
        logits = gpt(1, 1, keys, values, weights, tiny)
        return logits[0] - 2 * logits[2]

    print("gradients of the logits with respect to wte[1] (backward vs. finite differences):")
    gradient_check(logits_at_position_1, [p.data for p in tiny_state["wte"][1]], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_gpt
check_gpt(gpt, Value)
### END HIDDEN TESTS

# %% [markdown]
# ## 6 · The whole forward pass on a name
#
# Let's run the name `emma` through the untrained model, exactly as training and generation will: a fresh cache, then
# one call per position. At each position we turn the logits into probabilities and look at what the model predicts
# and at the probability it gives to the letter that really comes next.

# %%
config = GPTConfig(vocab_size=27)
state_dict = init_params(config, random.Random(42))
tokens = encode("emma")
keys, values = empty_kv_cache(config)

print(f"{'pos':>3}  {'input':<6}{'next':<6}{'p(next)':>9}   top 3 predictions")
losses = []
for pos in range(len(tokens) - 1):
    logits = gpt(tokens[pos], pos, keys, values, state_dict, config)
    probs = softmax(logits)
    target = tokens[pos + 1]
    top = sorted(range(len(probs)), key=lambda i: -probs[i].data)[:3]
    losses.append(-math.log(probs[target].data))
    print(f"{pos:>3}  {token_str(tokens[pos]):<6}{token_str(target):<6}"
          f"{probs[target].data:>9.4f}   "
          + ", ".join(f"{token_str(i)} {probs[i].data:.3f}" for i in top))

check_probabilities(probs)
print(f"\naverage loss -log p(next) = {sum(losses) / len(losses):.4f}; "
      f"a uniform guess would give ln 27 = {math.log(27):.4f}")


# %% [markdown]
# As chapter 4 predicted, the untrained model is almost clueless: every probability is near $1/27 \approx 0.037$<!-- claim: all(0.5 / 27 < p.data < 2 / 27 for p in probs) --> and
# the loss is close to $\ln 27$<!-- claim: abs(sum(losses) / len(losses) - math.log(27)) < 0.1 -->. That is the right starting point — training will sharpen these distributions.
#
# ### Causality, checked
#
# If attention really never sees the future, the logits at a position cannot depend on any later token. `anna` and
# `anne` share their first four tokens (`BOS a n n`), so the logits at positions 0–3 must be identical, and only position
# 4, which reads the differing letter, may differ<!-- claim: anna[:4] == anne[:4] and anna[4] != anne[4] -->:

# %%
def all_logits(name):
    keys, values = empty_kv_cache(config)
    tokens = encode(name)
    return [[z.data for z in gpt(token, pos, keys, values, state_dict, config)]
            for pos, token in enumerate(tokens[:-1])]


anna, anne = all_logits("anna"), all_logits("anne")
for pos in range(5):
    largest = max(abs(a - b) for a, b in zip(anna[pos], anne[pos]))
    print(f"position {pos}: largest difference between the logits of 'anna' and 'anne' = "
          f"{largest:.3g}")

# %% [markdown]
# ### Gradients through the whole model
#
# Training will call `backward()` on a loss computed by `gpt`, so the gradients must be right. We check them on a tiny
# model ($V = 3$, $C = 4$, 2 heads): the inputs are the embedding of token 1 and the first row of `attn_wq`, the output
# is the loss of a three-token sequence. Token 1 sits at position 1, and position 2 attends to it, so these gradients
# flow through the embeddings, the attention weights, the MLP and the head.

# %%
tiny = GPTConfig(vocab_size=3, n_embd=4, n_head=2, n_layer=1, block_size=4)
tiny_state = init_params(tiny, random.Random(5), std=0.5)


def tiny_loss(inputs):
    """Loss of the sequence [2, 1, 0, 2] with wte[1] = inputs[0:4] and attn_wq[0] = inputs[4:8]."""
    weights = dict(tiny_state, wte=[tiny_state["wte"][0], inputs[0:4], tiny_state["wte"][2]])
    weights["layer0.attn_wq"] = [inputs[4:8]] + tiny_state["layer0.attn_wq"][1:]
    keys, values = empty_kv_cache(tiny)
    tokens = [2, 1, 0, 2]
    total = 0
    for pos in range(3):
        probs = softmax(gpt(tokens[pos], pos, keys, values, weights, tiny))
        total = total - probs[tokens[pos + 1]].log()
    return total


start = [p.data for p in tiny_state["wte"][1]] + [p.data for p in tiny_state["layer0.attn_wq"][0]]
gradient_check(tiny_loss, start, Value)


# %% [markdown]
# ## 7 · What do the attention heads look at?
#
# Finally, a picture. For the name `isabella` we collect the attention weights of every head of layer 0 at every
# position: row $t$ of each heat map shows how position $t$ spreads its attention over positions $0, \dots, t$. We
# recompute the queries of layer 0 from the embeddings (layer 0's input is just the embedded token) and take the keys
# from the cache that `gpt` fills.

# %%
def layer0_attention(name, state_dict, config):
    """maps[h][t][s]: head h's attention weight from position t to position s (nan for s > t)."""
    tokens = [BOS] + [chars.index(c) for c in name]
    d = config.head_dim
    keys, values = empty_kv_cache(config)
    maps = [[] for _ in range(config.n_head)]
    for t, token in enumerate(tokens):
        gpt(token, t, keys, values, state_dict, config)  # appends k_t and v_t to the caches
        x = rmsnorm([a + b for a, b in zip(state_dict["wte"][token], state_dict["wpe"][t])])
        q = linear(rmsnorm(x), state_dict["layer0.attn_wq"])  # the query layer 0 used at position t
        for h in range(config.n_head):
            s = slice(h * d, (h + 1) * d)
            scores = [sum(q_j.data * k_j.data for q_j, k_j in zip(q[s], k[s])) / math.sqrt(d)
                      for k in keys[0]]
            maps[h].append(float_softmax(scores) + [float("nan")] * (len(tokens) - 1 - t))
    return tokens, maps


tokens, maps = layer0_attention("isabella", state_dict, config)
labels = [token_str(t) for t in tokens]
cmap = plt.get_cmap("viridis").copy()
cmap.set_bad("white")
fig, axes = plt.subplots(2, 2, figsize=(9, 8.5))
for h, ax in enumerate(axes.flat):
    image = ax.imshow(maps[h], cmap=cmap, vmin=0, vmax=1)
    ax.set_title(f"head {h}")
    ax.set_xticks(range(len(labels)), labels, fontsize=8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    if h >= 2:
        ax.set_xlabel("attends to position")
    if h % 2 == 0:
        ax.set_ylabel("current position")
fig.colorbar(image, ax=axes, shrink=0.6, label="attention weight")
fig.suptitle("Layer-0 attention of the untrained model on 'isabella'")
show("Four heat maps, one per attention head, of the untrained model's layer-0 attention on "
     "'isabella': each position attends only to itself and the positions before it, with weights "
     "spread almost evenly.")

print("row 3 ('a' at position 3) of head 0:", [round(w, 3) for w in maps[0][3][:4]])

# %% [markdown]
# Two things stand out:
#
# - **The causal triangle.** Everything above the diagonal is blank: a position never attends to a later one. Nobody
#   wrote a mask; the KV cache simply did not hold those positions yet.
# - **Untrained heads just average.** The queries and keys are still random and small, so the scores are all close to
#   0 and the softmax spreads the weight almost evenly: row $t$ is close to $1/(t+1)$ everywhere<!-- claim: all(abs(w - 1 / (t + 1)) < 0.1 for head in maps for t, row in enumerate(head) for w in row[:t + 1]) -->. Position 0 can only
#   attend to itself (weight 1<!-- claim: all(head[0][0] == 1 for head in maps) -->), position 1 splits about half and half<!-- claim: all(abs(head[1][0] - 0.5) < 0.1 for head in maps) -->, and so on — hence the fading colour down each
#   column. After training, heads learn sharper, distinct patterns, such as attending mostly to the previous letter.
#
# ## Recap
#
# - **Embeddings**: $x = \mathrm{rmsnorm}(\texttt{wte}[\text{token}] + \texttt{wpe}[\text{pos}])$ — what the token is and
#   where it is, in one normalised $C$-vector.
# - **Attention**: a query is compared with every key so far by $q \cdot k / \sqrt{d}$; a softmax turns the scores into
#   weights; the output is the weighted average of the values. The $\sqrt{d}$ keeps the softmax from saturating as
#   heads get wider.
# - **KV cache**: processing one position at a time and appending each key and value to a cache makes attention
#   causal automatically and avoids recomputing the past.
# - **Multi-head attention**: $H$ heads on slices of $C/H$ channels, concatenated; each head can look somewhere else.
# - **Transformer block**: pre-norm attention block and MLP block ($4C$ hidden units, relu), each *adding* its result
#   to the residual stream; then `lm_head` turns the stream into logits.
# - The untrained model predicts almost uniformly (loss near $\ln 27$), its gradients check out, and its attention is
#   a plain causal average.
#
# ## What comes next
#
# We now have a complete GPT that produces 27 logits at every position — but with random weights its predictions are
# no better than guessing. Next comes learning: a loss that measures how surprised the model is by the real next
# letter, `backward()` through the whole forward pass you just wrote, and the Adam optimizer that nudges all 4,192<!-- claim: sum(len(row) for matrix in state_dict.values() for row in matrix) -->
# weights to make the real names more likely.
