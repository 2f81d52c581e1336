"""The three building blocks of the model: linear layers, softmax and RMSNorm.

Vectors are lists of `Value`s; a matrix is a list of rows (n_out x n_in).
"""


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
