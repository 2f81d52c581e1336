# %% [markdown]
# # Chapter 1 · Autograd: numbers that remember where they came from
#
# A GPT learns by adjusting a few thousand numbers, its **parameters**, a little at a time, so that its guesses
# about the next letter get better. To know which way to move each number, it needs the **derivative** of its
# error with respect to every one of them, on every training step. In this chapter you build the machine that
# computes all those derivatives at once: a small **automatic differentiation** engine, the same idea that sits at
# the heart of PyTorch and JAX, in about forty lines of plain Python. Everything in the later chapters (the
# layers, the attention, the loss) is built from the six operations you write here, and trained with your
# `backward`.
#
# **Goals.** By the end of this chapter you will
#
# - see any calculation as a **computation graph** and run the **chain rule** backwards through it;
# - give a `Value` class the six primitive operations a GPT needs, `+`, `*`, `**`, `log`, `exp` and `relu`, each
#   recording its **local derivatives**;
# - write `backward()`, which puts the graph in **topological order** and **accumulates** gradients;
# - check any gradient against a measured one (central differences).
#
# **Time:** about 75 minutes.
#
# **Graded exercises: 10 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `value_add(self, other)` | `a + b`, local derivatives 1 and 1 | 1 |
# | `value_mul(self, other)` | `a * b`, local derivatives b and a | 1 |
# | `value_pow(self, exponent)` | `a ** n` for a plain number n | 1 |
# | `value_log(self)` | natural logarithm | 1 |
# | `value_exp(self)` | exponential | 1 |
# | `value_relu(self)` | `max(0, a)` | 1 |
# | `backward(self)` | fill in `.grad` on every node of the graph | 4 |

# %% [markdown] passage=how_to_work

# %% fetch

# %% [markdown]
# ## 1 · Why derivatives, and why not simply measure them?
#
# Training a model means making a number smaller: the **loss** $L$, which measures how wrong the model's
# predictions are. The loss depends on every parameter. The derivative $\frac{\partial L}{\partial w}$ of the loss
# with respect to one parameter $w$ says how fast $L$ changes when $w$ moves a little while everything else stays
# put. If it is positive, a small step *down* in $w$ lowers the loss; if it is negative, a small step *up* does.
# **Gradient descent** applies this to every parameter at once, over and over:
#
# $$w \leftarrow w - \eta\,\frac{\partial L}{\partial w},$$
#
# where the **learning rate** $\eta$ is a small number such as $0.01$. The list of all these derivatives is the
# **gradient**, and every parameter's derivative is called its *grad*.
#
# The most direct way to find a derivative is to **measure** it: nudge $w$ a tiny bit up and down and see how much
# the loss changes. This is the **central difference**
#
# $$\frac{\partial L}{\partial w} \approx \frac{L(w + h) - L(w - h)}{2h}, \qquad h \text{ small, say } 10^{-6}.$$
#
# Let us try it on $f(x) = x^2 - 3x$. By hand, $f'(x) = 2x - 3$, so the slope at $x = 2$ is exactly $1$.

# %%
from course_tools import expect_close, show  # the course's checks; they also make errors readable


