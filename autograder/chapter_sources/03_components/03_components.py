# %% [markdown]
# # Chapter 3 · The building blocks: linear layers, softmax and RMSNorm
#
# A GPT looks complicated in a diagram, but almost everything it computes comes from three small operations.
# For one token, our model with one layer calls a **linear layer** seven times, **RMSNorm** three times, and
# **softmax** five times (once in each of the four attention heads, once for the output). Build these three well
# and chapter 5 only has to put them in the right order.
#
# **Goals.** By the end of this chapter you will
#
# - represent vectors and matrices as plain Python lists of `Value`s, and read a shape like 27 × 16;
# - implement `linear`, the matrix-vector product $y = Wx$ that holds most of the model's weights;
# - implement `softmax`, which turns arbitrary scores into probabilities, in its numerically safe form;
# - implement `rmsnorm`, which rescales a vector to a steady size;
# - confirm with a numerical gradient check that `backward()` differentiates all three correctly.
#
# **Time:** about 60 minutes.
#
# **Graded exercises: 6 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `linear(x, w)` | matrix-vector product without bias | 2 |
# | `softmax(logits)` | scores → probabilities that sum to 1 | 2 |
# | `rmsnorm(x, eps=1e-5)` | rescale a vector to a root mean square of about 1 | 2 |

# %% [markdown] passage=how_to_work

# %% fetch

# %%
from course_tools import check_shape, show  # the course's checks; they also make errors readable

# %% [markdown]
# ## 0 · The `Value` class, given
#
# Here is the reference version of the `Value` class you built in chapter 1. Every function of this chapter only
# combines `Value`s with `+`, `*`, `**`, `exp` and `log`, so `backward()` can differentiate them with no extra work
# from you: each operation records its local derivatives, and the chain rule does the rest.

# %% given=microgpt.autograd:Value

# %%
a, b = Value(2.0), Value(-3.0)
c = a * b + a**2  # c = ab + a^2
c.backward()
print(f"c = {c.data:g}, dc/da = b + 2a = {a.grad:g}, dc/db = a = {b.grad:g}")


# %% [markdown]
# ## 1 · Vectors and matrices as lists
#
# We use no array library, so we need a convention:
#
# - A **vector** of $n$ numbers is a Python list of $n$ `Value`s: `x = [Value(1.0), Value(0.5), Value(-2.0)]`.
# - A **matrix** with $n_\text{out}$ rows and $n_\text{in}$ columns is a list of $n_\text{out}$ rows, each a list of
#   $n_\text{in}$ `Value`s. `W[o][i]` is the entry in row $o$, column $i$. We call this shape
#   $n_\text{out} \times n_\text{in}$.
#
# Why rows for outputs? Because of how a linear layer (next section) computes: output $o$ uses row $o$ of the
# matrix and nothing else. So a matrix of shape $n_\text{out} \times n_\text{in}$ turns a vector of $n_\text{in}$
# numbers into a vector of $n_\text{out}$ numbers. Our model's last layer, for example, has shape 27 × 16: it
# turns the model's 16 internal numbers into 27 scores, one per token id.
#
# The helpers below turn plain floats into `Value`s so that examples stay short.

# %%
def to_vector(numbers):
    """A list of floats -> a list of Values."""
    return [Value(float(n)) for n in numbers]


def to_matrix(rows):
    """A list of rows of floats -> a matrix (list of rows) of Values."""
    return [to_vector(row) for row in rows]


W = to_matrix([[1, 2, 3], [0, -1, 0.5]])
x = to_vector([1, 0.5, -2])
check_shape("W", W, (2, 3))
check_shape("x", x, (3,))
print("W =", [[w.data for w in row] for row in W])
print("x =", [v.data for v in x])


