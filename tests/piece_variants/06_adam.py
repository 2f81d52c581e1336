"""Chapter 06_adam: correct code written differently, and mistakes its visible tests must name (test_visible_contracts)."""

from visible_tests import Variant

CORRECT = [
    Variant("adam_step", "zip and a bias-corrected step size", """
lr_t = learning_rate(step, num_steps, lr)
t = step + 1
for i, (p, mi, vi) in enumerate(zip(params, m, v)):
    m[i] = beta1 * mi + (1 - beta1) * p.grad
    v[i] = beta2 * vi + (1 - beta2) * p.grad * p.grad
    p.data = p.data - lr_t * (m[i] / (1 - beta1 ** t)) / ((v[i] / (1 - beta2 ** t)) ** 0.5 + eps)
    p.grad = 0
"""),
]

MISTAKES = [
    Variant("adam_step", "eps inside the square root", """
lr_t = learning_rate(step, num_steps, lr)
for i, p in enumerate(params):
    m[i] = beta1 * m[i] + (1 - beta1) * p.grad
    v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
    m_hat = m[i] / (1 - beta1 ** (step + 1))
    v_hat = v[i] / (1 - beta2 ** (step + 1))
    p.data -= lr_t * m_hat / (v_hat + eps) ** 0.5
    p.grad = 0
""", says="expected 0.496367"),
]
