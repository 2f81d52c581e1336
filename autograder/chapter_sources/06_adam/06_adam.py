# %% [markdown]
# # Chapter 6 · Adam: how the model takes a step
#
# Chapter 5 ended with a GPT whose 4,192<!-- claim: sum(r * c for r, c in reference("model").param_shapes(reference("model").GPTConfig(vocab_size=27)).values()) --> weights are random numbers. `backward()` tells us, for every weight, which way
# the loss goes up and how steeply. This chapter is about the next move: turning those gradients into a **step**, a
# small change of every weight that makes the loss smaller. The rule microgpt uses, like almost every language model
# trained today, is **Adam**; its step size follows a **learning-rate schedule** that shrinks it as training goes on.
#
# **Goals.** By the end of this chapter you will be able to
#
# - explain why plain gradient descent, with one step size for every weight, is slow when the loss is steep in some
#   directions and flat in others;
# - explain Adam's two running averages, of the gradients (**momentum**) and of their squares (a per-weight
#   **scale**), and why their ratio moves every weight by about the learning rate;
# - explain **bias correction**: why averages that start at zero must be divided by $1 - \beta^t$;
# - write the linearly decaying learning rate and one Adam step over a list of parameters;
# - see gradient descent and your Adam race across a narrow valley.
#
# **Time:** about 60 minutes.
#
# **Graded exercises: 4 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `learning_rate(step, num_steps, lr)` | the step size at a given step: lr, falling linearly towards 0 | 1 |
# | `adam_step(params, m, v, step, num_steps, lr, beta1, beta2, eps)` | one Adam update of every parameter, in place | 3 |

# %% [markdown] passage=how_to_work

# %% fetch

# %% [markdown]
# ## 0 · The piece we start from
#
# Here is the reference version of the `Value` class you built in chapter 1. Remember two facts about it that matter
# in this chapter: `backward()` stores $\partial L / \partial p$ in `p.grad` for every node $p$, and it *adds* to
# whatever `grad` already holds, so gradients must be set back to zero before the next backward pass.

# %% given=microgpt.autograd:Value

# %%
import math
import random

# course_tools first: in the browser, offline, it stands in for matplotlib (pictures skipped)
from course_tools import expect_close, show

import matplotlib.pyplot as plt

a = Value(3.0)
(a * a).backward()
(a * a).backward()  # a second backward pass adds to the first
expect_close("a.grad after two backward passes of a*a at a = 3 (2 * 6)", a.grad, 12.0)


# %% [markdown]
# ## 1 · Gradient descent and its one step size
#
# The simplest rule is **gradient descent**: move every parameter a little against its gradient,
#
# $$
# \theta \;\leftarrow\; \theta - \eta\, g, \qquad g = \frac{\partial L}{\partial \theta},
# $$
#
# with one **learning rate** $\eta$ for all parameters. Downhill is the right direction, but the step size is the
# problem. A steep direction has a large gradient, so gradient descent takes a large step there; a flat direction
# has a small gradient and gets a small step. When both kinds of direction exist at once — and in a neural network
# they always do — no single $\eta$ suits them both.
#
# A two-parameter example shows it. Take the loss
#
# $$
# L(x, y) = \tfrac12\,\big(x^2 + 100\,y^2\big), \qquad \frac{\partial L}{\partial x} = x, \quad
# \frac{\partial L}{\partial y} = 100\,y,
# $$
#
# a long, narrow valley: 100 times more curved across ($y$) than along ($x$), with its lowest point at $(0, 0)$.
# One gradient-descent step multiplies $y$ by $1 - 100\eta$ and $x$ by $1 - \eta$. For $y$ not to blow up, we need
# $|1 - 100\eta| < 1$, that is $\eta < 0.02$; but then $x$ shrinks by at most 2% per step, and the walk along the valley
# takes well over a hundred steps<!-- claim: next(step for step, (x, y) in enumerate(gradient_descent(0.019, 1000)) if abs(x) < 0.1) > 150 -->. Let's watch 50 steps from $(-4, 1)$ with three learning rates (the third one
# leaves the picture, so it only appears in the numbers below it).