# %% [markdown]
# ## 2 · The linear layer: $y = Wx$
#
# **Intuition.** Each output of a linear layer is a **weighted sum of all the inputs**. Output $o$ takes the dot
# product of row $o$ of $W$ with $x$: it multiplies each input by a weight and adds everything up. You can read a
# row as a *pattern*: the dot product is large when $x$ lines up with the row, near zero when they are unrelated,
# and negative when they point in opposite directions. A layer with $n_\text{out}$ rows checks $x$ against
# $n_\text{out}$ patterns at once, and the result is a new vector that describes $x$ in terms of those patterns.
#
# The weights are the **parameters**: training chooses them. More than four in five<!-- claim: sum(r * c for k, (r, c) in reference("model").param_shapes(reference("model").GPTConfig(vocab_size=27)).items() if k not in ("wte", "wpe")) / sum(r * c for r, c in reference("model").param_shapes(reference("model").GPTConfig(vocab_size=27)).values()) > 0.8 --> of our model's parameters sit
# in the matrices of linear layers: the attention's query, key, value and output projections, the two layers of
# the MLP, and the final layer that produces the 27 scores (the rest are the embedding tables of chapter 4). On its own a stack of linear layers is still linear (a product
# of matrices is one matrix); what makes the model more powerful is the non-linear steps in between, the ReLU of
# the MLP and the softmax of attention.
#
# **Math.** For $W$ of shape $n_\text{out} \times n_\text{in}$ and $x$ of length $n_\text{in}$:
#
# $$y_o = \sum_{i=0}^{n_\text{in}-1} W_{o,i}\, x_i \qquad \text{for } o = 0, 1, \dots, n_\text{out}-1, \qquad\text{in short } y = Wx.$$
#
# That is $n_\text{out} \cdot n_\text{in}$ multiplications, one per weight. Many textbooks add a **bias**,
# $y = Wx + b$. We leave it out, like the original microgpt and many recent large models: fewer parameters, one
# thing less to learn, and no noticeable loss for a model like ours.
#
# The derivatives that `backward()` will use follow directly from the sum:
#
# $$\frac{\partial y_o}{\partial x_i} = W_{o,i}, \qquad \frac{\partial y_o}{\partial W_{o,i}} = x_i .$$
#
# So the gradient that reaches a weight is the gradient of its output times the input it multiplied: weights
# that saw large inputs receive large updates, and a weight whose input was 0 receives none.
#
# **Worked example.** With $W = \begin{pmatrix} 1 & 2 & 3 \\ 0 & -1 & 0.5 \end{pmatrix}$ and $x = (1,\ 0.5,\ -2)$:
#
# $$y_0 = 1 \cdot 1 + 2 \cdot 0.5 + 3 \cdot (-2) = -4, \qquad y_1 = 0 \cdot 1 + (-1) \cdot 0.5 + 0.5 \cdot (-2) = -1.5 .$$
#
# ### Exercise 1: `linear` (2 points)
#
# One list comprehension over the rows does it. Inside, `zip(row, x)` pairs each weight with its input, and
# Python's `sum(...)` adds the products starting from 0 (this works with `Value`s because `0 + Value` is defined).
# Add the products in order, $i = 0, 1, 2, \dots$, as `sum` does: floating-point addition depends slightly on the
# order, and the tests compare your numbers with the reference's.

# %% exercise=linear
def linear(x, w):
    """Matrix-vector product y = W x, without bias.

    Args:
        x: a list of n_in Values, the input vector.
        w: the weight matrix, n_out x n_in: a list of n_out rows, each a list
            of n_in Values; w[o][i] is row o, column i.

    Returns:
        A list of n_out Values, y[o] = sum over i of w[o][i] * x[i], added in
        order of i. Build it with Value operations (*, + or sum) so that
        backward() reaches every entry of x and w; x and w are left unchanged.

    Example:
        w = [[1, 2, 3], [0, -1, 0.5]] and x = [1, 0.5, -2], all as Values:
        [y.data for y in linear(x, w)] == [-4.0, -1.5]
    """
    ### BEGIN SOLUTION
    return [sum(w_oi * x_i for w_oi, x_i in zip(w_o, x)) for w_o in w]
    ### END SOLUTION


# %% tests=linear points=2
from course_tools import check_shape, expect_close, expect_value, gradient_check, unchanged

