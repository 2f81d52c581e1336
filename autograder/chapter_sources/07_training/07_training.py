# %% [markdown]
# # Chapter 7 · Training: from a loss to a model that knows how names are spelled
#
# Everything is in place. Chapter 5 built a GPT that turns the letters so far into 27 scores for the next one;
# chapter 6 built Adam, which turns gradients into a step. Training joins them: show the model a name, measure how
# surprised it is by each real next letter (the **loss**), backpropagate, take one Adam step, and repeat with the next
# name. After 1,000 names the model has gone from guessing uniformly to knowing, say, that after `emm` a vowel is
# likely and another `m` is not<!-- claim: (lambda model: (lambda p: sum(p[model.chars.index(c)].data for c in "aeiouy") > 0.5 and p[model.chars.index("m")].data < 0.05)(reference("train").next_token_probs(encode("emm", model.chars), model.state_dict, model.config)[3]))(reference("checkpoint").load(reference("data").default_names_path().with_name("microgpt-names-1000.json"))) -->.
#
# **Goals.** By the end of this chapter you will be able to
#
# - explain the **cross-entropy loss** as the model's average surprise, $-\log p$, at the letters that really come
#   next, and why an untrained model scores about $\ln 27 \approx 3.30$;
# - compute the loss of one document through a single KV cache, for at most `block_size` positions;
# - write one **training step**: forward, backward, Adam;
# - run the training loop with a progress bar and read a **loss curve**, raw and smoothed;
# - check that your training reproduces the course's recorded run exactly.
#
# **Time:** about 60 minutes.
#
# **Graded exercises: 5 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `document_loss(tokens, state_dict, config)` | the mean cross-entropy of one document's next-token predictions | 3 |
# | `train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr)` | forward, backward, one Adam step | 2 |

# %% [markdown] passage=how_to_work

# %% fetch

# %% [markdown]
# ## 0 · The pieces we start from
#
# Here are the reference versions of everything you built so far: `Value` (chapter 1), the tokenizer and the data
# reader (chapter 2), the building blocks (chapter 3), the model (chapters 4 and 5) and Adam (chapter 6). Read them as
# a summary of the course so far, or skip to the next section.

# %% given=microgpt.autograd:Value

# %% given="microgpt.data:DataError,read_docs microgpt.tokenizer:build_vocab,bos_id,vocab_size,encode,decode"

# %% given=microgpt.nn:linear,softmax,rmsnorm,relu

# %%
# Given code: NORMS, ACTIVATIONS. Run this cell; leave it as it is.
# the model's choices of normalisation and activation by name; chapter 10 adds LayerNorm and GeLU
NORMS = {"rmsnorm": rmsnorm}
ACTIVATIONS = {"relu": relu}

# %% given=microgpt.model:GPTConfig,param_shapes,init_params,parameters,empty_kv_cache

# %% given=microgpt.model:attention_weights,attention_head,multi_head_attention,attention_block,mlp_block,gpt

# %% given=microgpt.optim:learning_rate,adam_step

# %% [markdown]
# The data and the model are set up exactly as the course's trainer sets them up (`python -m microgpt train`, which
# made the trained model that chapter 8 will load): the 32,033<!-- claim: len(docs) --> names in an order shuffled with seed 42, the vocabulary
# of their 26<!-- claim: len(chars) --> letters plus BOS, and the weights drawn from the same random generator, right after the shuffle. The
# same seed and the same order of random draws give the same starting model, to the last bit.

# %%
import json
import math
import random
import time

# course_tools first: in the browser, offline, it stands in for matplotlib (pictures skipped)
from course_tools import check_probabilities, expect_close, expect_written, show

import matplotlib.pyplot as plt


def fresh_model(seed=42):
    """(docs, chars, config, state_dict) as the trainer makes them: shuffle, vocabulary, weights."""
    rng = random.Random(seed)
    docs = read_docs("names.txt")
    rng.shuffle(docs)
    chars = build_vocab(docs)
    config = GPTConfig(vocab_size=vocab_size(chars))
    return docs, chars, config, init_params(config, rng)


