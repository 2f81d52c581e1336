"""The building blocks of the model: linear layers, softmax, the two norms and GeLU.

Vectors are lists of `Value`s; a matrix is a list of rows (n_out x n_in).
"""

import math

from .autograd import Value

GELU_SCALE = math.sqrt(2 / math.pi)  # the constants of GPT-2's tanh approximation of GeLU
GELU_CUBIC = 0.044715


def linear(x, w):
    """Matrix-vector product without bias.

    x: n_in values; w: n_out rows of n_in weights. Returns n_out values,
    y_o = sum_i w[o][i] * x[i].
    """
    return [sum(w_oi * x_i for w_oi, x_i in zip(w_o, x)) for w_o in w]


def softmax(logits):
    """Turn n logits into n probabilities that sum to 1.

    p_i = exp(z_i - m) / sum_j exp(z_j - m), with m = max_j z_j. Subtracting the
    largest logit changes nothing mathematically but keeps exp from overflowing.
    """
    largest = max(z.data for z in logits)
    exps = [(z - largest).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


def rmsnorm(x, eps=1e-5):
    """Scale a vector of n values to a root mean square of about 1.

    y_i = x_i / sqrt(mean_j x_j^2 + eps); no learned gain.
    """
    mean_square = sum(x_i * x_i for x_i in x) / len(x)
    scale = (mean_square + eps) ** -0.5
    return [x_i * scale for x_i in x]


def layernorm(x, eps=1e-5):
    """Shift a vector of n values to mean 0, then scale it to a standard deviation of about 1.

    y_i = (x_i - mu) / sqrt(sigma^2 + eps), mu = mean_j x_j, sigma^2 = mean_j (x_j - mu)^2 (the
    biased variance, divided by n); no learned gain or bias. It is rmsnorm of the centred vector,
    and computed that way. A constant vector (sigma = 0) gives all zeros.
    """
    mean = sum(x) / len(x)
    return rmsnorm([x_i - mean for x_i in x], eps)


def relu(x):
    """max(0, x) of one Value, as a function like gelu: the Value's own relu method."""
    return x.relu()


def gelu(x):
    """GeLU of one Value, in GPT-2's tanh approximation, as one node with its local gradient.

    gelu(x) = x/2 (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3)
    d gelu/dx = (1 + tanh(u))/2 + x/2 (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    (the exact GeLU, x Phi(x), differs from it by less than 0.001). math.tanh saturates instead of
    overflowing, so any x with |x| < 1e100 works.
    """
    a = x.data
    t = math.tanh(GELU_SCALE * (a + GELU_CUBIC * a * a * a))
    slope = 0.5 * (1 + t) + 0.5 * a * (1 - t * t) * GELU_SCALE * (1 + 3 * GELU_CUBIC * a * a)
    return Value(0.5 * a * (1 + t), (x,), (slope,))