# %% claims={"neither gets past x = -1.5": "all(x < -1.5 for lr in (0.005, 0.019) for x, y in gradient_descent(lr, 50))"}
def ravine(x, y):
    """The valley's loss, for numbers or Values: (x^2 + 100 y^2) / 2."""
    return 0.5 * (x * x + 100 * y * y)


def gradient_descent(lr, num_steps, start=(-4.0, 1.0)):
    """The points gradient descent visits on the ravine, start included (num_steps + 1 of them)."""
    x, y = start
    path = [(x, y)]
    for _ in range(num_steps):
        x, y = x - lr * x, y - lr * 100 * y  # the gradient is (x, 100 y)
        path.append((x, y))
    return path


def draw_valley(ax):
    xs = [-5 + 6.5 * i / 200 for i in range(201)]
    ys = [-1.3 + 2.6 * j / 200 for j in range(201)]
    heights = [[ravine(x, y) for x in xs] for y in ys]
    ax.contour(xs, ys, heights, levels=[0.1, 0.5, 2, 5, 10, 20, 40, 70], colors="lightgrey")
    ax.plot([0], [0], "k*", markersize=12)
    ax.set_xlim(-5, 1.5)
    ax.set_ylim(-1.3, 1.3)
    ax.set_xlabel("x  (flat direction)")
    ax.set_ylabel("y  (steep direction)")


fig, ax = plt.subplots(figsize=(9, 4))
draw_valley(ax)
for lr, style in [(0.005, "o-"), (0.019, "s-")]:
    path = gradient_descent(lr, 50)
    ax.plot([p[0] for p in path], [p[1] for p in path], style, markersize=3, label=f"lr = {lr}")
ax.legend(loc="upper right")
ax.set_title("Gradient descent, 50 steps from (-4, 1)")
show("Two gradient descent paths over the contour lines of a long narrow valley, 50 steps from "
     "(-4, 1) toward the minimum at (0, 0): with learning rate 0.005 the path drops to y = 0 and "
     "then crawls along x, with 0.019 it zigzags across the valley; neither gets past x = -1.5.")

for lr in (0.005, 0.019, 0.021):
    x, y = gradient_descent(lr, 50)[-1]
    print(f"lr = {lr}: after 50 steps (x, y) = ({x:.3g}, {y:.3g}), loss {ravine(x, y):.4g}")

# %% [markdown]
# With $\eta = 0.005$ the path is smooth but it has barely started along the valley. With $\eta = 0.019$, just below
# the limit, $y$ bounces from wall to wall ($y$ is multiplied by $-0.9$<!-- claim: 1 - 100 * 0.019 --> at each step) and $x$ still covers only
# 60%<!-- claim: 100 * (1 - gradient_descent(0.019, 50)[-1][0] / -4) ± 5 --> of the way. With $\eta = 0.021$, just above the limit, $y$ grows at every bounce and the loss explodes<!-- claim: ravine(*gradient_descent(0.021, 50)[-1]) > 1e4 -->.
# The steep direction dictates the step size; the flat direction pays for it.
#
# ## 2 · Adam: momentum, a scale for every parameter, and bias correction
#
# **Adam** (Kingma and Ba, 2015, "adaptive moment estimation") fixes this with two running averages per parameter.
#
# **Momentum.** Instead of the latest gradient $g_t$, follow a running average of the recent ones:
#
# $$
# m_t = \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t .
# $$
#
# Each step keeps a fraction $\beta_1$ of the old average and mixes in $1 - \beta_1$ of the new gradient: an
# exponential moving average that remembers roughly the last $1/(1-\beta_1)$ gradients. Where gradients keep their
# sign (along the valley) they add up; where they flip sign from step to step (across it) they cancel out.
# Training on one name at a time makes every gradient noisy; averaging smooths the noise too.
#
# **A scale for every parameter.** Keep a second running average, of the *squared* gradients:
#
# $$
# v_t = \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 .
# $$
#
# $\sqrt{v_t}$ is the typical size of this parameter's gradient. Dividing the momentum by it gives a step that does
# not depend on how steep the direction is:
#
# $$
# \theta_t = \theta_{t-1} - \eta\, \frac{m_t}{\sqrt{v_t} + \varepsilon} .
# $$
#
# If the gradient of one parameter is always about $g$, then $m \approx g$, $\sqrt{v} \approx |g|$ and the step is
# about $\eta$, whether $g$ is 0.001 or 1000. Multiplying the whole loss by 1000 changes nothing. Every parameter,
# steep or flat, moves by about $\eta$ per step while its gradients agree, and by less when they disagree (then
# $|m|$ is smaller than $\sqrt{v}$). The tiny $\varepsilon = 10^{-8}$ only guards against dividing by zero.
#
# **Bias correction.** Both averages start at zero, $m_0 = v_0 = 0$. After the first step,
# $m_1 = (1 - \beta_1)\, g_1$: with microgpt's $\beta_1 = 0.85$ that is only 15% of the gradient, because the
# other 85% of the weight went to the zero we started from. In general the weights given to the real gradients
# $g_1, \dots, g_t$ sum to $1 - \beta_1^t$, not to 1. Dividing by that sum repairs the average:
#
# $$
# \hat m_t = \frac{m_t}{1 - \beta_1^{\,t}}, \qquad \hat v_t = \frac{v_t}{1 - \beta_2^{\,t}}, \qquad
# \theta_t = \theta_{t-1} - \eta_t\, \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon} .
# $$
#
# The correction matters only at the start: $\beta^t$ shrinks towards 0 and the divisor towards 1. Only the update
# uses $\hat m$ and $\hat v$; the running averages carried to the next step are $m_t$ and $v_t$ themselves.
#
# Let's look at the first steps, with microgpt's $\beta_1 = 0.85$ and $\beta_2 = 0.99$, for a gradient that is 1 on
# average plus some noise (left), and for a gradient that is exactly 1 at every step (right).