docs, chars, config, state_dict = fresh_model()
BOS = bos_id(chars)
print(f"{len(docs)} names, the first five in training order: {docs[:5]}")
print(f"vocabulary: {''.join(chars)} + BOS (id {BOS}); {len(parameters(state_dict))} parameters")
print(f"the longest name has {max(len(d) for d in docs)} letters; block_size = {config.block_size}")

# %% [markdown]
# ## 1 · The loss: how surprised is the model?
#
# Training needs one number that says how good the model is, so that `backward()` can tell every weight which way
# makes it better. For a language model the natural number is the **surprise** at what really comes next.
#
# Take the name `emma`, encoded as `BOS e m m a BOS`. Reading it left to right, the model makes five predictions: after
# `BOS` it gives a probability to every possible first letter, after `BOS e` to every possible second letter, and so
# on up to the final `BOS`, which means "the name ends here". At each position $t$ only one number matters: the
# probability $p_t(x_{t+1})$ it gave to the token $x_{t+1}$ that actually came next. The loss of that prediction is
#
# $$
# -\log p_t(x_{t+1}) .
# $$
#
# It is 0 when the model was certain and right ($p = 1$), it grows without bound as $p \to 0$, and a uniform guess
# over 27 tokens costs $-\log(1/27) = \ln 27 \approx 3.30$. The loss of the whole document is the mean over its
# predictions:
#
# $$
# L = \frac{1}{n} \sum_{t=0}^{n-1} -\log p_t(x_{t+1}), \qquad n = \min(B,\; T - 1),
# $$
#
# for a document of $T$ tokens and a model that sees at most $B$ = `block_size` positions. This is the
# **cross-entropy** between the real next token (probability 1 on it, 0 elsewhere) and the model's prediction.
# Taking the mean rather than the sum makes a short name and a long one weigh the same in training.
#
# Why $\log$? Because the probability of the whole name is the product of its predictions,
# $p(\text{emma}) = p_0(\text{e})\, p_1(\text{m}) \cdots p_4(\text{BOS})$, and the log turns that product into a sum:
# minimising the loss is maximising the probability of the training names. The log also gives big gradients to
# predictions that are confidently wrong, which is where learning matters most.
#
# **Why at most $B$ positions?** The position embedding `wpe` has one row per position, $B = 16$ of them, so the model
# cannot read a 17th position. Names have at most 15<!-- claim: max(len(d) for d in docs) --> letters, hence at most 16<!-- claim: max(len(d) for d in docs) + 1 --> predictions: for our data the limit
# never bites, but `document_loss` must respect it for any document.
#
# **Worked example.** The five predictions of the untrained model for `emma`, and their losses:

# %%
tokens = encode("emma", chars)
keys, values = empty_kv_cache(config)


def token_str(token):
    return "BOS" if token == BOS else chars[token]


print(f"{'t':>2}  {'reads':<6}{'next':<6}{'p_t(next)':>10}{'-log p':>9}")
surprises = []
for t in range(len(tokens) - 1):
    probs = softmax(gpt(tokens[t], t, keys, values, state_dict, config))
    p_next = probs[tokens[t + 1]].data
    surprises.append(-math.log(p_next))
    print(f"{t:>2}  {token_str(tokens[t]):<6}{token_str(tokens[t + 1]):<6}"
          f"{p_next:>10.4f}{surprises[-1]:>9.4f}")
check_probabilities(probs)
print(f"mean: {sum(surprises) / len(surprises):.4f}   (ln 27 = {math.log(27):.4f})")


# %% [markdown]
# ### Exercise 1: `document_loss` (3 points)
#
# Write `document_loss(tokens, state_dict, config)`, the mean loss above as a `Value`, so that `backward()` can reach
# every weight through it. Use **one** KV cache for the whole document (made once with `empty_kv_cache`), call `gpt`
# at positions $t = 0, 1, \dots, n-1$ in order, and turn each position's logits into probabilities with `softmax`.
# Build everything with `Value` operations (`.log()`, `-`, `+`, `*`): a loss computed on `.data` would be a plain
# number, with no gradient.
#
# To match the reference's numbers exactly, collect the $n$ losses `-p[target].log()` in a list and return
# `(1 / n) * sum(losses)`.

