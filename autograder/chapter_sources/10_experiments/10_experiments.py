# %% [markdown]
# # Chapter 10 · Experiments: scoring names, and changing the model
#
# You have built every piece of a GPT and looked inside a trained one. This last chapter is about measuring and
# changing. First you write two alternatives to pieces the model uses, **LayerNorm** for RMSNorm and **GeLU** for
# ReLU. Then you give the model a way to score any name, and use it to tell real names from invented ones and from
# random letters, and to check whether the model just copies the names it trained on. Last, short experiments
# compare LayerNorm and GeLU with the originals, together with a change of the model's width.
#
# **Goals.** By the end of this chapter you will be able to
#
# - compute the **log-likelihood** of a name under the model, and explain why it is compared per token;
# - measure **memorisation**: how many generated names are copies of training names;
# - implement **LayerNorm** and **GeLU** as operations on `Value`s, with their gradients;
# - run a controlled experiment: change one thing, keep the seed and everything else fixed, compare loss curves.
#
# **Time:** about 90 minutes (plus the full-length experiments, if you run them: each trains a model for 1,000 steps, as chapter 7 did).
#
# **Graded exercises: 6 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `layernorm(x, eps=1e-5)` | centre a vector, then scale it to a standard deviation of about 1 | 2 |
# | `gelu(x)` | the smooth ReLU of GPT-2, one `Value` with its local gradient | 2 |
# | `log_likelihood(doc, state_dict, config, chars)` | the log-probability the model gives a whole name | 2 |

# %% [markdown] passage=how_to_work

# %% fetch

# %%
import math
import random

# course_tools first: in the browser, offline, it stands in for matplotlib (pictures skipped)
from course_tools import expect_close, expect_equal, expect_value, gradient_check, show
from course_tools import explain_errors, unchanged

import matplotlib.pyplot as plt


# %% [markdown]
# ## 0 · The building blocks, given
#
# `Value` and the building blocks of chapter 3 are given, and so is `relu` as a function of one `Value` (it just
# calls the `relu` method of chapter 1), so that it and your `gelu` can be swapped for each other.

# %% given="microgpt.autograd:Value microgpt.nn:linear,softmax,rmsnorm,relu"

# %% [markdown]
# ## 1 · LayerNorm
#
# **Intuition.** RMSNorm (chapter 3) rescales a vector so that its root mean square is 1; it does not move it.
# **LayerNorm**, the normalisation of the original transformer and of GPT-2, first *centres* the vector (subtracts
# its mean), then rescales it so that its standard deviation is 1. After LayerNorm every vector has mean 0 and
# spread 1, whatever it was before; after RMSNorm it keeps its mean direction. RMSNorm is cheaper and works as well
# in practice, which is why newer models (and microgpt) use it. Does it matter for our model? Section 5 measures it.
#
# **Math.** For a vector $x$ of $n$ numbers,
#
# $$\mu = \frac1n \sum_j x_j, \qquad \sigma^2 = \frac1n \sum_j (x_j - \mu)^2, \qquad
#   y_i = \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}} .$$
#
# The variance divides by $n$ (not $n - 1$), and is computed from the centred values: the shortcut
# $\overline{x^2} - \mu^2$ loses all its digits when the $x_j$ are large and close together. A constant vector has
# $\sigma = 0$ and comes out as all zeros, thanks to $\varepsilon$. Note that LayerNorm *is* RMSNorm applied to the
# centred vector. As in chapter 3 there is no learned gain or bias.
#
# **Worked example.** $x = (1, 2, 3)$: $\mu = 2$, centred $(-1, 0, 1)$, $\sigma^2 = 2/3$, so
# $y \approx (-1.22474, 0, 1.22474)$<!-- claim: [round(y.data, 5) for y in layernorm([Value(1.0), Value(2.0), Value(3.0)])] == [-1.22474, 0, 1.22474] -->.
#
# ### Exercise 1: `layernorm` (2 points)

# %% exercise=layernorm
def layernorm(x, eps=1e-5):
    """y_i = (x_i - mu) / sqrt(sigma^2 + eps), mu = mean_j x_j, sigma^2 = mean_j (x_j - mu)^2.

    Args:
        x: a list of n Values (n >= 1).
        eps: a small positive number, added to the variance.

    Returns:
        A list of n new Values, built with Value operations so that gradients reach every x_i;
        x is not changed. The variance divides by n and uses the centred values. A constant x
        gives all zeros.
    """
    ### BEGIN SOLUTION
    mean = sum(x) / len(x)
    return rmsnorm([x_i - mean for x_i in x], eps)
    ### END SOLUTION