W = [[Value(1.0), Value(2.0), Value(3.0)], [Value(0.0), Value(-1.0), Value(0.5)]]
x = [Value(1.0), Value(0.5), Value(-2.0)]
with unchanged("x", x), unchanged("w", W):
    y = linear(x, W)
check_shape("linear(x, W) with W 2 x 3", y, (2,))
expect_close("linear(x, W)", y, [-4.0, -1.5])
# a Value, not a plain number, so that backward reaches every entry of x and W
expect_value("linear(x, W)[0]", y[0], -4.0)

identity = [[Value(1.0), Value(0.0), Value(0.0)],
            [Value(0.0), Value(1.0), Value(0.0)],
            [Value(0.0), Value(0.0), Value(1.0)]]
expect_close("linear(x, identity matrix) gives back x", linear(x, identity), [1.0, 0.5, -2.0])

tall = [[Value(float(w)) for w in row] for row in [[1, 0, 0], [0, 0, 1], [1, 1, 1], [0.5, -1, 2]]]
y4 = linear(x, tall)
check_shape("linear(x, W) with W 4 x 3", y4, (4,))
expect_close("linear(x, [[1, 0, 0], [0, 0, 1], [1, 1, 1], [0.5, -1, 2]])", y4,
             [1.0, -2.0, -0.5, -4.0])


# gradient check: the inputs are x (3 numbers) followed by the 6 entries of W, row by row
def linear_loss(inputs):
    xs, ws = inputs[:3], [inputs[3:6], inputs[6:9]]
    y0, y1 = linear(xs, ws)
    return y0 * 0.7 + y1 * -1.3