# %% exercise=document_loss
def document_loss(tokens, state_dict, config):
    """The mean cross-entropy of a document's next-token predictions, a Value.

    Inputs:
        tokens:     the document's token ids, a list of at least 2 ints, e.g. encode(name, chars).
        state_dict: the weights (as made by init_params), used as they are.
        config:     the GPTConfig; at most config.block_size positions are read.

    Returns:
        a Value, (1/n) * sum over t < n of -log p_t[tokens[t + 1]], where n = min(block_size,
        len(tokens) - 1) and p_t = softmax(gpt(tokens[t], t, keys, values, state_dict, config)),
        with one KV cache (keys, values) = empty_kv_cache(config) shared by all positions.
        Its graph reaches every weight the forward pass used; no backward is run, and tokens
        and state_dict are left unchanged.

    Example (an untrained model, but not the worked example's, which the trainer draws after
    shuffling: these weights come straight from random.Random(42), with no shuffle drawn first;
    both are about as surprised as a uniform guess, ln 27 = 3.2958):
        >>> config = GPTConfig(vocab_size=27)
        >>> state_dict = init_params(config, random.Random(42))
        >>> round(document_loss([26, 4, 12, 12, 0, 26], state_dict, config).data, 4)
        3.2252
    """
    ### BEGIN SOLUTION
    keys, values = empty_kv_cache(config)
    n = min(config.block_size, len(tokens) - 1)
    losses = []
    for t in range(n):
        probs = softmax(gpt(tokens[t], t, keys, values, state_dict, config))
        losses.append(-probs[tokens[t + 1]].log())
    return (1 / n) * sum(losses)
    ### END SOLUTION


# %% tests=document_loss points=3
from course_tools import expect_equal, expect_value, gradient_check, standing_in, unchanged

small = GPTConfig(vocab_size=27, block_size=4)
small_state = init_params(small, random.Random(1))
given_gpt = gpt
gpt_calls = {"tokens": [], "positions": [], "cache sizes": []}


def gpt_watched(token_id, pos_id, keys, values, state_dict, config):
    """The given gpt, noting for each call its token, its position and how many positions the
    KV cache it was given already holds."""
    if pos_id >= config.block_size:
        raise AssertionError(f"gpt called at position {pos_id}, but block_size is "
                             f"{config.block_size}:\npositions run from 0 to n - 1, where "
                             f"n = min(block_size, len(tokens) - 1)")
    if not (isinstance(keys, list) and len(keys) == config.n_layer):
        raise AssertionError(f"gpt got keys {keys!r:.40}: expected the KV cache, one list per "
                             f"layer:\n(keys, values) = empty_kv_cache(config), given whole")
    for name, seen in zip(gpt_calls, (token_id, pos_id, len(keys[0]))):
        gpt_calls[name].append(seen)
    return given_gpt(token_id, pos_id, keys, values, state_dict, config)


# 'emma' has 5 predictions, but block_size 4 reads only the first 4; each call must start from an
# empty KV cache, and that one cache must hold every earlier position of the document
emma = [26, 4, 12, 12, 0, 26]
for call in ("1st", "2nd"):
    for seen in gpt_calls.values():
        seen.clear()
    with standing_in(globals(), gpt=gpt_watched), unchanged("tokens", emma):
        with unchanged("state_dict", small_state):  # no backward: the caller runs it
            loss = document_loss(emma, small_state, small)
    expect_equal(f"positions read ({call} call)", gpt_calls["positions"], [0, 1, 2, 3])
    expect_equal(f"tokens read ({call} call)", gpt_calls["tokens"], [26, 4, 12, 12])
    expect_equal(f"one KV cache: sizes ({call} call)", gpt_calls["cache sizes"], [0, 1, 2, 3])