# %% tests=layernorm points=2
def to_vector(numbers):
    return [Value(float(n)) for n in numbers]


x = to_vector([0.3, -0.1, 0.2])
with unchanged("x", x):  # a change in place is named before the values it spoils
    got = layernorm(x, eps=0.5)
# eps = 0.5 first: eps outside the square root, or a fixed 1e-5, shows here in the first digit
expect_close("layernorm(x, eps=0.5)", got, from_reference[numbers(layernorm(x, eps=0.5), 7)])
for numbers, expected in [([1, 2, 3], from_reference[numbers(layernorm(to_vector([1, 2, 3])), 8)]),
                          ([3, 3, 3], [0.0, 0.0, 0.0]),
                          ([1e6 + 1, 1e6 + 2, 1e6 + 3],
                           from_reference[numbers(layernorm(to_vector([1, 2, 3])), 8)])]:
    expect_close(f"layernorm({numbers})", layernorm(to_vector(numbers)), expected)
print("gradient check of the first output of layernorm at (0.5, -1.0, 2.0, 0.1):")
gradient_check(lambda v: layernorm(v)[0], [0.5, -1.0, 2.0, 0.1], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_layernorm
check_layernorm(layernorm, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# ## 2 · GeLU
#
# **Intuition.** ReLU is $\max(0, x)$: it passes positive inputs, blocks negative ones, and has a kink at 0 where
# its slope jumps from 0 to 1. **GeLU** (Gaussian error linear unit), the activation of GPT-2 and BERT, is a smooth
# version: it multiplies $x$ by the probability $\Phi(x)$ that a standard normal variable is below $x$. Large
# positive inputs pass almost unchanged, large negative ones are blocked, and in between the curve bends smoothly,
# even dipping slightly below 0 around $x \approx -0.75$<!-- claim: min((i / 1000 for i in range(-3000, 0)), key=lambda x: gelu(Value(x)).data) ± 0.01 -->. A smooth activation has a gradient everywhere, so a unit
# that happens to receive negative inputs still learns a little (a ReLU unit in that state gets no gradient at
# all: it is "dead").
#
# **Math.** GPT-2 uses a fast approximation with $\tanh$ (it differs from $x\,\Phi(x)$ by less than 0.001<!-- claim: max(abs(gelu(Value(x)).data - x * (1 + math.erf(x / math.sqrt(2))) / 2) for x in (i / 100 for i in range(-600, 601))) < 0.001 -->):
#
# $$\mathrm{gelu}(x) = \tfrac{x}{2}\,\big(1 + \tanh u\big), \qquad u = \sqrt{2/\pi}\,\big(x + 0.044715\,x^3\big).$$
#
# Its derivative, by the product and chain rules with $\tanh'(u) = 1 - \tanh^2 u$:
#
# $$\frac{d\,\mathrm{gelu}}{dx} = \tfrac12\big(1 + \tanh u\big) + \tfrac{x}{2}\,\big(1 - \tanh^2 u\big)\,
#   \sqrt{2/\pi}\,\big(1 + 3 \cdot 0.044715\,x^2\big).$$
#
# As in chapter 1, we make GeLU **one node**: compute the output and its local gradient from `x.data` with
# `math.tanh` (which never overflows: it saturates at $\pm 1$), and return
# `Value(output, (x,), (local_gradient,))`. `backward` then does the rest.
#
# **Worked example.** $\mathrm{gelu}(1) \approx 0.841192$<!-- claim: gelu(Value(1.0)).data --> with slope $\approx 1.082964$<!-- claim: gelu(Value(1.0))._local_grads[0] -->; $\mathrm{gelu}(-1) \approx
# -0.158808$<!-- claim: gelu(Value(-1.0)).data --> with slope $\approx -0.082964$<!-- claim: gelu(Value(-1.0))._local_grads[0] -->; $\mathrm{gelu}(0) = 0$ with slope $0.5$<!-- claim: gelu(Value(0.0))._local_grads[0] -->.
#
# ### Exercise 2: `gelu` (2 points)

# %% exercise=gelu
def gelu(x):
    """GeLU of one Value in GPT-2's tanh approximation, as one new node.

    gelu(x) = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
    d gelu/dx = (1 + tanh(u))/2 + x/2 (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)

    Args:
        x: a Value (its data any float; use math.tanh, which saturates instead of overflowing).

    Returns:
        Value(gelu(x.data), (x,), (d gelu/dx at x.data,)); x is not changed.
    """
    ### BEGIN SOLUTION
    a = x.data
    scale = math.sqrt(2 / math.pi)
    t = math.tanh(scale * (a + 0.044715 * a**3))
    slope = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * scale * (1 + 3 * 0.044715 * a * a)
    return Value(0.5 * a * (1 + t), (x,), (slope,))
    ### END SOLUTION


# %% tests=gelu points=2
examples = from_reference[[(x, *numbers([gelu(Value(x)), gradient(gelu(v := Value(x)), v)], 8))
                           for x in (1.0, -1.0, 0.0, 3.0, -40.0, 30.0)]]
for number, output, slope in examples:
    x = Value(number)
    with explain_errors(f"gelu(Value({number}))", OverflowError="expected tanh(u) to level off "
                        "at +-1: compute it with math.tanh on x.data (exp(2u) overflows for large "
                        "|x|)"):
        got = gelu(x)
    expect_equal("x after gelu(x) (unchanged)", x, number)
    expect_value(f"gelu({number})", got, output, children=(x,), local_grads=(slope,))
print("gradient check of gelu(x) * gelu(y) + gelu(x * y) at x = 0.7, y = -1.3:")
gradient_check(lambda v: gelu(v[0]) * gelu(v[1]) + gelu(v[0] * v[1]), [0.7, -1.3], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_gelu
check_gelu(gelu, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# The two activations side by side, with their slopes (measured by central differences from your `gelu`):

# %% claims={"rising a little above 1": "1 < max(gelu(Value(x / 100))._local_grads[0] for x in range(-400, 400)) < 1.2"}
xs = [i / 20 for i in range(-80, 61)]
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
left.plot(xs, [relu(Value(x)).data for x in xs], label="ReLU")
left.plot(xs, [gelu(Value(x)).data for x in xs], label="GeLU")
left.set_title("activation")
h = 1e-4
for label, activation in (("ReLU", relu), ("GeLU", gelu)):
    slopes = [(activation(Value(x + h)).data - activation(Value(x - h)).data) / (2 * h) for x in xs]
    right.plot(xs, slopes, label=label)
right.set_title("slope")
for ax in (left, right):
    ax.axhline(0, color="gray", linewidth=0.5)
    ax.set_xlabel("x")
    ax.legend()
show("Left: ReLU and GeLU against x from -4 to 3. Right: their slopes; ReLU's jumps from 0 to 1 at"
     " 0, GeLU's changes smoothly, dipping below 0 for negative x and rising a little above 1.")

# %% [markdown]
# ## 3 · The model with a choice of norm and activation
#
# The model's configuration names its normalisation and its activation; `NORMS` and `ACTIVATIONS` map the names to
# the functions. Here they are your `layernorm` and `gelu` next to the given `rmsnorm` and `relu`. The defaults,
# `"rmsnorm"` and `"relu"`, are the original microgpt's, and the trained model of chapter 7 uses them.

# %%
# Given code: NORMS, ACTIVATIONS (with your layernorm and gelu). Run this cell; leave it as it is.
NORMS = {"rmsnorm": rmsnorm, "layernorm": layernorm}
ACTIVATIONS = {"relu": relu, "gelu": gelu}

# %% given=microgpt.model:GPTConfig,param_shapes,init_params,parameters,empty_kv_cache,attention_weights,attention_head,multi_head_attention,attention_block,mlp_block,gpt

# %% given="microgpt.tokenizer:bos_id,vocab_size,encode,decode microgpt.optim:learning_rate,adam_step"

# %% given="microgpt.train:next_token_probs,document_loss,train_step,train microgpt.sample:temperature_probs,sample_token,generate"

# %% given=microgpt.checkpoint:FORMAT,VERSION,SHAPE_FIELDS,ARCHITECTURE_FIELDS,CheckpointError,Checkpoint,load

# %%
trained = load("microgpt-names-1000.json")
state_dict, config, chars = trained.state_dict, trained.config, trained.chars
names = [line.strip() for line in open("names.txt", encoding="utf-8") if line.strip()]
shuffled = list(names)
random.Random(42).shuffle(shuffled)
training_names = set(shuffled[:1000])  # the names the trainer saw, one per step
print(config)
print(f"{len(names):,} names; the model trained on {len(training_names)} different ones")


# %% [markdown]
# ## 4 · How likely is a name?
#
# **Intuition.** The model assigns a probability to every possible next token, so it assigns a probability to a
# whole name too: the chance that, starting from BOS, it would produce exactly these letters and then BOS. That
# number is tiny and shrinks with every letter, so we work with its logarithm, the **log-likelihood**: a sum
# instead of a product, a moderate negative number instead of something like $10^{-9}$.
#
# **Math.** With tokens $t_0 = \text{BOS}, t_1, \dots, t_n, t_{n+1} = \text{BOS}$ for a name of $n$ letters, and the
# model's probabilities `next_token_probs(tokens, ...)` (given above; chapter 7's loss averages their surprise),
#
# $$\log p(\text{name}) = \sum_{t=0}^{m-1} \log p(t_{t+1} \mid t_0, \dots, t_t), \qquad m = \min(\text{block\_size},
#   n + 1),$$
#
# the natural log of the probability of each next token, summed over the $m$ predictions the model makes (the end of
# the name, BOS, counts too). It is the negative of the document loss times $m$: loss measures the average surprise,
# log-likelihood the total. To compare names of different lengths, divide by $m$: the **log-likelihood per token**.
#
# ### Exercise 3: `log_likelihood` (2 points)

# %% exercise=log_likelihood
def log_likelihood(doc, state_dict, config, chars):
    """The natural-log probability of doc under the model: sum_t log p(tokens[t+1] | tokens[..t]).

    Args:
        doc: a string whose characters are all in chars (possibly "").
        state_dict, config, chars: the model and its vocabulary.

    Returns:
        A float <= 0: with tokens = encode(doc, chars) and probs = next_token_probs(tokens,
        state_dict, config), the sum over t of math.log(probs[t][tokens[t + 1]].data), for
        the min(block_size, len(tokens) - 1) predictions probs holds. Runs no backward and
        changes nothing.
    """
    ### BEGIN SOLUTION
    tokens = encode(doc, chars)
    probs = next_token_probs(tokens, state_dict, config)
    return sum(math.log(p[target].data) for p, target in zip(probs, tokens[1:]))
    ### END SOLUTION


# %% tests=log_likelihood points=2
for doc, expected in [("emma", from_reference[numbers(log_likelihood("emma", *trained), 8)]),
                      ("", from_reference[numbers(log_likelihood("", *trained), 7)]),
                      ("xzq", from_reference[numbers(log_likelihood("xzq", *trained), 7)])]:
    with unchanged("state_dict", state_dict):  # scoring reads the model: no backward, no updates
        got = log_likelihood(doc, state_dict, config, chars)
    expect_close(f"log_likelihood({doc!r})", got, expected, rel_tol=1e-6)
expect_equal("log_likelihood's type", type(got).__name__, "float")
# the trained weights read through 4 positions: 4 of the 9 predictions of 'isabella' count
short = GPTConfig(vocab_size=config.vocab_size, block_size=4)
with explain_errors('log_likelihood("isabella", state_dict, short, chars)',
                    IndexError="expected 4 predictions scored (block_size 4): next_token_probs "
                               "gives min(block_size, len(tokens) - 1) lists: sum over those"):
    capped = log_likelihood("isabella", state_dict, short, chars)
expect_close("isabella, block_size 4", capped,
             from_reference[numbers(log_likelihood("isabella", trained[0], GPTConfig(vocab_size=27,
                                                                                      block_size=4),
                                                   trained[2]), 9)], rel_tol=1e-6)
# a vocabulary of 27 characters, whose BOS is bos_id(chars) = 27, not 26, and random weights
hyphenated = chars + ["-"]
wide = GPTConfig(vocab_size=vocab_size(hyphenated))
got = log_likelihood("ava", init_params(wide, random.Random(8)), wide, hyphenated)
expect_close("chars + ['-'], BOS 27", got,
             from_reference[numbers(log_likelihood("ava", init_params(GPTConfig(vocab_size=28),
                                                                      random.Random(8)),
                                                   GPTConfig(vocab_size=28), trained[2] + ["-"]), 10)],
             rel_tol=1e-6)

### BEGIN HIDDEN TESTS
from autograder.checks import check_log_likelihood
check_log_likelihood(log_likelihood, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# ### Real, invented and random
#
# Three kinds of names: 10 real names the model never trained on, 10<!-- claim: [len(docs) for docs in groups.values()] == [10, 10, 10] --> names the model generated (seed 7,
# temperature 0.5), and 10 random strings of the same lengths as the real ones. We score each by its
# log-likelihood per token.

# %%
def per_token(doc):
    return log_likelihood(doc, state_dict, config, chars) / min(config.block_size, len(doc) + 1)


real = [name for name in shuffled[1000:] if name not in training_names][:10]
rng = random.Random(7)
invented = [generate(state_dict, config, chars, rng, 0.5) for _ in range(10)]
letters = random.Random(7)
noise = ["".join(letters.choice(chars) for _ in name) for name in real]
groups = {"real (unseen)": real, "generated": invented, "random letters": noise}
scores = {group: [per_token(doc) for doc in docs] for group, docs in groups.items()}

fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
for row, (group, values) in enumerate(scores.items()):
    ax.scatter(values, [row] * len(values), alpha=0.7, s=40)
    ax.plot([sum(values) / len(values)] * 2, [row - 0.3, row + 0.3], color="black")
ax.set_yticks(range(len(scores)), list(scores))
ax.set_xlabel("log-likelihood per token (higher is more name-like); black bar: mean")
ax.set_title("How the trained model scores real, generated and random names")
show("Each name's log-likelihood per token under the trained model, in three rows: random letters "
     "score lowest, real unseen names higher, and generated names highest, with each row's mean "
     "marked.")
for group, docs in groups.items():
    ranked = sorted(zip(scores[group], docs), reverse=True)
    (best_score, best), (worst_score, worst) = ranked[0], ranked[-1]
    print(f"{group:>15}: best {best!r} ({best_score:.2f}), worst {worst!r} ({worst_score:.2f})")

# %% [markdown]
# The random strings score far lower than both real and generated names<!-- claim: max(scores["random letters"]) < min(scores["real (unseen)"] + scores["generated"]) -->: the model has learned what names look
# like. Generated names score *higher* than real ones, by 0.5<!-- claim: sum(scores["generated"]) / 10 - sum(scores["real (unseen)"]) / 10 ± 0.1 --> per token on average: sampling at temperature 0.5 favours the
# model's most likely letters, so its own names are its "safest" ones.
#
# ### Does the model copy its training names?
#
# A model that memorised its training data would generate those names back. We generate 25<!-- claim: len(sampled) --> names and count how many
# are among the 1,000 names it trained on, and how many are real names at all (among all 32,033<!-- claim: len(names) -->).

# %%
rng = random.Random(42)
sampled = [generate(state_dict, config, chars, rng, 0.5) for _ in range(25)]
copied = [name for name in sampled if name in training_names]
real_names = set(names)
existing = [name for name in sampled if name in real_names]
print(f"{len(copied)} of {len(sampled)} generated names are training names: {copied}")
print(f"{len(existing)} of {len(sampled)} are real names from the data set: {existing}")

# %% [markdown]
# About half<!-- claim: abs(len(existing) / len(sampled) - 0.5) < 0.1 --> of the generated names are real names: short, common names are exactly what following the likely
# letters produces. But hardly any<!-- claim: len(copied) <= 2 --> of them is one of the 1,000 names the model trained on, which is what copying
# would look like. With 4,192<!-- claim: sum(len(row) for matrix in state_dict.values() for row in matrix) --> parameters and one pass over 1,000 names, the model has learned the patterns of
# names, and real names are simply what those patterns most often spell.
#
# ## 5 · Experiments
#
# A fair comparison changes **one** thing and keeps everything else fixed: the same data in the same order, the
# same seed for the initial weights, the same number of steps and learning rate. Then differences in the loss come
# from the change alone. Our helper trains a fresh model that way and returns its losses.
#
# Each experiment here runs only `STEPS = 12` steps, so that the five<!-- claim: len(curves) + len(widths) - 1 == 5 --> training runs below stay
# short; after 12 steps the models are still learning the letter frequencies, and differences of a few
# hundredths<!-- claim: max(sum(l[-SMOOTH:]) / SMOOTH for l in curves.values()) - min(sum(l[-SMOOTH:]) / SMOOTH for l in curves.values()) < 0.05 --> are noise. For the real comparison set `STEPS = 1000` and `SMOOTH = 100` (each model then
# trains as long as chapter 7's full run at width 16) and run the cells again.

# %%
STEPS = 12
SMOOTH = 4  # steps averaged for the smoothed curves and the final figures


def run(norm="rmsnorm", activation="relu", n_embd=16, steps=STEPS):
    """The losses of a fresh model trained for steps on the shuffled names (seed 42 throughout)."""
    docs = list(names)
    rng = random.Random(42)
    rng.shuffle(docs)
    cfg = GPTConfig(vocab_size=vocab_size(chars), n_embd=n_embd, norm=norm, activation=activation)
    weights = init_params(cfg, rng)
    return train(docs, chars, weights, cfg, num_steps=steps)


def smoothed(losses, window=SMOOTH):
    return [sum(losses[max(0, i - window + 1): i + 1]) / len(losses[max(0, i - window + 1): i + 1])
            for i in range(len(losses))]


# one change at a time against the original: first the norm, then the activation
variants = [("rmsnorm", "relu"), ("layernorm", "relu"), ("rmsnorm", "gelu")]
curves = {f"{norm} + {activation}": run(norm, activation) for norm, activation in variants}
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
for label, losses in curves.items():
    ax.plot(range(1, STEPS + 1), smoothed(losses), label=label)
ax.set_xlabel("step")
ax.set_ylabel(f"training loss (mean of the last {SMOOTH} steps)")
ax.set_title(f"Norm and activation, {STEPS} steps each, same data and seed")
ax.legend()
show("Training loss over the steps for three models that differ only in norm and activation "
     "(rmsnorm + relu, layernorm + relu, rmsnorm + gelu), same data and seed.")
for label, losses in curves.items():
    print(f"{label:>18}: mean loss of the last {SMOOTH} steps {sum(losses[-SMOOTH:]) / SMOOTH:.3f}")

# %% [markdown]
# ### The width of the model
#
# Now one hyperparameter: the embedding width $C$ (`n_embd`), everything else the same. A wider model has more
# parameters (the count grows roughly with $C^2$) and costs more per step, but can hold more information. To keep
# the notebook quick we try narrower models than the original (4 and 8 against 16); add 24 or 32 to `widths` for
# wider ones (a step costs roughly in proportion to the parameter count: 14,528<!-- claim: sum(r * c for r, c in param_shapes(GPTConfig(vocab_size(chars), n_embd=32)).values()) --> at width 32 against 4,192<!-- claim: sum(r * c for r, c in param_shapes(GPTConfig(vocab_size(chars), n_embd=16)).values()) --> at 16).

# %%
widths = [4, 8, 16]
# width 16 is the rmsnorm + relu run above: the same model, trained the same way
width_curves = {width: curves["rmsnorm + relu"] if width == 16 else run(n_embd=width)
                for width in widths}
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
for width, losses in width_curves.items():
    shapes = param_shapes(GPTConfig(vocab_size(chars), n_embd=width)).values()
    count = sum(rows * cols for rows, cols in shapes)
    ax.plot(range(1, STEPS + 1), smoothed(losses), label=f"n_embd = {width} ({count:,} parameters)")
ax.set_xlabel("step")
ax.set_ylabel(f"training loss (mean of the last {SMOOTH} steps)")
ax.set_title(f"Embedding width, {STEPS} steps each")
ax.legend()
show("Training loss over the steps for three embedding widths (n_embd 4, 8 and 16), same data and "
     "seed, with each model's parameter count in the legend.")

# %% [markdown]
# ## What you have built
#
# - `layernorm` and `gelu`, the normalisation and activation of GPT-2, as `Value` operations with exact gradients;
# - `log_likelihood`, which scores any name and separates real names from noise;
# - a fair way to run experiments, and the habit of asking whether a difference is bigger than the noise.
#
# That is the whole of microgpt: an autograd engine, a tokenizer, a transformer, Adam, a training loop, sampling,
# and the tools to look inside. Everything a large language model does is this, at a vastly larger scale.
