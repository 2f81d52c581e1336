"""Adam with bias correction and a linearly decaying learning rate."""


def learning_rate(step, num_steps, lr):
    """lr_t = lr * (1 - step / num_steps), a float: lr at step 0, falling linearly towards 0.

    step: 0-based index of the update, 0 <= step < num_steps, so lr_t > 0 at every step taken.
    """
    return lr * (1 - step / num_steps)


def adam_step(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    """Update every parameter in place from its gradient, then zero the gradient. Returns None.

    params: list of `Value`s; m, v: lists of floats, one per parameter (first and second moments,
    0.0 before the first step), updated in place: m[i] and v[i] are reassigned in the lists given;
    step: 0-based index of this update, 0 <= step < num_steps. For each i, with g = params[i].grad:
        m <- b1 m + (1 - b1) g,   v <- b2 v + (1 - b2) g^2
        p.data <- p.data - lr_t * m_hat / (sqrt(v_hat) + eps),
        lr_t = learning_rate(step, num_steps, lr),
        m_hat = m / (1 - b1^(step+1)),   v_hat = v / (1 - b2^(step+1))
    (m and v keep the uncorrected values)
    then p.grad = 0. The Value objects stay the same (only their data and grad change); nothing
    outside params, m and v is touched.
    """
    lr_t = learning_rate(step, num_steps, lr)
    m_correction = 1 - beta1 ** (step + 1)
    v_correction = 1 - beta2 ** (step + 1)
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
        m_hat = m[i] / m_correction
        v_hat = v[i] / v_correction
        p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
        p.grad = 0