expect_value("'emma', block_size 4", loss,
             from_reference[document_loss(emma, small_state, small).data])

expect_value("one prediction: [BOS, e]", document_loss([26, 4], small_state, small),
             from_reference[document_loss([26, 4], small_state, small).data])
expect_value("the empty name: [BOS, BOS]", document_loss([26, 26], small_state, small),
             from_reference[document_loss([26, 26], small_state, small).data])
expect_value("'a': [BOS, a, BOS]", document_loss([26, 0, 26], small_state, small),
             from_reference[document_loss([26, 0, 26], small_state, small).data])
default = GPTConfig(vocab_size=27)
default_state = init_params(default, random.Random(42))
# the docstring's example: weights straight from random.Random(42)
expect_value("'emma', default model", document_loss(emma, default_state, default),
             from_reference[document_loss(emma, default_state, default).data])

tiny = GPTConfig(vocab_size=27, n_embd=4, n_head=2, block_size=4)
tiny_state = init_params(tiny, random.Random(3), std=0.5)


def loss_of_e_embedding(row):
    """document_loss of 'emma' with the embedding of 'e' (wte[4]) set to row (4 Values)."""
    weights = dict(tiny_state, wte=tiny_state["wte"][:4] + [row] + tiny_state["wte"][5:])
    return document_loss([26, 4, 12, 12, 0, 26], weights, tiny)