def numeric_derivative(f, x, h=1e-6):
    """The slope of f at x, measured: the central difference (f(x + h) - f(x - h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def f(x):
    return x * x - 3 * x


measured = numeric_derivative(f, 2.0)
print(f"measured slope of x^2 - 3x at x = 2: {measured:.12f}")
print(f"exact slope 2x - 3 at x = 2:         {2 * 2.0 - 3:.12f}")
expect_close("measured slope at x = 2", measured, 1.0)

# %% [markdown]
# Measuring works, and this chapter uses it all along to **check** derivatives. It is the wrong tool for
# **training**, though. The GPT of chapter 5 has 4,192<!-- claim: sum(r * c for r, c in reference("model").param_shapes(reference("model").GPTConfig(vocab_size=27)).values()) --> parameters, so measuring every derivative would take two
# runs of the model per parameter: more than 8,000 runs<!-- claim: 2 * sum(r * c for r, c in reference("model").param_shapes(reference("model").GPTConfig(vocab_size=27)).values()) > 8000 --> for a single training step. And every measured value
# carries a little rounding error.
#
# **Reverse-mode automatic differentiation** (*backpropagation*, in neural networks) gets every derivative
# exactly, and all of them for roughly the cost of one extra pass over the calculation. The rest of the chapter
# builds it.
#
# ## 2 · Computation graphs and the chain rule
#
# Every calculation, however large, is made of small steps. Take three inputs $a = 2$, $b = -3$, $c = 10$ and
#
# $$e = a \cdot b = -6, \qquad d = e + c = 4, \qquad L = d^2 = 16 .$$
#
# Draw each number as a node and draw an arrow from each input of a step to its result:
#
# ```
# a ──┐
#     ├─(*)─→ e ──┐
# b ──┘           ├─(+)─→ d ──(**2)─→ L
# c ──────────────┘
# ```
#
# This is a **computation graph**. We call the inputs of a step its **children** (the nodes it was computed from).
#
# Each step on its own is easy to differentiate. These derivatives of one step with respect to its own inputs are
# its **local derivatives** (or local gradients):
#
# $$\frac{\partial e}{\partial a} = b = -3, \quad \frac{\partial e}{\partial b} = a = 2, \qquad
# \frac{\partial d}{\partial e} = 1, \quad \frac{\partial d}{\partial c} = 1, \qquad \frac{\partial L}{\partial d} = 2d = 8 .$$
#
# The **chain rule** combines them: to find how $L$ depends on $a$, multiply the local derivatives along the path
# from $L$ back to $a$:
#
# $$\frac{\partial L}{\partial a} = \frac{\partial L}{\partial d}\cdot\frac{\partial d}{\partial e}\cdot\frac{\partial e}{\partial a} = 8 \cdot 1 \cdot (-3) = -24 .$$
#
# Read it as a chain of exchange rates: $L$ moves 8 times as much as $d$; $d$ moves exactly as much as $e$; $e$
# moves $-3$ times as much as $a$. So $L$ moves $-24$ times as much as $a$. Likewise
# $\frac{\partial L}{\partial b} = 8 \cdot 1 \cdot 2 = 16$ and $\frac{\partial L}{\partial c} = 8 \cdot 1 = 8$.
#
# Notice that the products share their beginnings: $\frac{\partial L}{\partial e} = 8$ is needed for both $a$ and
# $b$. So work **backwards from $L$**: first $\frac{\partial L}{\partial L} = 1$, then $\frac{\partial L}{\partial d}$,
# then $\frac{\partial L}{\partial e}$ and $\frac{\partial L}{\partial c}$, then $a$ and $b$. Each node passes its
# own gradient, multiplied by a local derivative, to each child. One backward sweep gives every derivative.
#
# One more case. A node can feed **several** later nodes, like $a$ in $a \cdot b + a$. Then a change in $a$ reaches
# the output along several paths, and the effects **add up**. In general, with $p$ running over the nodes that use
# $x$ directly:
#
# $$\frac{\partial L}{\partial x} = \sum_{p} \frac{\partial L}{\partial p}\,\frac{\partial p}{\partial x}.$$
#
# So for the engine, every node must remember four things: its value, its children, its local derivative with
# respect to each child, and a slot for its own gradient $\frac{\partial L}{\partial \text{node}}$, which
# `backward` fills in.
#
# ## 3 · The `Value` class
#
# A `Value` wraps one number and holds exactly those four things:
#
# | attribute | meaning | set by |
# |---|---|---|
# | `data` | the number itself | the operation that made the node |
# | `grad` | $\partial L / \partial$ this node, 0 until `backward` runs | `backward` |
# | `_children` | the nodes this one was computed from (a tuple) | the operation |
# | `_local_grads` | $\partial$ this node $/ \partial$ each child, same order (a tuple of numbers) | the operation |
#
# A number you create yourself, `Value(2.0)`, is a **leaf**: no children, no local gradients. The class uses
# `__slots__`, which allows exactly these four attributes: a GPT builds hundreds of thousands of nodes per training
# step, and slots keep each one small (and turn a typo like `node.grads = 1` into an error instead of a silent bug).
#
# The class is given below with the constructor, a readable `repr`, and the **derived operations**. These are
# written in terms of the six primitives you will add, so they start working as soon as your primitives do:
#
# | you write | Python calls | which the class computes as |
# |---|---|---|
# | `-a` | `a.__neg__()` | `a * -1` |
# | `a - b` | `a.__sub__(b)` | `a + (-b)` |
# | `a / b` | `a.__truediv__(b)` | `a * b**-1` |
# | `3 + a` | `a.__radd__(3)` | `a + 3` |
# | `3 * a` | `a.__rmul__(3)` | `a * 3` |
# | `3 - a`, `3 / a` | `a.__rsub__(3)`, `a.__rtruediv__(3)` | `3 + (-a)`, `3 * a**-1` |
#
# The `r` versions exist because for `3 + a`, Python first asks the number `3` to add a `Value`, which it cannot;
# Python then asks `a` instead, through `a.__radd__(3)`.

# %% given=microgpt.autograd:Value(__slots__,__init__,__repr__,__neg__,__radd__,__sub__,__rsub__,__rmul__,__truediv__,__rtruediv__)

# %% [markdown]
# Nodes can be built by hand by passing children and local gradients to the constructor. Here is $e = a \cdot b$
# built by hand; your multiplication will do exactly this for you.

# %%
a = Value(2.0)
b = Value(-3.0)
e = Value(a.data * b.data, (a, b), (b.data, a.data))  # e = a * b; de/da = b, de/db = a
print(e)
print("children:   ", e._children)
print("local grads:", e._local_grads)


# %% [markdown]
# ## 4 · The six primitive operations
#
# Every primitive follows the same recipe:
#
# 1. **forward**: compute the result from the children's `.data`;
# 2. **local derivatives**: evaluate the derivative of the result with respect to each child, at the current
#    values, as plain numbers;
# 3. return `Value(result, children, local_grads)`, with the children and their local gradients as tuples in the
#    same order.
#
# An operation never touches `.grad`: it only **records**. `backward` uses the records later.
#
# You write each operation as an ordinary function whose first parameter is `self`, and the line after it attaches
# the function to the class, as in `Value.__add__ = value_add`. That is all a `def __add__(self, other):` inside
# the class body does; writing them one at a time gives each piece its own test.
#
# ### 4.1 · Addition
#
# **Intuition.** If $a$ moves by a small amount $\varepsilon$, then $a + b$ moves by exactly $\varepsilon$; the same
# holds for $b$. Addition passes changes through unchanged, from either side. In `backward` this makes a sum hand
# its gradient, unchanged, to each of its inputs.
#
# **Math.** $c = a + b$, so $\dfrac{\partial c}{\partial a} = 1$ and $\dfrac{\partial c}{\partial b} = 1$.
#
# **Worked example.** `Value(2.0) + Value(-3.5)` has `data` $-1.5$, children `(a, b)` and local gradients `(1, 1)`.
#
# **Plain numbers.** `a + 1` must work too. If `other` is not a `Value`, wrap it first: `Value(other)` is a leaf
# like any other (its gradient gets computed too; nobody looks at it). `1 + a` then works through the given
# `__radd__`.
#
# ### Exercise 1: `value_add` (1 point)

# %% exercise=value_add
def value_add(self, other):
    """self + other, as a new Value that records how it was made.

    Args:
        self: a Value.
        other: a Value or a plain number (int or float); wrap a number in Value(other).

    Returns:
        Value(data, children, local_grads) with data = self.data + other.data,
        children = (self, other) and local_grads = (1, 1): the derivatives of the
        sum with respect to self and to other.

    Example:
        c = Value(2.0) + Value(-3.5)  ->  c.data == -1.5, c._local_grads == (1, 1)
    """
    ### BEGIN SOLUTION
    other = other if isinstance(other, Value) else Value(other)
    return Value(self.data + other.data, (self, other), (1, 1))
    ### END SOLUTION


Value.__add__ = value_add

# %% tests=value_add points=1
from course_tools import expect_value, explain_errors

a, b = Value(2.0), Value(-3.5)
expect_value("a + b", a + b, -1.5, children=(a, b), local_grads=(1, 1))
expect_value("b + a", b + a, -1.5, children=(b, a), local_grads=(1, 1))
with explain_errors("a + 4", AttributeError="4 is a plain number, with no .data: wrap it in "
                    "Value first (other = other if isinstance(other, Value) else Value(other))"):
    plus_four = a + 4
expect_value("a + 4: a plain number on the right", plus_four, 6.0, local_grads=(1, 1))
expect_value("4 + a: a plain number on the left", 4 + a, 6.0, local_grads=(1, 1))

### BEGIN HIDDEN TESTS
from autograder.checks import check_value_add
check_value_add(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### 4.2 · Multiplication
#
# **Intuition.** If $a$ moves by $\varepsilon$, then $a \cdot b$ moves by $b\,\varepsilon$: the change in one factor is
# scaled by the *other* factor. In `backward`, each input of a product receives the product's gradient times the
# other input.
#
# **Math.** $c = a \cdot b$, so $\dfrac{\partial c}{\partial a} = b$ and $\dfrac{\partial c}{\partial b} = a$.
#
# **Worked example.** `Value(2.0) * Value(-3.5)` has `data` $-7.0$ and local gradients `(-3.5, 2.0)`: the first
# is `other.data`, the second `self.data`.
#
# Store the local gradients as plain numbers (`other.data`, not `other`): they are values of a derivative at this
# point, not new nodes of the graph. Plain numbers are allowed for `other`, exactly as in addition.
#
# ### Exercise 2: `value_mul` (1 point)

# %% exercise=value_mul
def value_mul(self, other):
    """self * other, as a new Value that records how it was made.

    Args:
        self: a Value.
        other: a Value or a plain number (int or float); wrap a number in Value(other).

    Returns:
        Value(data, children, local_grads) with data = self.data * other.data,
        children = (self, other) and local_grads = (other.data, self.data),
        plain numbers (not the nodes other and self).

    Example:
        c = Value(2.0) * Value(-3.5)  ->  c.data == -7.0, c._local_grads == (-3.5, 2.0)
    """
    ### BEGIN SOLUTION
    other = other if isinstance(other, Value) else Value(other)
    return Value(self.data * other.data, (self, other), (other.data, self.data))
    ### END SOLUTION


Value.__mul__ = value_mul

# %% tests=value_mul points=1
from course_tools import expect_value, explain_errors

a, b = Value(2.0), Value(-3.5)
expect_value("a * b", a * b, -7.0, children=(a, b), local_grads=(-3.5, 2.0))
expect_value("b * a", b * a, -7.0, children=(b, a), local_grads=(2.0, -3.5))
with explain_errors("a * 3", AttributeError="3 is a plain number, with no .data: wrap it in "
                    "Value first (other = other if isinstance(other, Value) else Value(other))"):
    times_three = a * 3
expect_value("a * 3: a plain number on the right", times_three, 6.0, local_grads=(3, 2.0))
expect_value("3 * a: a plain number on the left", 3 * a, 6.0, local_grads=(3, 2.0))
expect_value("-a: negation, given, is a * -1", -a, -2.0, local_grads=(-1, 2.0))

### BEGIN HIDDEN TESTS
from autograder.checks import check_value_mul
check_value_mul(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### 4.3 · Powers with a number exponent
#
# **Intuition.** Squaring makes big numbers grow fast: near $a = 3$, $a^2$ changes about $6$ times as fast as $a$.
# The power rule says how fast in general.
#
# **Math.** For a plain number $n$ (an `int` or `float`, not a `Value`):
# $c = a^n$, so $\dfrac{\partial c}{\partial a} = n\,a^{n-1}$.
#
# The exponent is a fixed number, not a node of the graph, so the result has **one** child, `self`. Powers also
# give us division for free: the given `__truediv__` computes `a / b` as `a * b**-1`, and
# $\frac{\partial}{\partial b} b^{-1} = -b^{-2}$. Square roots are `a**0.5`, with derivative $\frac{1}{2}a^{-1/2}$.
#
# **Worked example.** `Value(2.0) ** 3` has `data` $8.0$ and local gradient $3 \cdot 2^2 = 12.0$;
# `Value(2.0) ** -1` has `data` $0.5$ and local gradient $-1 \cdot 2^{-2} = -0.25$.
#
# ### Exercise 3: `value_pow` (1 point)

# %% exercise=value_pow
def value_pow(self, exponent):
    """self ** exponent for a plain-number exponent, as a new Value.

    Args:
        self: a Value.
        exponent: an int or a float (not a Value).

    Returns:
        Value(data, children, local_grads) with data = self.data ** exponent,
        children = (self,) and local_grads = (exponent * self.data ** (exponent - 1),),
        a plain number computed from self.data; a zero base works too (no division).

    Example:
        c = Value(2.0) ** 3  ->  c.data == 8.0, c._local_grads == (12.0,)
        Value(0.0) ** 2      ->  data 0.0, local grads (0.0,)
    """
    ### BEGIN SOLUTION
    return Value(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),))
    ### END SOLUTION


Value.__pow__ = value_pow

# %% tests=value_pow points=1
from course_tools import expect_value, explain_errors

a = Value(2.0)
with explain_errors("a ** 3", RecursionError="expected a result: its local gradient uses ** on "
                    "a Value, which calls value_pow again without end (compute "
                    "exponent * self.data ** (exponent - 1), a plain number)"):
    cube = a**3
expect_value("a ** 3", cube, 8.0, children=(a,), local_grads=(3 * 2.0**2,))
expect_value("a ** -1", a**-1, 0.5, children=(a,), local_grads=(-1 * 2.0**-2,))
expect_value("a ** 0.5, the square root", a**0.5, 2.0**0.5, local_grads=(0.5 * 2.0**-0.5,))
expect_value("Value(-3.0) ** 2", Value(-3.0) ** 2, 9.0, local_grads=(-6.0,))
# 0 ** 2 is 0, with derivative 2 * 0 ** 1 = 0: nothing to divide by
with explain_errors("Value(0.0) ** 2", ZeroDivisionError="expected data 0.0: compute "
                    "n * a.data ** (n - 1) as it stands, without dividing by a.data"):
    zero_squared = Value(0.0) ** 2
expect_value("Value(0.0) ** 2: a zero base", zero_squared, 0.0, local_grads=(0.0,))

### BEGIN HIDDEN TESTS
from autograder.checks import check_value_pow
check_value_pow(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### 4.4 · The natural logarithm
#
# **Why a GPT needs it.** The training loss is $-\ln p$, where $p$ is the probability the model gave to the
# letter that really came next: near $0$ when $p$ is close to 1, large when the model was confidently wrong.
#
# **Intuition.** The logarithm grows quickly for small numbers and ever more slowly for large ones: moving from
# 0.01 to 0.02 adds $\ln 2 \approx 0.69$, and so does moving from 100 to 200.
#
# **Math.** $c = \ln a$ for $a > 0$, so $\dfrac{\partial c}{\partial a} = \dfrac{1}{a}$.
#
# **Worked example.** `Value(2.0).log()` has `data` $\ln 2 \approx 0.693147$ and local gradient $0.5$.
#
# Use `math.log` (imported for you at the top of the cell). It raises a `ValueError` for $a \le 0$, and that is
# fine: in a GPT the logarithm is only taken of probabilities, which are positive.
#
# ### Exercise 4: `value_log` (1 point)

# %% exercise=value_log
import math


def value_log(self):
    """The natural logarithm ln(self.data), as a new Value.

    Args:
        self: a Value with self.data > 0.

    Returns:
        Value(data, children, local_grads) with data = math.log(self.data),
        children = (self,) and local_grads = (1 / self.data,).

    Example:
        c = Value(2.0).log()  ->  c.data == 0.6931471805599453, c._local_grads == (0.5,)
    """
    ### BEGIN SOLUTION
    return Value(math.log(self.data), (self,), (1 / self.data,))
    ### END SOLUTION


Value.log = value_log

# %% tests=value_log points=1
import math

from course_tools import expect_value

a = Value(2.0)
expect_value("a.log()", a.log(), math.log(2.0), children=(a,), local_grads=(1 / 2.0,))
expect_value("Value(0.25).log()", Value(0.25).log(), math.log(0.25), local_grads=(1 / 0.25,))
expect_value("Value(1.0).log(): ln 1 is 0", Value(1.0).log(), 0.0, local_grads=(1.0,))

### BEGIN HIDDEN TESTS
from autograder.checks import check_value_log
check_value_log(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### 4.5 · The exponential
#
# **Why a GPT needs it.** Softmax (chapter 3) turns the model's raw scores into probabilities with $e^z$, which is
# positive for every $z$.
#
# **Intuition.** $e^a$ is the function whose slope everywhere equals its own value: the bigger it is, the faster
# it grows.
#
# **Math.** $c = e^a$, so $\dfrac{\partial c}{\partial a} = e^a$, which is the result itself.
#
# **Worked example.** `Value(1.0).exp()` has `data` $e \approx 2.718282$ and local gradient $e$ as well.
#
# ### Exercise 5: `value_exp` (1 point)

# %% exercise=value_exp
def value_exp(self):
    """e ** self.data, as a new Value.

    Args:
        self: a Value.

    Returns:
        Value(data, children, local_grads) with data = math.exp(self.data),
        children = (self,) and local_grads = (math.exp(self.data),).

    Example:
        c = Value(1.0).exp()  ->  c.data == 2.718281828459045 (e),
                                  c._local_grads == (2.718281828459045,)
    """
    ### BEGIN SOLUTION
    return Value(math.exp(self.data), (self,), (math.exp(self.data),))
    ### END SOLUTION


Value.exp = value_exp

# %% tests=value_exp points=1
import math

from course_tools import expect_value

a = Value(1.0)
expect_value("a.exp()", a.exp(), math.e, children=(a,), local_grads=(math.e,))
expect_value("Value(-0.5).exp()", Value(-0.5).exp(), math.exp(-0.5), local_grads=(math.exp(-0.5),))
expect_value("Value(0.0).exp(): e to the 0 is 1", Value(0.0).exp(), 1.0, local_grads=(1.0,))
expect_value("Value(ln 3).exp() gives back 3", Value(math.log(3.0)).exp(), 3.0, local_grads=(3.0,))

### BEGIN HIDDEN TESTS
from autograder.checks import check_value_exp
check_value_exp(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### 4.6 · ReLU
#
# **Why a GPT needs it.** Linear layers only add and scale, and a stack of them is still one linear layer. The
# MLP of each transformer block (chapter 5) puts a **non-linearity** between two linear layers, and ours is the
# simplest one: the *rectified linear unit*, which keeps positive numbers and replaces negative ones with 0.
#
# **Math.** $c = \max(0, a)$, so
#
# $$\frac{\partial c}{\partial a} = \begin{cases} 1 & \text{if } a > 0 \\ 0 & \text{otherwise.} \end{cases}$$
#
# At exactly $a = 0$ the slope is not defined (the graph has a corner); like every deep-learning library we use 0
# there. Store the local gradient as a float: `float(self.data > 0)` gives `1.0` or `0.0`.
#
# **Worked example.** `Value(3.0).relu()` has `data` $3.0$ and local gradient $1.0$;
# `Value(-2.0).relu()` has `data` $0$ and local gradient $0.0$: a negative input gets no gradient at all.
#
# ### Exercise 6: `value_relu` (1 point)

# %% exercise=value_relu
def value_relu(self):
    """max(0, self.data), as a new Value.

    Args:
        self: a Value.

    Returns:
        Value(data, children, local_grads) with data = max(0, self.data),
        children = (self,) and local_grads = (1.0,) if self.data > 0 else (0.0,).

    Example:
        Value(3.0).relu()   ->  data 3.0, local grads (1.0,)
        Value(-2.0).relu()  ->  data 0,   local grads (0.0,)
    """
    ### BEGIN SOLUTION
    return Value(max(0, self.data), (self,), (float(self.data > 0),))
    ### END SOLUTION


Value.relu = value_relu

# %% tests=value_relu points=1
from course_tools import expect_value

a, b = Value(3.0), Value(-2.0)
expect_value("a.relu() for a = 3.0", a.relu(), 3.0, children=(a,), local_grads=(1.0,))
expect_value("b.relu() for b = -2.0", b.relu(), 0.0, children=(b,), local_grads=(0.0,))
expect_value("Value(0.0).relu(): local gradient 0 at the corner", Value(0.0).relu(), 0.0,
             local_grads=(0.0,))

### BEGIN HIDDEN TESTS
from autograder.checks import check_value_relu
check_value_relu(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### All six together
#
# With the primitives in place, every expression built from them, the derived operations included, records its
# whole graph while it computes. Here is a small one: only the forward pass so far, every `grad` still 0.

# %%
x = Value(1.5)
y = Value(-0.5)
print(f"x - y = {(x - y).data:g}, x / y = {(x / y).data:g}, 2 / x = {(2 / x).data:.6g}")

z = (x * y + x**2).exp() / (y.relu() + 2) - x.log()
print(f"z = {z.data:.6g}")
print("z = (...) - x.log() is the sum (...) + (-x.log()); its children hold",
      [f"{child.data:.6g}" for child in z._children])
print("and its local gradients are", z._local_grads)


# %% [markdown]
# ## 5 · `backward`: the chain rule over the whole graph
#
# Now the payoff. Given the final node $L$, `L.backward()` must set `.grad` on **every** node of the graph to
# $\frac{\partial L}{\partial \text{node}}$. Two ideas make it work.
#
# **Each node passes its gradient to its children.** Start with $\frac{\partial L}{\partial L} = 1$. A node whose
# gradient is known hands each child its share, the node's gradient times the local derivative:
#
# ```
# child.grad += local_grad * node.grad
# ```
#
# **`+=`, not `=`.** A node used in several places gets one share from each. Take $b = a + a$: the sum has the
# children `(a, a)` and local gradients `(1, 1)`, so $a$ receives $1$ twice and ends with
# $\frac{\partial b}{\partial a} = 2$, which is right. With `=` the second share would overwrite the first and $a$
# would end with 1. Because of `+=`, gradients also pile up over *repeated* calls of `backward`: before a new
# backward pass on a new graph, reset the grads of the nodes you reuse to 0. The training loop of a later chapter
# does exactly that.
#
# **Order matters: topological order.** A node may pass its gradient on only when that gradient is *complete*,
# that is, after every node that uses it has passed its share. A **topological order** lists the nodes so that
# each one comes after all of its children: leaves first, the output last. Walking that list **backwards** visits
# every node after everything that uses it, which is just what we need.
#
# **Building the order: depth-first search.** Visit a node's children first, then append the node itself. A
# `visited` set makes sure a node that is used twice is listed once:
#
# ```
# order, visited = [], set()
#
# def visit(node):
#     if node not in visited:
#         visited.add(node)
#         for child in node._children:
#             visit(child)
#         order.append(node)      # after all of its children
#
# visit(output)
# ```
#
# This recursive version is correct, and it is fine for every graph in this course: the hidden tests go up to a
# chain 600 nodes deep, and the loss of our GPT on one name is under 300 nodes deep. But every nested call uses a
# little of Python's call stack, which holds about 1,000<!-- claim: sys.getrecursionlimit() ± 100 --> calls by default: a graph with a path longer than that (a
# sum built one `+` at a time over thousands of terms, say) stops with a `RecursionError`. The reference solution
# that later chapters give you does the same depth-first search with an **explicit stack**, a list of nodes still
# to finish, and so handles graphs of any depth. Either way is fine here.
#
# **Math.** With $p$ running over the nodes that use $x$ directly, which the reversed topological order has all
# finished before $x$:
#
# $$\frac{\partial L}{\partial x} = \sum_{p} \frac{\partial L}{\partial p}\,\frac{\partial p}{\partial x} .$$
#
# **Worked example.** $L = a \cdot b + a$ with $a = 2$ and $b = -3$; call the product $e = a \cdot b = -6$, so
# $L = e + a = -4$. A topological order is `[a, b, e, L]`, so backwards:
#
# | step | node | passes on | grads afterwards |
# |---|---|---|---|
# | start | | | $L$: 1 |
# | 1 | $L = e + a$, local `(1, 1)` | $e$ += $1 \cdot 1$, $a$ += $1 \cdot 1$ | $e$: 1, $a$: 1 |
# | 2 | $e = a \cdot b$, local `(-3, 2)` | $a$ += $-3 \cdot 1$, $b$ += $2 \cdot 1$ | $a$: $-2$, $b$: 2 |
# | 3, 4 | $b$, $a$: leaves | nothing | |
#
# Check by hand: $\frac{\partial L}{\partial a} = b + 1 = -2$ and $\frac{\partial L}{\partial b} = a = 2$. Note that
# $a$ was reached twice, and only the sum of both shares is right.
#
# ### Exercise 7: `backward` (4 points)
#
# Build the topological order of all nodes reachable from `self`, set `self.grad = 1`, and walk the order
# backwards, passing gradients to children with `+=`. Use only `data`, `grad`, `_children` and `_local_grads`: the
# tests build their graphs with the constructor alone, so your grade for `backward` does not depend on the six
# operations above (the cell after the tests tries `backward` on expressions built with them).

# %% exercise=backward
def backward(self):
    """Set .grad on every node of the graph that ends in self to d(self)/d(node).

    Args:
        self: the output node (a Value), usually the loss.

    Returns:
        None. Sets self.grad = 1, then visits the nodes output first (a reverse
        topological order), and each node passes node.grad * local_grad to each
        of its children with +=. Nothing is reset: on a fresh graph every node
        ends with d(self)/d(node), the sum over every path to it of the products
        of local gradients (a node used twice gets both shares); a second call on
        the same graph runs the same loop again on the grads the first call left,
        and a second graph sharing a leaf adds its share to that leaf. Keep no
        state between calls: build the order and the visited set anew in each
        call, so that one graph's backward never touches another graph's nodes.

    Example:
        a, b = Value(2.0), Value(-3.0)
        e = Value(-6.0, (a, b), (-3.0, 2.0))    # e = a * b, built by hand
        L = Value(-4.0, (e, a), (1, 1))          # L = e + a
        L.backward()  ->  L.grad == 1, e.grad == 1, a.grad == -2.0, b.grad == 2.0
    """
    ### BEGIN SOLUTION
    order, visited = [], set()

    def visit(node):
        if node not in visited:
            visited.add(node)
            for child in node._children:
                visit(child)
            order.append(node)

    visit(self)
    self.grad = 1
    for node in reversed(order):
        for child, local_grad in zip(node._children, node._local_grads):
            child.grad += local_grad * node.grad
    ### END SOLUTION


Value.backward = backward

# %% tests=backward points=4
from course_tools import expect_close

# the worked example, built with the constructor only
a, b = Value(2.0), Value(-3.0)
e = Value(-6.0, (a, b), (-3.0, 2.0))  # e = a * b
L = Value(-4.0, (e, a), (1, 1))  # L = e + a
L.backward()
expect_close("grads of L, e, a, b", [L.grad, e.grad, a.grad, b.grad], [1, 1, -2.0, 2.0])

# a node used twice: s = x + x, so ds/dx = 2
x_twice = Value(5.0)
s = Value(10.0, (x_twice, x_twice), (1, 1))
s.backward()
expect_close("x.grad for s = x + x", x_twice.grad, 2.0)  # two shares of 1

# a diamond: y = x * 3 and z = x * 4 both feed out = y + z, so dout/dx = 3 + 4
x = Value(1.0)
y = Value(3.0, (x,), (3.0,))
z = Value(4.0, (x,), (4.0,))
out = Value(7.0, (y, z), (1, 1))
out.backward()
expect_close("x.grad through two paths", x.grad, 7.0)
# each call walks its own graph only: s's nodes were not part of out's
expect_close("out.backward() left s's x.grad at 2.0: keep no state between calls (build the "
             "order and the visited set anew in each call)", x_twice.grad, 2.0)

# a second backward on the same graph adds the same gradients again
s.backward()
expect_close("s.backward() a second time adds 2 to x.grad (gradients accumulate)",
             x_twice.grad, 4.0)
# with inner nodes, a second call passes on what the first left in them, as the docstring says:
# y and z hold 1 + 1 = 2 each, so x gets 3 * 2 + 4 * 2 = 14 more
out.backward()
expect_close("out.backward() a second time: x.grad is 7 + 14 (nothing is reset, so y and z "
             "pass on 2 each)", x.grad, 21.0)

### BEGIN HIDDEN TESTS
from autograder.checks import check_backward
check_backward(Value)
### END HIDDEN TESTS

# %% [markdown]
# ### Checking `backward` on expressions built with your operations
#
# The tests above build their graphs with the constructor alone, so that they grade `backward` and nothing else.
# Now the real use: expressions written with your six operations (and the derived ones), differentiated by
# `backward` and compared, input by input, with the slopes that central differences measure. The
# `gradient_check` helper does the measuring and prints a table; a relative error below $10^{-6}$ means the two
# agree.

# %%
from course_tools import gradient_check

examples = [
    ("(a*b + c) ** 2 at a = 2, b = -3, c = 10",
     lambda v: (v[0] * v[1] + v[2]) ** 2, [2.0, -3.0, 10.0]),
    ("(x*y + x**2).exp() / (y.relu() + 2) - x.log() at x = 0.5, y = 0.8",
     lambda v: (v[0] * v[1] + v[0] ** 2).exp() / (v[1].relu() + 2) - v[0].log(), [0.5, 0.8]),
]
for title, function, inputs in examples:
    print(f"\ngradient check of {title}:")
    gradient_check(function, inputs, Value)

# %% [markdown]
# ## 6 · Seeing the gradients flow
#
# The picture below draws the graph of $L = (a \cdot b + a) \cdot c$ with $a = 2$, $b = -3$, $c = 0.5$ after
# `L.backward()`. Each box shows a node's `data` and `grad`; each arrow runs from a child to the node made from it
# and is labelled with its local derivative. Gradients travel the arrows in reverse: a node's `grad` is the sum,
# over its outgoing arrows, of (local derivative $\times$ the `grad` at the arrow's end).
#
# Follow $a$: it feeds the product $e = a \cdot b$ (local derivative $b = -3$) and the sum $d = e + a$ (local
# derivative 1). Both ends have gradient $0.5$<!-- claim: e.grad == d.grad == 0.5 -->, so $a$ collects $-3 \cdot 0.5 + 1 \cdot 0.5 = -1$<!-- claim: a.grad -->.

# %% claims={"a: 2 and -1": "[(n.data, n.grad) for n in (a, b, c, e, d, L)] == [(2, -1), (-3, 1), (0.5, -4), (-6, 0.5), (-4, 0.5), (-2, 1)]"} tags=["nbval-ignore-output"]
import matplotlib.pyplot as plt


def draw_graph(output, names):
    """Draw the graph that ends in output: a box per node (name, data, grad), an arrow per edge."""
    order, seen = [], set()

    def visit(node):  # children before parents, like backward's topological order
        if node not in seen:
            seen.add(node)
            for child in node._children:
                visit(child)
            order.append(node)

    visit(output)
    # columns: an operation sits one column right of its deepest child;
    # a leaf sits just left of its first user
    column, users = {}, {}
    for node in order:
        column[node] = 1 + max((column[c] for c in node._children), default=-1)
        for child in node._children:
            users.setdefault(child, []).append(node)
    for node in order:
        if not node._children and node in users:
            column[node] = min(column[user] for user in users[node]) - 1
    rows = {}
    for node in order:
        rows.setdefault(column[node], []).append(node)
    where = {}
    for col, nodes in rows.items():
        for row, node in enumerate(nodes):
            where[node] = (col * 3.0, 0.9 * ((len(nodes) - 1) / 2 - row))

    fig, ax = plt.subplots(figsize=(9, 3.2))
    for node in order:
        for child, local in zip(node._children, node._local_grads):
            (x0, y0), (x1, y1) = where[child], where[node]
            ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                        arrowprops=dict(arrowstyle="->", color="0.45", shrinkA=30, shrinkB=30))
            label_box = dict(boxstyle="round,pad=0.15", facecolor="white", edgecolor="none")
            ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"local {local:g}", ha="center", va="center",
                    fontsize=8, color="tab:blue", bbox=label_box)
    for node in order:
        x, y = where[node]
        node_box = dict(boxstyle="round,pad=0.4", facecolor="0.95", edgecolor="0.3")
        ax.text(x, y, f"{names[node]}\ndata {node.data:g}\ngrad {node.grad:g}",
                ha="center", va="center", fontsize=9, bbox=node_box)
    ax.set_xlim(-1.2, 3.0 * max(rows) + 1.2)
    ax.set_ylim(-1.1, 1.1)
    ax.axis("off")
    ax.set_title("L = (a*b + a) * c after L.backward(): data flows right, gradients flow left")
    show("The graph of L = (a*b + a) * c after L.backward(): a box per value with its data and "
         "gradient (a: 2 and -1, b: -3 and 1, c: 0.5 and -4, e: -6 and 0.5, d: -4 and 0.5, L: -2 "
         "and 1), and an arrow from each input to its result labelled with the local gradient.")


a, b, c = Value(2.0), Value(-3.0), Value(0.5)
e = a * b
d = e + a
L = d * c
L.backward()
draw_graph(L, {a: "a", b: "b", c: "c", e: "e = a*b", d: "d = e + a", L: "L = d*c"})

# %% [markdown]
# ## 7 · Gradient descent in five lines
#
# Here is what the gradients are for. Find the number $w$ with $w^2 = 2$ by making the loss $L = (w^2 - 2)^2$
# as small as possible: compute $L$, call `backward`, step $w$ against its gradient, and repeat. Note the
# `w.grad = 0` before each backward pass: gradients accumulate.

# %%
w = Value(1.0)
learning_rate = 0.05
for step in range(12):
    loss = (w**2 - 2) ** 2
    w.grad = 0
    loss.backward()
    w.data -= learning_rate * w.grad
    print(f"step {step:2d}: loss {loss.data:<12.6g} dL/dw {w.grad:<+12.6g} w is now {w.data:.6g}")
print(f"sqrt(2) = {2**0.5:.6g}")

# %% [markdown]
# The loop found $\sqrt 2$ knowing nothing about square roots: only how to compute the loss and its gradient.
# Training the GPT is the same loop, with 4,192<!-- claim: sum(r * c for r, c in reference("model").param_shapes(reference("model").GPTConfig(vocab_size=27)).values()) --> numbers instead of one and a loss that measures how well the model
# predicts the next letter of a name.
#
# ## Recap
#
# - A **computation graph** records how a result was computed; each node knows its children and its **local
#   derivatives**.
# - The **chain rule** multiplies local derivatives along each path, and **adds** over the paths:
#   $\frac{\partial L}{\partial x} = \sum_p \frac{\partial L}{\partial p}\frac{\partial p}{\partial x}$.
# - The six primitives (`+`, `*`, `**` with a number exponent, `log`, `exp`, `relu`) each record their result and
#   local gradients; subtraction, negation and division are built from them.
# - `backward` sets the output's grad to 1 and walks a **topological order** backwards, passing
#   `local_grad * node.grad` to each child with `+=`. A recursive depth-first search builds the order; very deep
#   graphs need an explicit stack instead.
# - **Central differences** measure a derivative; they are too slow for training but perfect for checking
#   `backward`.
#
# ## What comes next
#
# Your autograd engine can differentiate anything built from those six operations, and that is all the calculus a
# GPT needs. Chapter 2 turns to the data: 32,033<!-- claim: len(reference("data").load_docs()) --> names, and how to turn text into the numbers (token ids) the
# model reads and writes.