print("\ngradient check of 0.7 * y[0] - 1.3 * y[1] with respect to x and W:")
gradient_check(linear_loss, [1.0, 0.5, -2.0, 1.0, 2.0, 3.0, 0.0, -1.0, 0.5], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_linear
check_linear(linear, Value)
### END HIDDEN TESTS

# %% [markdown]
# The gradient check compares two ways of finding each derivative. The *analytic* one is what `backward()`
# computes with the chain rule. The *numeric* one nudges a single input by a tiny $h$ and measures how the output
# moves, $\bigl(f(x + h) - f(x - h)\bigr) / 2h$. When the two agree to a **relative error below $10^{-6}$**
# (here every error is below $10^{-7}$, the smallest the table shows: what is left is floating-point rounding),
# the gradient is right. A bug in the forward pass or a wrong local gradient typically shows up as an error
# near 1.
#
# ## 3 · Softmax: from scores to probabilities
#
# **Intuition.** The model's last linear layer produces 27 numbers, one per token id. They can be anything:
# negative, positive, large. These raw scores are called **logits**, and a higher logit means "more likely to come
# next". To sample the next token, and to measure how wrong a prediction was, we need a **probability
# distribution**: 27 numbers that are non-negative and add up to 1. Softmax makes one in two steps:
#
# 1. **Exponentiate** every logit. $e^z$ is positive for every $z$, and it keeps the order: a bigger logit gets a
#    bigger number. It also turns *differences* into *ratios*: a logit that is 1 larger becomes $e \approx 2.72$
#    times more likely, whatever the logits' absolute values.
# 2. **Divide by the total**, so the results add up to 1.
#
# The name says what it does: it is a *soft* version of picking the maximum. When one logit is far above the
# rest, nearly all the probability goes to it; when the logits are close, the probability is spread out.
#
# **Math.** For logits $z_0, \dots, z_{n-1}$:
#
# $$p_i = \frac{e^{z_i}}{\sum_{j} e^{z_j}} .$$
#
# **Why subtract the maximum.** Adding the same constant to every logit changes nothing, because the factor it
# introduces cancels between numerator and denominator: for any number $m$,
#
# $$\frac{e^{z_i - m}}{\sum_j e^{z_j - m}} = \frac{e^{-m}\, e^{z_i}}{e^{-m} \sum_j e^{z_j}} = p_i .$$
#
# That freedom matters on a computer. A float cannot exceed about $1.8 \times 10^{308}$<!-- claim: round(sys.float_info.max / 1e308, 1) == 1.8 -->, so $e^{z}$ overflows as
# soon as $z > 709.78$<!-- claim: math.log(sys.float_info.max) -->. Logits that large are rare, but a model whose training has gone wrong can produce them,
# and a crash (or, in array libraries, `inf / inf = nan`) is the last thing we want. Choosing $m = \max_j z_j$
# makes the largest shifted logit exactly 0: every exponent is at most $e^0 = 1$, so nothing overflows, and the
# denominator is at least 1, so it can never be zero either. See it happen in plain Python:

# %%
import math

big_logits = [1000.0, 999.0, 998.0]
try:
    exps = [math.exp(z) for z in big_logits]
    print("exp worked:", exps)
except OverflowError as error:
    print("math.exp(1000.0) raises OverflowError:", error)

m = max(big_logits)
exps = [math.exp(z - m) for z in big_logits]
total = sum(exps)
print("after subtracting the max:", ", ".join(f"{e / total:.6f}" for e in exps))


# %% [markdown]
# One detail: we subtract `m` as a **plain number**, the largest logit's `.data`, not as a `Value`. The output does
# not depend on $m$ at all (that is what the cancellation says), so its true derivative with respect to $m$ is
# zero; treating $m$ as a constant gives exactly the right gradients and keeps the graph smaller.
#
# **Worked example.** Logits $z = (2,\ 1,\ 0.1)$. The maximum is 2, the shifted logits are $(0,\ -1,\ -1.9)$, their
# exponentials are $(1,\ 0.3679,\ 0.1496)$ with total $1.5174$<!-- claim: sum(math.exp(z - 2) for z in (2, 1, 0.1)) -->, so
#
# $$p = (0.6590,\ 0.2424,\ 0.0986).$$<!-- claim: [round(p.data, 4) for p in softmax(to_vector([2, 1, 0.1]))] == [0.6590, 0.2424, 0.0986] -->
#
# The logits $(1002,\ 1001,\ 1000.1)$ differ by the same amounts, so they give the same probabilities.
#
# ### Exercise 2: `softmax` (2 points)
#
# Follow the formula in this order, as the reference does: find `m` from the logits' `.data`, compute
# `(z - m).exp()` for each logit, add them up with `sum`, then divide each exponential by the total.

# %% exercise=softmax
def softmax(logits):
    """Turn n logits into n probabilities that sum to 1.

    Args:
        logits: a list of n Values (any real numbers, possibly large such as 1000).

    Returns:
        A list of n Values p with
            p[i] = exp(z[i] - m) / sum over j of exp(z[j] - m),
        where z[i] is logits[i] and m is the largest logits[j].data (a plain
        float). Compute it as: subtract m from every logit, .exp() each, add
        them up, divide each exponential by that total. The logits are left
        unchanged (z - m is a new Value).

    Example:
        logits [2.0, 1.0, 0.1] as Values -> probabilities with
        .data [0.6590, 0.2424, 0.0986] (rounded);
        [1000.0, 1000.0] -> [0.5, 0.5] (no overflow).
    """
    ### BEGIN SOLUTION
    largest = max(z.data for z in logits)
    exps = [(z - largest).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]
    ### END SOLUTION


# %% tests=softmax points=2
from course_tools import check_probabilities, check_shape, expect_close, expect_value
from course_tools import explain_errors, gradient_check, unchanged


def softmax_of(logits):
    """softmax(logits); an overflow in exp, or Values compared with < or >, is told as its cause."""
    compared = ("Values cannot be compared with < or >: take the largest number instead, "
                "m = max(z.data for z in logits)")
    with explain_errors(f"softmax({[z.data for z in logits]})",
                        OverflowError="exp overflowed on large logits: subtract the largest "
                                      "logit first, m = max(z.data for z in logits)",
                        TypeError=lambda error: "not supported between" in str(error) and compared):
        return softmax(logits)


expected = from_reference[[p.data for p in nn.softmax([Value(2.0), Value(1.0), Value(0.1)])]]
logits = [Value(2.0), Value(1.0), Value(0.1)]
with unchanged("logits", logits):
    p = softmax_of(logits)
check_shape("softmax of 3 logits", p, (3,))
expect_close("softmax([2.0, 1.0, 0.1])", p, expected)
expect_value("softmax([2.0, 1.0, 0.1])[0]", p[0], expected[0])  # a Value, so that gradients flow
check_probabilities(p)
expect_close("softmax([1002.0, 1001.0, 1000.1]) (same gaps, no overflow)",
             softmax_of([Value(1002.0), Value(1001.0), Value(1000.1)]), expected)
expect_close("softmax([1000.0, 1000.0])", softmax_of([Value(1000.0), Value(1000.0)]), [0.5, 0.5])
expect_close("softmax([-1000.0, 0.0])", softmax_of([Value(-1000.0), Value(0.0)]), [0.0, 1.0])
expect_close("softmax([1000.0, 0.0, -1000.0]) (subtract the largest, not the mean)",
             softmax_of([Value(1000.0), Value(0.0), Value(-1000.0)]), [1.0, 0.0, 0.0])
expect_close("softmax([5.0]) (one logit)", softmax_of([Value(5.0)]), [1.0])


# gradient check: the loss -log p[1] of chapter 7; its exact gradient is p - (0, 1, 0, 0)
def softmax_loss(logits):
    return -softmax(logits)[1].log()


print("\ngradient check of -log softmax(z)[1] with respect to the logits:")
gradient_check(softmax_loss, [2.0, 1.0, 0.1, -1.0], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_softmax
check_softmax(softmax, Value)
### END HIDDEN TESTS

# %% [markdown]
# ### Softmax with a temperature
#
# Dividing every logit by a number $T > 0$ before the softmax changes how *confident* the distribution is. With
# $T < 1$ the gaps between logits grow, so the largest logit takes even more of the probability; with $T > 1$ the
# gaps shrink and the distribution flattens towards uniform. $T$ is called the **temperature**; in chapter 8 you
# will generate names with $T = 0.5$, which makes the model stick to its most confident guesses. The chart uses
# your `softmax` on four fixed logits.

# %% claims={"takes about 0.84": "softmax([Value(z / 0.5) for z in logits])[0].data ± 0.01"}
import matplotlib.pyplot as plt

labels = ["a", "e", "o", "x"]
logits = [2.0, 1.0, 0.5, -1.0]
temperatures = [0.5, 1.0, 2.0]

fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
width = 0.25
for k, T in enumerate(temperatures):
    probs = [p.data for p in softmax([Value(z / T) for z in logits])]
    print(f"T = {T}: " + ", ".join(f"{label} {prob:.3f}" for label, prob in zip(labels, probs)))
    ax.bar([i + (k - 1) * width for i in range(len(labels))], probs, width, label=f"T = {T}")
ax.set_xticks(range(len(labels)))
ax.set_xticklabels([f"{label}\n(logit {z})" for label, z in zip(labels, logits)])
ax.set_ylabel("probability")
ax.set_title("softmax(z / T): a low temperature sharpens, a high one flattens")
ax.legend()
show("Bars of softmax probabilities for logits 2, 1, 0.5 and -1 at temperatures 0.5, 1 and 2: at "
     "0.5 the largest logit takes about 0.84, at 2 the four are much closer together.")


# %% [markdown]
# ## 4 · RMSNorm: keeping vectors at a steady size
#
# **Intuition.** Inside the model, a vector of 16 numbers passes through layer after layer. Each linear layer
# multiplies it by weights, and the residual connections of chapter 5 keep *adding* to it, so nothing holds its
# size in check: depending on the weights, its numbers can grow large or shrink towards zero. Either way the next
# layer suffers. Large inputs push softmax into a corner where one probability is almost 1 and the gradients all
# but vanish; tiny inputs carry almost no signal. And because training keeps changing the weights, the size would
# keep drifting, so every layer would have to keep re-adapting to the scale of its input.
#
# **Normalisation** fixes the scale. Before each block, the model rescales its vector to a standard size, so the
# next layer always sees inputs of the same magnitude, whatever happened before. **RMSNorm** (root-mean-square
# normalisation) is the simplest way to do it: divide the vector by its root mean square. It keeps the vector's
# *direction* (the pattern of which entries are large or small, positive or negative) and only changes its
# *length*. Its older cousin LayerNorm also subtracts the mean first; RMSNorm skips that step, is cheaper, and
# works as well in practice, which is why models such as LLaMA use it.
#
# **Math.** For a vector $x$ of $n$ numbers, the root mean square is $\operatorname{rms}(x) = \sqrt{\tfrac{1}{n}\sum_j x_j^2}$, and
#
# $$y_i = \frac{x_i}{\sqrt{\frac{1}{n}\sum_{j} x_j^2 + \varepsilon}}, \qquad \varepsilon = 10^{-5}.$$
#
# Then $\operatorname{rms}(y) \approx 1$. The small $\varepsilon$ keeps the division safe: an all-zero vector gives
# $y = 0$ instead of $0/0$, and very small vectors are not blown up to size 1 (you will see this in the plot
# below). Scaling the input by any $c > 0$ leaves the output unchanged (up to the tiny effect of $\varepsilon$):
# $\operatorname{rmsnorm}(c\,x) = \operatorname{rmsnorm}(x)$.
#
# Many models multiply the result by a learned **gain**, one number per entry: $y_i \cdot g_i$. We leave it out,
# like the original microgpt. In our model two of the three RMSNorms feed straight into linear layers, and a
# linear layer can learn any per-entry scaling in its own weights, so a gain would add little.
#
# **Worked example.** $x = (3,\ -4)$: the mean square is $(9 + 16)/2 = 12.5$, so we divide by
# $\sqrt{12.5 + 10^{-5}} \approx 3.5355$<!-- claim: math.sqrt(12.5 + 1e-5) -->:
#
# $$y \approx (0.8485,\ -1.1314), \qquad \operatorname{rms}(y) \approx \sqrt{(0.72 + 1.28)/2} = 1 .$$<!-- claim: [round(y.data, 4) for y in rmsnorm(to_vector([3, -4]))] == [0.8485, -1.1314] -->
#
# $x = (30,\ -40)$ gives the same $y$ to six digits<!-- claim: [f"{y.data:.6g}" for y in rmsnorm(to_vector([30, -40]))] == [f"{y.data:.6g}" for y in rmsnorm(to_vector([3, -4]))] -->.
#
# ### Exercise 3: `rmsnorm` (2 points)
#
# Compute it in the reference's order: the mean square as `sum(x_i * x_i for x_i in x) / len(x)`, then one scale
# factor `(mean_square + eps) ** -0.5`, then every `x_i * scale`. Computing the scale once, rather than once per
# entry, also keeps the graph small. The tests start with `eps=0.5`, large enough to show at once whether your
# function uses its `eps` argument and adds it inside the square root; leave `x` as it is (build a new list).

# %% exercise=rmsnorm
def rmsnorm(x, eps=1e-5):
    """Rescale a vector so that its root mean square is about 1.

    Args:
        x: a list of n Values.
        eps: a small positive float added to the mean square, so that an
            all-zero x gives zeros instead of dividing by zero.

    Returns:
        A new list of n Values y[i] = x[i] * scale, where
            mean_square = (sum over j of x[j] * x[j]) / n
            scale = (mean_square + eps) ** -0.5
        x is left unchanged.

    Example:
        x = [3.0, -4.0] as Values: mean square 12.5, so
        [y.data for y in rmsnorm(x)] is about [0.848528, -1.131370].
    """
    ### BEGIN SOLUTION
    mean_square = sum(x_i * x_i for x_i in x) / len(x)
    scale = (mean_square + eps) ** -0.5
    return [x_i * scale for x_i in x]
    ### END SOLUTION


# %% tests=rmsnorm points=2
import random

from course_tools import check_rms_near_one, check_shape, expect_close, expect_value
from course_tools import gradient_check, unchanged

x = [Value(3.0), Value(-4.0)]
with unchanged("x", x):
    y = rmsnorm(x, eps=0.5)
check_shape("rmsnorm of 2 values", y, (2,))
# eps = 0.5 first: an eps ignored, fixed at 1e-5 or added outside the square root then changes
# the first two digits (0.848528 or 0.743396 instead of 0.83205); with 1e-5, only the sixth
expect_close("rmsnorm([3.0, -4.0], eps=0.5): a large eps shows whether the eps argument is used "
             "and added inside the square root, (mean_square + eps) ** -0.5", y,
             from_reference[[y.data for y in nn.rmsnorm([Value(3.0), Value(-4.0)], eps=0.5)]])
expect_value("rmsnorm([3.0, -4.0], eps=0.5)[0]", y[0],
             from_reference[nn.rmsnorm([Value(3.0), Value(-4.0)], eps=0.5)[0].data])  # a Value
expect_close("rmsnorm([3.0, -4.0])", rmsnorm([Value(3.0), Value(-4.0)]),
             from_reference[[y.data for y in nn.rmsnorm([Value(3.0), Value(-4.0)])]])
expect_close("rmsnorm([30.0, -40.0]) (same direction, 10 times longer)",
             rmsnorm([Value(30.0), Value(-40.0)]),
             from_reference[[y.data for y in nn.rmsnorm([Value(30.0), Value(-40.0)])]])
expect_close("rmsnorm([0.0, 0.0, 0.0]) (eps avoids 0 / 0)",
             rmsnorm([Value(0.0), Value(0.0), Value(0.0)]), [0.0, 0.0, 0.0])

rng = random.Random(3)
vector = [Value(rng.gauss(0, 5)) for _ in range(16)]
check_rms_near_one(rmsnorm(vector))


# gradient check: a weighted sum of the outputs, so that every input gets a different gradient
def rmsnorm_loss(inputs):
    y = rmsnorm(inputs)
    return y[0] * 0.5 + y[1] * -1.0 + y[2] * 2.0 + y[3] * 0.3


print("\ngradient check of 0.5 y[0] - y[1] + 2 y[2] + 0.3 y[3] with respect to x:")
gradient_check(rmsnorm_loss, [2.0, -1.0, 0.5, 4.0], Value)

### BEGIN HIDDEN TESTS
from autograder.checks import check_rmsnorm
check_rmsnorm(rmsnorm, Value)
### END HIDDEN TESTS

# %% [markdown]
# The plot feeds `rmsnorm` random vectors of 16 numbers whose size ranges over eight powers of ten and compares the
# root mean square that goes in with the one that comes out. For ordinary inputs the output is 1, whatever the
# input. Only for tiny inputs, where the mean square is comparable to $\varepsilon = 10^{-5}$ (an RMS of about
# 0.003<!-- claim: math.sqrt(1e-5) ± 0.0005 -->), does $\varepsilon$ take over: there the output shrinks along with the input instead of being blown up
# to size 1.

# %% claims={"about 0.003": "math.sqrt(1e-5) ± 0.0005", "the output rms is 1": "all(abs(o - 1) < 0.01 for i, o in zip(rms_in, rms_out) if i > 0.03)"}
import random

rng = random.Random(0)


def rms(vector):
    return (sum(v * v for v in vector) / len(vector)) ** 0.5


rms_in, rms_out = [], []
for k in range(120):
    size = 10 ** (-5 + 8 * k / 119)  # from 1e-5 to 1e3, evenly on a log scale
    vector = [Value(rng.gauss(0, size)) for _ in range(16)]
    rms_in.append(rms([v.data for v in vector]))
    rms_out.append(rms([y.data for y in rmsnorm(vector)]))

fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
ax.loglog(rms_in, rms_out, ".", color="tab:blue", label="rmsnorm(x)")
ax.loglog(rms_in, rms_in, ":", color="gray", label="no normalisation: output = input")
ax.axvline(1e-5**0.5, color="tab:red", linestyle="--",
           label=r"rms = $\sqrt{\varepsilon}$ ≈ 0.003")
ax.set_xlabel("rms of the input")
ax.set_ylabel("rms of the output")
ax.set_ylim(1e-4, 1e4)
ax.set_title("RMSNorm brings every vector to rms ≈ 1")
ax.legend(loc="upper left")
show("A log-log plot of the rms of rmsnorm's output against the rms of its input: above an input "
     "rms of about 0.003 the output rms is 1, below it the output shrinks with the input.")

# %% [markdown]
# ## 5 · All three together
#
# Here is a preview of the very end of our GPT. A vector of 16 numbers is normalised, a 27 × 16 linear layer turns
# it into 27 logits, and softmax turns those into a probability for each possible next token. The weights are
# random, drawn the way chapter 4 will draw them: small numbers from a Gaussian with standard deviation 0.08.
#
# Because the weights are small, all 27 logits are close to 0, and softmax spreads the probability fairly evenly:
# every token gets roughly $1/27 \approx 0.037$, within a factor of about two<!-- claim: 1 / 2.2 < smallest * 27 and largest * 27 < 2.2 -->. The loss $-\ln p$ of the true next
# token is then close to $\ln 27 \approx 3.30$<!-- claim: abs(loss.data - math.log(27)) < 0.1 -->, and that is where training starts. One `backward()` call gives a
# gradient to every one of the $27 \times 16 = 432$<!-- claim: nonzero --> weights, and the row of the true token gets by far the largest<!-- claim: mean_abs_grad[target] > 10 * max(others) -->
# ones: following them raises that token's logit and lowers all the others a little.

# %%
import math
import random

rng = random.Random(42)
x = [Value(rng.gauss(0, 1)) for _ in range(16)]
W_out = [[Value(rng.gauss(0, 0.08)) for _ in range(16)] for _ in range(27)]

probs = softmax(linear(rmsnorm(x), W_out))
check_shape("probabilities", probs, (27,))
smallest, largest = min(p.data for p in probs), max(p.data for p in probs)
print(f"probabilities from {smallest:.4f} to {largest:.4f} (1/27 = {1 / 27:.4f})")

target = 4  # say the true next token is "e"
loss = -probs[target].log()
print(f"loss -ln p[{target}] = {loss.data:.4f}   (ln 27 = {math.log(27):.4f})")

loss.backward()
nonzero = sum(w.grad != 0 for row in W_out for w in row)
print(f"weights of W_out with a non-zero gradient: {nonzero} of {27 * 16}")
mean_abs_grad = [sum(abs(w.grad) for w in row) / len(row) for row in W_out]
others = [g for o, g in enumerate(mean_abs_grad) if o != target]
print(f"mean |gradient| on the target's row: {mean_abs_grad[target]:.4f}, "
      f"on the other rows: {sum(others) / len(others):.4f}")

# %% [markdown]
# ## Recap
#
# - A **vector** is a list of `Value`s; a **matrix** is a list of rows, with shape $n_\text{out} \times n_\text{in}$.
# - `linear(x, w)` computes $y_o = \sum_i W_{o,i} x_i$: each output is the dot product of one row with the input.
#   It holds almost all of the model's parameters, and the gradient of a weight is the input it multiplied.
# - `softmax(logits)` exponentiates and normalises, turning scores into probabilities. Subtracting the largest
#   logit first changes nothing mathematically and makes overflow impossible.
# - `rmsnorm(x)` divides by the root mean square (plus $\varepsilon$) so every vector reaches the next layer with
#   an RMS of about 1; it keeps the direction and only changes the length.
# - All three are built from `Value` operations, so `backward()` differentiates them for free, and the gradient
#   checks confirm it to better than $10^{-7}$.
#
# ## What comes next
#
# The building blocks are ready, but they need numbers to multiply by. Chapter 4 creates all of the model's
# **parameters**: the token and position embedding tables, the attention and MLP weight matrices and the output
# layer, each with its shape, drawn at random from a seeded generator. Chapter 5 then puts everything together
# into a GPT.