print("gradients of document_loss with respect to wte[4] (backward vs. finite differences):")
gradient_check(loss_of_e_embedding, [p.data for p in tiny_state["wte"][4]], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_document_loss
check_document_loss(document_loss, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# ## 2 · One training step
#
# A training step is three lines, and you have written the hard part of each:
#
# 1. **forward**: `loss = document_loss(tokens, state_dict, config)` builds the graph from every weight to the loss;
# 2. **backward**: `loss.backward()` puts $\partial L / \partial w$ in the `grad` of every weight;
# 3. **update**: `adam_step(params, m, v, step, num_steps, lr)` moves every weight and zeroes its gradient.
#
# `params = parameters(state_dict)` is the flat list of the very `Value` objects inside the state dict, so Adam's
# in-place updates change the model itself. `m` and `v` are Adam's running averages, one float per parameter, kept
# from one step to the next. The step returns the loss as a plain number (`loss.data`), measured *before* the update:
# it is what the model scored on this name when it saw it.
#
# ### Exercise 2: `train_step` (2 points)
#
# Call `document_loss` and `adam_step` by those names (the tests below replace `document_loss` with a stand-in of
# their own, so that they check `train_step` alone).

# %% exercise=train_step
def train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
    """One training step on one document: forward, backward, Adam. Returns the loss, a float.

    Inputs:
        tokens:     the document's token ids (at least 2), e.g. encode(name, chars).
        state_dict: the weights; params = parameters(state_dict), every grad 0 on entry.
        m, v:       Adam's running averages, lists of len(params) floats, updated in place.
        step:       the 0-based index of this step, 0 <= step < num_steps.
        num_steps:  the length of the training run (for the learning-rate schedule).
        config:     the GPTConfig.
        lr:         the peak learning rate.

    Does:
        loss = document_loss(tokens, state_dict, config); loss.backward() once; then
        adam_step(params, m, v, step, num_steps, lr), which updates the weights, m and v in place
        and zeroes the gradients. tokens are left unchanged.

    Returns:
        loss.data, the document's loss before the update (a float).
    """
    ### BEGIN SOLUTION
    loss = document_loss(tokens, state_dict, config)
    loss.backward()
    adam_step(params, m, v, step, num_steps, lr)
    return loss.data
    ### END SOLUTION


# %% tests=train_step points=2
from course_tools import expect_close, expect_equal, standing_in, unchanged


def first_prediction_loss(tokens, state_dict, config):
    """Stands in for document_loss in these tests: -log p_0[tokens[1]], one prediction only."""
    keys, values = empty_kv_cache(config)
    return -softmax(gpt(tokens[0], 0, keys, values, state_dict, config))[tokens[1]].log()


given_adam_step = adam_step
adam_calls = {"step": [], "num_steps": [], "lr": [], "m and v": [], "grad": []}


def adam_step_watched(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    """The given adam_step, noting what it was given: step, num_steps, lr, the lists m and v, and
    the gradient that backward left on small_state["wte"][BOS][0] (small_state: below)."""
    seen = (step, num_steps, lr, (m, v), small_state["wte"][26][0].grad)
    for name, value in zip(adam_calls, seen):
        adam_calls[name].append(value)
    given_adam_step(params, m, v, step, num_steps, lr, beta1, beta2, eps)


def steps_with_stand_in(state_dict, params, m, v, steps, num_steps, config, lr):
    """The losses train_step returns at the given steps, on 'emma', with the stand-in above in
    place of document_loss (your own document_loss is put back afterwards) and adam_step watched."""
    emma = [26, 4, 12, 12, 0, 26]
    for seen in adam_calls.values():
        seen.clear()
    # train_step looks both names up when it runs
    with standing_in(globals(), document_loss=first_prediction_loss, adam_step=adam_step_watched):
        with unchanged("tokens", emma):
            return [train_step(emma, state_dict, params, m, v, step, num_steps, config, lr)
                    for step in steps]


small = GPTConfig(vocab_size=27, block_size=4)
small_state = init_params(small, random.Random(1))
small_params = parameters(small_state)
m, v = [0.0] * len(small_params), [0.0] * len(small_params)

first = steps_with_stand_in(small_state, small_params, m, v, [0], 2, small, 0.05)
expect_equal("type of the loss", [type(loss).__name__ for loss in first], ["float"])
# what train_step gave adam_step: the arguments it was given, and the gradients of one backward
expect_equal("step given to adam_step", adam_calls["step"], [0])
expect_equal("num_steps given to adam_step", adam_calls["num_steps"], [2])
expect_close("lr given to adam_step", adam_calls["lr"], [0.05])
passed_on = [[given_m is m, given_v is v] for given_m, given_v in adam_calls["m and v"]]
expect_equal("m, v are the lists given", passed_on, [[True, True]])
expect_close("grad at adam_step: backward once, before it (a 0 when no backward ran, another "
             "number when it ran twice or on another loss)", adam_calls["grad"],
             from_reference[[gradient(document_loss([26, 4], small_state, small),
                                      small_state["wte"][26][0])]])
expect_close("loss before the update", first,
             from_reference[[train_step([26, 4], small_state, small_params, m, v, 0, 2, small,
                                        0.05)]])
expect_close("wte[BOS][:3] after step 0", small_state["wte"][26][:3],
             from_reference[numbers(small_state["wte"][26][:3])])
expect_close("m of those three weights", m[416:419],
             from_reference[m[416:419]])
expect_equal("gradients left non-zero after the step", sum(p.grad != 0 for p in small_params), 0)

second = steps_with_stand_in(small_state, small_params, m, v, [1], 2, small, 0.05)
# the loss of the same name, much lower after one step
expect_close("step 1: the loss", second,
             from_reference[[train_step([26, 4], small_state, small_params, m, v, 1, 2, small,
                                        0.05)]])
expect_close("lm_head[4][:3] after step 1", small_state["lm_head"][4][:3],
             from_reference[numbers(small_state["lm_head"][4][:3])])

### BEGIN HIDDEN TESTS
from autograder.checks import check_train_step
check_train_step(train_step, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# ## 3 · The training loop
#
# Training is `train_step` in a loop, one name per step, in the shuffled order, with `m` and `v` starting at zero.
# The course's model was trained for `num_steps = 1000` steps with the default learning rate 0.01; the schedule
# decays over those 1,000 steps.
#
# Each step costs a forward and a backward pass through a graph of tens of thousands of `Value`s, in pure Python,
# so the full run takes minutes rather than seconds (how many depends on the machine). Here we run only the first
# `steps_to_run` steps of that run, with the same schedule. To train the whole model yourself, set
# `steps_to_run = 1000` and wait (the cell after the loop tells you how long your machine needs).
#
# A long loop should say how far it has got. Ours redraws one line after every step: `print` with `end="\r"` moves
# the cursor back to the start of the line instead of down to a new one, so the next bar overwrites it.

# %%
def progress_bar(done, total, loss, width=30):
    """One line: a bar of width characters, the steps done and the latest loss."""
    filled = width * done // total
    return f"[{'#' * filled}{'.' * (width - filled)}] step {done}/{total}  loss {loss:.4f}"


num_steps = 1000   # the length of the run: the learning-rate schedule decays over it
steps_to_run = 10  # how many of its steps to run now; 1000 trains the whole model

docs, chars, config, state_dict = fresh_model()  # a fresh start each time this cell runs
params = parameters(state_dict)
m, v = [0.0] * len(params), [0.0] * len(params)
losses = []
started = time.perf_counter()
for step in range(steps_to_run):
    tokens = encode(docs[step % len(docs)], chars)
    losses.append(train_step(tokens, state_dict, params, m, v, step, num_steps, config))
    print("\r" + progress_bar(step + 1, steps_to_run, losses[-1]), end="")
print()
seconds = time.perf_counter() - started

# %% tags=["nbval-ignore-output"]
print(f"{steps_to_run} steps in {seconds:.1f} s, {seconds / steps_to_run:.2f} s per step: "
      f"1,000 steps would take about {1000 * seconds / steps_to_run / 60:.0f} minutes here")

# %% [markdown]
# The course's model was trained by exactly this loop (the trainer, `python -m microgpt train`, runs the reference's
# `train_step`), and the loss of each of its 1,000<!-- claim: len(recorded) --> steps was recorded in `microgpt-names-1000.metrics.jsonl`, one JSON
# line per step. The records count the steps from 1, as the progress bar does: record 1 is the step that `train_step`
# calls `step = 0`. Training draws no random numbers: the same start, the same names in the same order and the same
# arithmetic must give the same losses. Yours should agree with the recorded ones:

# %%
with open("microgpt-names-1000.metrics.jsonl", encoding="utf-8") as lines:
    recorded = [json.loads(line) for line in lines]
first_record = recorded[0]
print(f"{len(recorded)} records; the first: step {first_record['step']}, "
      f"loss {first_record['loss']:.6g}, lr {first_record['lr']:.6g}")
expect_written(train_step)  # before it is written, the loop above leaves no loss to compare
expect_close(f"the losses of your first {steps_to_run} steps against the recorded run's",
             losses, [record["loss"] for record in recorded[:steps_to_run]])


# %% [markdown]
# ## 4 · The loss curve
#
# Here are all 1,000<!-- claim: len(recorded_losses) --> recorded losses. Each step's loss is the loss of one name, and names differ a lot: a common
# short name is easy, an unusual one is surprising. So the raw curve is noisy, and we smooth it to see the trend.
# The smoothing is chapter 6's momentum again: an exponential moving average
# $s_t = \beta\, s_{t-1} + (1 - \beta)\, L_t$ with $\beta = 0.98$ (roughly the mean of the last 50<!-- claim: 1 / (1 - 0.98) --> losses), with the
# same bias correction $s_t / (1 - \beta^t)$ so that the first steps are not pulled towards zero.

# %% claims={"from about 3.3": "recorded_losses[0] ± 0.1", "to about 2.3": "smooth[-1] ± 0.1", "recorded 1,000": "len(recorded_losses)"}
def smoothed(values, beta=0.98):
    """The bias-corrected exponential moving average of values, one per step."""
    average, out = 0.0, []
    for t, x in enumerate(values, start=1):
        average = beta * average + (1 - beta) * x
        out.append(average / (1 - beta**t))
    return out


recorded_steps = [record["step"] for record in recorded]
recorded_losses = [record["loss"] for record in recorded]
smooth = smoothed(recorded_losses)

fig, (whole, start) = plt.subplots(1, 2, figsize=(12, 4.2), gridspec_kw={"width_ratios": [2, 1]})
whole.plot(recorded_steps, recorded_losses, color="lightsteelblue", linewidth=0.8,
           label="loss of each step's name")
whole.plot(recorded_steps, smooth, color="navy", label="smoothed (moving average, beta 0.98)")
for ax in (whole, start):
    ax.axhline(math.log(27), color="grey", linestyle="--", linewidth=1)
    ax.set_xlabel("step")
whole.text(1000, math.log(27) + 0.05, "uniform guess, ln 27", ha="right", color="grey")
whole.set_ylabel("loss (nats per token)")
whole.set_title("The recorded 1,000-step run")
whole.set_ylim(0.9, 4.1)
whole.legend(loc="lower left")
start.plot(recorded_steps[:30], recorded_losses[:30], "o-", color="lightsteelblue",
           label="recorded")
start.plot(range(1, len(losses) + 1), losses, "x", color="crimson", markersize=9, label="your run")
start.set_title("The first 30 steps")
start.legend()
show("Left: the loss of every step of the recorded 1,000-step run, falling from about 3.3 (the "
     "uniform guess, ln 27) to about 2.3, with its moving average. Right: the first 30 recorded "
     "steps with your run's losses marked on them.")

first_100, last_100 = recorded_losses[:100], recorded_losses[-100:]
print(f"mean loss of steps 1-100: {sum(first_100) / 100:.3f}; "
      f"of steps 901-1000: {sum(last_100) / 100:.3f}")
print(f"smoothed loss at the end: {smooth[-1]:.3f}  (ln 27 = {math.log(27):.3f})")

# %% [markdown]
# Three things to read in this picture:
#
# - **The start is right.** The first losses sit at $\ln 27 \approx 3.30$<!-- claim: abs(recorded_losses[0] - math.log(27)) < 0.1 -->: the untrained model spreads its
#   probability almost evenly, as chapter 5 found. A first loss far above that would mean a bug in the
#   initialisation or the loss.
# - **The fast drop.** Within a hundred steps the smoothed loss falls by more than half a nat<!-- claim: smooth[0] - smooth[99] > 0.5 -->. The cheapest things
#   to learn come first: which letters are common, that names rarely start with certain letters, that a name ends
#   after a few letters.
# - **The slow part.** After that the curve flattens: what is left to learn (which letters follow which, in which
#   position) comes out of the noise a little at a time, and the decaying learning rate makes the late steps small.
#
# What does a loss of about 2.3<!-- claim: smooth[-1] ± 0.1 --> mean? $e^{2.3} \approx 10$<!-- claim: math.exp(2.3) ± 0.5 -->: on average the model is as unsure of the next letter as if
# it chose among 10 equally likely ones, instead of 27. That is far from certainty, and it should be: many letters
# can follow `ma` in a name. But the model now knows enough about how names are spelled to write new ones.
#
# ## Recap
#
# - The **loss** of a document is the mean over its predictions of $-\log p_t(x_{t+1})$, the model's surprise at the
#   real next token; at most `block_size` predictions count. An untrained model scores about $\ln 27$.
# - `document_loss` runs the GPT position by position through one KV cache and returns a `Value`, so `backward()`
#   reaches every weight.
# - A **training step** is forward, backward, Adam; it returns the loss the model had on that name before learning
#   from it.
# - **Training** is the step in a loop, one name per step. It draws no random numbers, so the same start and the same
#   order give the same run: yours reproduces the recorded one.
# - The **loss curve** is noisy step by step; a bias-corrected moving average shows the trend: a fast drop from
#   3.3<!-- claim: recorded_losses[0] ± 0.1 -->, then slow progress.
#
# ## What comes next
#
# A trained model is a machine for predicting the next letter, and a machine for predicting is also a machine for
# writing: start with BOS, draw a letter from the model's probabilities, feed it back in, and repeat until the model
# predicts BOS. Chapter 8 loads the model that the recorded run produced, generates names with it, and shows how a
# single number, the **temperature**, moves it between safe, repetitive names and wild ones.