# %% claims={"overshoots to about 2.6": "max(m / s for m, _, s, _ in constant) ± 0.05"}
BETA1, BETA2 = 0.85, 0.99


def moments(gradients, beta1=BETA1, beta2=BETA2):
    """(m_t, m_hat_t, sqrt v_t, sqrt v_hat_t) for t = 1, 2, ... along a list of gradients."""
    m = v = 0.0
    rows = []
    for t, g in enumerate(gradients, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        rows.append((m, m / (1 - beta1**t), math.sqrt(v), math.sqrt(v / (1 - beta2**t))))
    return rows


rng = random.Random(0)
noisy = [1 + 0.5 * rng.gauss(0, 1) for _ in range(40)]
rows = moments(noisy)
print(f"{'t':>3}{'g_t':>9}{'m_t':>9}{'m_hat_t':>9}{'sqrt v_t':>10}{'sqrt v_hat_t':>14}")
for t in range(5):
    print(f"{t + 1:>3}{noisy[t]:>9.4f}" + "".join(f"{x:>9.4f}" for x in rows[t][:2])
          + f"{rows[t][2]:>10.4f}{rows[t][3]:>14.4f}")

steps = range(1, 41)
constant = moments([1.0] * 40)
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
left.plot(steps, noisy, ".", color="grey", label="gradient $g_t$")
left.plot(steps, [r[0] for r in rows], "--", label="$m_t$ (starts at 0)")
left.plot(steps, [r[1] for r in rows], "-", label=r"$\hat m_t = m_t / (1 - \beta_1^t)$")
left.axhline(1, color="black", linewidth=0.8)
left.set_xlabel("step t")
left.set_title("The running average of noisy gradients (mean 1)")
left.legend()
right.plot(steps, [m / s for m, _, s, _ in constant], "--",
           label=r"without correction: $m_t / \sqrt{v_t}$")
right.plot(steps, [m / s for _, m, _, s in constant], "-",
           label=r"with correction: $\hat m_t / \sqrt{\hat v_t}$")
right.set_ylim(0, 3)
right.set_xlabel("step t")
right.set_title("Step size in units of the learning rate, for $g_t = 1$")
right.legend()
show("Left: noisy gradients around 1 with their running average m, which starts near 0, and the "
     "bias-corrected average, which stays near 1 from the first step. Right: the step size for a "
     "constant gradient, which overshoots to about 2.6 without the correction and is exactly 1 "
     "with it.")


# %% [markdown]
# On the left, the uncorrected $m_t$ crawls up from 0 and needs about 15<!-- claim: next(t for t, row in enumerate(constant, start=1) if row[0] >= 0.9) ± 2 --> steps to reach the gradients' mean; the
# corrected $\hat m_t$ is a fair average from the first step. On the right, the effect on the step: the gradient is
# always 1, so the right step is exactly one learning rate, which the corrected ratio gives at every step. Without
# correction the step starts 1.5<!-- claim: constant[0][0] / constant[0][2] --> times too large and exceeds 2.5<!-- claim: max(m / s for m, _, s, _ in constant) > 2.5 --> times the learning rate around step 8<!-- claim: max(range(40), key=lambda t: constant[t][0] / constant[t][2]) + 1 ± 1 -->, because $v$
# (with its $\beta_2 = 0.99$) lags even further behind zero's pull than $m$ does, and dividing by a too-small
# $\sqrt{v}$ inflates the step. At the start of training, when the weights are random and the gradients large, such
# overshooting is the last thing we want.
#
# ## 3 · The learning-rate schedule
#
# Adam's $\eta$ need not be the same at every step. Early in training the weights are far from good and large steps
# help; late in training the model is close to a good solution, and the noise of one-name-at-a-time gradients makes
# large steps jitter around it instead of settling. microgpt lets the learning rate fall in a straight line from
# $\eta$ at the first step towards 0 at the end:
#
# $$
# \eta_s = \eta \left(1 - \frac{s}{N}\right) \quad \text{for update } s = 0, 1, \dots, N - 1
# \text{ of a run of } N \text{ updates.}
# $$
#
# Mind the counting: in code, `step` $= s$ is the **0-based** index of the update and `num_steps` $= N$, so the first
# update uses the full $\eta$ and the last one $\eta / N$, still positive. In the formulas of section 2 the steps were
# counted from $t = 1$: $t = s + 1$.
#
# ### Exercise 1: `learning_rate` (1 point)

# %% exercise=learning_rate
def learning_rate(step, num_steps, lr):
    """The learning rate of update number `step`, falling linearly from lr towards 0.

    Inputs:
        step:      the 0-based index of the update, an int with 0 <= step < num_steps.
        num_steps: the total number of updates of the training run, an int >= 1.
        lr:        the peak learning rate, a positive number.

    Returns:
        lr * (1 - step / num_steps), a float: lr at step 0, lr / num_steps at the last step.

    Example:
        >>> learning_rate(250, 1000, 0.01)
        0.0075
    """
    ### BEGIN SOLUTION
    return lr * (1 - step / num_steps)
    ### END SOLUTION


# %% tests=learning_rate points=1
from course_tools import expect_close

expect_close("learning_rate(0, 1000, 0.01): the first step uses the full lr",
             learning_rate(0, 1000, 0.01), 0.01)
expect_close("learning_rate(500, 1000, 0.01): halfway", learning_rate(500, 1000, 0.01), 0.005)
expect_close("learning_rate(999, 1000, 0.01): the last step, still positive",
             learning_rate(999, 1000, 0.01), 1e-05)
expect_close("learning_rate(3, 4, 0.5)", learning_rate(3, 4, 0.5), 0.125)
expect_close("learning_rate(2, 4, 1): a float even for an int lr", learning_rate(2, 4, 1), 0.5)
expect_close("the schedule of a 5-step run with lr 0.1",
             [learning_rate(step, 5, 0.1) for step in range(5)], [0.1, 0.08, 0.06, 0.04, 0.02])

### BEGIN HIDDEN TESTS
from autograder.checks import check_learning_rate
check_learning_rate(learning_rate)
### END HIDDEN TESTS

# %% [markdown]
# ## 4 · One Adam step
#
# Now the whole update. Training keeps, next to the list `params` of every weight (a `Value`), two lists of floats of
# the same length: `m[i]` and `v[i]` are the running averages of parameter `i`'s gradients and squared gradients. They
# start at 0.0 and live as long as the training run. After each backward pass, one call
# `adam_step(params, m, v, step, num_steps)` does, for every parameter $p$ = `params[i]` with gradient $g$ = `p.grad`:
#
# 1. update the running averages **in the lists**: `m[i]` $\leftarrow \beta_1$ `m[i]` $+ (1-\beta_1)\,g$ and
#    `v[i]` $\leftarrow \beta_2$ `v[i]` $+ (1-\beta_2)\,g^2$;
# 2. correct their bias: $\hat m$ = `m[i]` $/ (1 - \beta_1^{\texttt{step}+1})$ and
#    $\hat v$ = `v[i]` $/ (1 - \beta_2^{\texttt{step}+1})$, in local variables;
# 3. move the weight: `p.data` $\leftarrow$ `p.data` $- \eta_s\, \hat m / (\sqrt{\hat v} + \varepsilon)$, with
#    $\eta_s$ = `learning_rate(step, num_steps, lr)`;
# 4. set `p.grad = 0`, so that the next backward pass starts from zero instead of adding to this one.
#
# The defaults are microgpt's: $\eta = 0.01$, $\beta_1 = 0.85$, $\beta_2 = 0.99$, $\varepsilon = 10^{-8}$.
#
# Three details trip people up. Write the new averages back into the lists (`m[i] = ...`): a new local list would be
# lost when the function returns, and the next step would start from zeros again. Change `p.data` on the `Value`
# objects you are given rather than creating new `Value`s: the model's state dict holds those very objects. And keep
# $\varepsilon$ outside the square root.
#
# ### Exercise 2: `adam_step` (3 points)

# %% exercise=adam_step
def adam_step(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    """One Adam update of every parameter, in place, then zero its gradient. Returns None.

    Inputs:
        params:    a list of n Values, each with its gradient in .grad (from a backward pass).
        m, v:      lists of n floats, the running averages of each parameter's gradients and squared
                   gradients (0.0 before the first step). Updated in place: m[i] and v[i] are
                   reassigned in the lists given, and keep the values without bias correction.
        step:      the 0-based index of this update, 0 <= step < num_steps.
        num_steps: the total number of updates, for the learning-rate schedule.
        lr, beta1, beta2, eps: the peak learning rate, the two averaging factors and the guard
                   against dividing by zero.

    For each i, with p = params[i] and g = p.grad:
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g ** 2
        m_hat = m[i] / (1 - beta1 ** (step + 1)),   v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data = p.data - lr_t * m_hat / (v_hat ** 0.5 + eps)
                                         with lr_t = learning_rate(step, num_steps, lr)
        p.grad = 0
    The Value objects stay the same (only their data and grad change); nothing else is touched.

    Example (the first step: m_hat = g and v_hat = g ** 2, so the weight moves by lr against g):
        >>> p = Value(1.0)
        >>> p.grad = 0.5
        >>> m, v = [0.0], [0.0]
        >>> adam_step([p], m, v, 0, 10)
        >>> round(p.data, 6), p.grad, round(m[0], 6), round(v[0], 6)
        (0.99, 0, 0.075, 0.0025)
    """
    ### BEGIN SOLUTION
    lr_t = learning_rate(step, num_steps, lr)
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
        p.grad = 0
    ### END SOLUTION


# %% tests=adam_step points=3
from course_tools import expect_close, expect_equal, expect_none, expect_same_objects, standing_in


def linear_decay(step, num_steps, lr):
    """The schedule of section 3, written here so that these tests check adam_step alone."""
    return lr * (num_steps - step) / num_steps


def adam_step_alone(params, m, v, step, num_steps, **options):
    """adam_step(params, m, v, step, num_steps, **options) with the schedule above in place of
    learning_rate (adam_step looks the name up when it runs); returns what adam_step returned."""
    with standing_in(globals(), learning_rate=linear_decay):
        try:
            return adam_step(params, m, v, step, num_steps, **options)
        except ZeroDivisionError:  # 1 - beta ** step is 0 at step 0: name the cause, not the line
            raise AssertionError(f"step {step} divided by zero: the bias corrections are\n"
                                 f"1 - beta1 ** (step + 1) and 1 - beta2 ** (step + 1)\n"
                                 f"(step counts from 0)") from None


def adam_steps(start, gradients, num_steps, first_step=0, m=None, v=None, update=adam_step_alone,
               **options):
    """Run update (adam_step_alone unless given) on fresh Values made from start, one step per list
    of gradients; returns (params, m, v) afterwards."""
    params = [Value(x) for x in start]
    m = list(m or [0.0] * len(start))
    v = list(v or [0.0] * len(start))
    for step, grads in enumerate(gradients, start=first_step):
        for p, g in zip(params, grads):
            p.grad = g
        update(params, m, v, step, num_steps, **options)
    return params, m, v


# the docstring's example: first what every call must do (return nothing, keep the same Values,
# store plain numbers), then the numbers
p = Value(1.0)
p.grad = 0.5
params, m, v = [p], [0.0], [0.0]
expect_none("adam_step(params, m, v, 0, 10)", adam_step_alone(params, m, v, 0, 10))
expect_same_objects("params after the step", params, [p])
expect_equal("type of p.data", type(p.data).__name__, "float")
expect_close("m in place, uncorrected", m, [0.075])
expect_close("v in place, uncorrected", v, [0.0025])
# the first step moves p by lr against its gradient: m_hat = g and v_hat = g ** 2
expect_close("p after the first step", p.data, 0.99)
expect_equal("the gradient after the step", p.grad, 0)

params, m, v = adam_steps([1.0, 2.0, -3.0], [[0.5, -2.0, 0.0]], 10)
# each moves by lr against its gradient's sign, whatever its size
expect_close("3 parameters, one step", params, [0.99, 2.01, -3.0])
expect_equal("the gradients after the step", [p.grad for p in params], [0, 0, 0])

# gradients far below eps = 1e-8: sqrt(v_hat) is the gradient's size, and eps now counts
params, m, v = adam_steps([0.5, -1.0], [[1e-10, -3e-9]], 10)
expect_close("gradients below eps", params,
             from_reference[numbers(adam_steps([0.5, -1.0], [[1e-10, -3e-9]], 10,
                                               update=adam_step)[0])])

params, m, v = adam_steps([0.5, -1.0], [[0.3, -1.2], [0.5, 0.4]], 4, lr=0.1)
# two steps in a row, with lr 0.1 and then 0.075; m and v keep no bias correction
expect_close("two steps: params", params,
             from_reference[numbers(adam_steps([0.5, -1.0], [[0.3, -1.2], [0.5, 0.4]], 4, lr=0.1,
                                               update=adam_step)[0])])
expect_close("two steps: m", m, [0.11325, -0.093])
expect_close("two steps: v", v, [0.003391, 0.015856])

# step 2 of 5 with lr=0.05, beta1=0.9, beta2=0.999, eps=1e-3
params, m, v = adam_steps([0.5, -1.0], [[0.3, -1.2]], 5, first_step=2, m=[0.1, -0.2],
                          v=[0.04, 0.5], lr=0.05, beta1=0.9, beta2=0.999, eps=1e-3)
expect_close("all options: params", params,
             from_reference[numbers(adam_steps([0.5, -1.0], [[0.3, -1.2]], 5, first_step=2,
                                               m=[0.1, -0.2], v=[0.04, 0.5], lr=0.05, beta1=0.9,
                                               beta2=0.999, eps=1e-3, update=adam_step)[0])])
expect_close("all options: m, v", m + v, [0.12, -0.3, 0.04005, 0.50094])

### BEGIN HIDDEN TESTS
from autograder.checks import check_adam_step
check_adam_step(adam_step, value_cls=Value)
### END HIDDEN TESTS

# %% [markdown]
# ## 5 · Adam in the valley
#
# Back to the valley of section 1. Below, your `adam_step` drives two `Value`s, $x$ and $y$, for 50 steps: at every
# step we compute the loss, call `backward()`, and let `adam_step` move both parameters (with the linear decay of
# `learning_rate` over the 50 steps). Gradient descent runs beside it with its best learning rate, 0.019. Adam's
# learning rate is 0.2: remember that it is roughly the distance each parameter travels per step.

# %% claims={"stops near x = -1.5": "paths[\"gradient descent, lr = 0.019\"][-1][0] ± 0.1", "ends close to the minimum": "ravine(*paths[\"Adam, lr = 0.2\"][-1]) < 0.1"}
def adam_path(lr, num_steps, start=(-4.0, 1.0)):
    """The points your adam_step visits on the ravine, start included (num_steps + 1 of them)."""
    params = [Value(start[0]), Value(start[1])]
    m, v = [0.0, 0.0], [0.0, 0.0]
    path = [start]
    for step in range(num_steps):
        loss = ravine(params[0], params[1])
        loss.backward()
        adam_step(params, m, v, step, num_steps, lr=lr)
        path.append((params[0].data, params[1].data))
    return path


paths = {"gradient descent, lr = 0.019": gradient_descent(0.019, 50),
         "Adam, lr = 0.2": adam_path(0.2, 50)}
fig, ax = plt.subplots(figsize=(9, 4))
draw_valley(ax)
for (label, path), style in zip(paths.items(), ["s-", "o-"]):
    ax.plot([p[0] for p in path], [p[1] for p in path], style, markersize=3, label=label)
ax.legend(loc="upper right")
ax.set_title("50 steps from (-4, 1): gradient descent against Adam")
show("Gradient descent and Adam, 50 steps each from (-4, 1) in the same narrow valley: gradient "
     "descent zigzags and stops near x = -1.5, Adam curves smoothly and ends close to the minimum "
     "at (0, 0).")

for label, path in paths.items():
    x, y = path[-1]
    print(f"{label}: after 50 steps (x, y) = ({x:.3g}, {y:.3g}), loss {ravine(x, y):.3g}")

# %% [markdown]
# Adam's first steps go diagonally: $x$ and $y$ each move by about one learning rate<!-- claim: all(abs(abs(a - b) - 0.2) < 0.02 for a, b in zip(paths["Adam, lr = 0.2"][0], paths["Adam, lr = 0.2"][1])) -->, although $y$'s gradient is 100
# times steeper than $x$'s. $y$ crosses the valley floor ($y = 0$) between steps 5 and 6<!-- claim: next(step for step, (x, y) in enumerate(paths["Adam, lr = 0.2"]) if y < 0) == 6 -->, overshoots to about $-0.3$<!-- claim: min(y for x, y in paths["Adam, lr = 0.2"]) ± 0.05 -->
# (momentum carries it on) and settles: its gradients start flipping sign, which shrinks $m$ while $v$ remembers their size. $x$'s gradients keep their
# sign, so $x$ marches along the valley at about 0.2<!-- claim: (paths["Adam, lr = 0.2"][10][0] - paths["Adam, lr = 0.2"][0][0]) / 10 ± 0.03 --> per step, slowing down only as the schedule lowers the learning
# rate. Gradient descent, tied to the steep direction, is still far from the minimum.
#
# The same thing happens, in 4,192<!-- claim: sum(r * c for r, c in reference("model").param_shapes(reference("model").GPTConfig(vocab_size=27)).values()) --> dimensions, inside the GPT: the embedding of a rare letter gets small gradients,
# a weight of the output layer large ones, and Adam gives each a step of about the learning rate.
#
# ## Recap
#
# - **Gradient descent** $\theta \leftarrow \theta - \eta g$ uses one step size for every direction; the steepest
#   direction limits $\eta$, and flat directions crawl.
# - **Adam** keeps two running averages per parameter: the gradients, $m$ (momentum: consistent directions add up,
#   zigzags cancel) and their squares, $v$ (the gradient's typical size). The step
#   $\eta\, \hat m / (\sqrt{\hat v} + \varepsilon)$ is about $\eta$ for every parameter whose gradients agree,
#   whatever their size.
# - **Bias correction** divides the averages by $1 - \beta^t$: they start at zero, and without it the first steps
#   come out wrong (with $\beta_1 = 0.85$, $\beta_2 = 0.99$, up to about 2.6<!-- claim: max(m / s for m, _, s, _ in constant) ± 0.05 --> times too large).
# - **The schedule** $\eta_s = \eta\,(1 - s/N)$ for update $s$ of $N$ takes large steps early and small ones late,
#   so the weights settle.
# - `adam_step` updates `m`, `v` and every `p.data` in place and sets every `p.grad` back to 0 for the next
#   backward pass.
#
# ## What comes next
#
# We have a model (chapter 5) and a way to improve it (this chapter). Chapter 7 joins them: the loss of one name,
# `backward()` through the whole GPT, one `adam_step`, and then the same again a thousand times, watching the loss
# fall from $\ln 27 \approx 3.3$ towards what a model that has learned how names are spelled can do.
