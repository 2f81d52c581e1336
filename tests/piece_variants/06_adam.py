"""Chapter 06_adam: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

import re

from visible_tests import Variant

DEFAULTS = {"beta1": 0.85, "beta2": 0.99, "eps": 1e-8}

# the instructor's adam_step with one line changed: each mistake replaces a line of it
ADAM = """
lr_t = learning_rate(step, num_steps, lr)
for i, p in enumerate(params):
    m[i] = beta1 * m[i] + (1 - beta1) * p.grad
    v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
    m_hat = m[i] / (1 - beta1 ** (step + 1))
    v_hat = v[i] / (1 - beta2 ** (step + 1))
    p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
    p.grad = 0
"""


def adam_with(old, new):
    """The instructor's adam_step with old (which occurs once) replaced by new."""
    assert ADAM.count(old) == 1, old
    return ADAM.replace(old, new)


CORRECT = [
    Variant(
        "learning_rate",
        "the remaining share of the run",
        """
remaining = (num_steps - step) / num_steps
return lr * remaining
""",
    ),
    Variant(
        "adam_step",
        "zip and a bias-corrected step size",
        """
lr_t = learning_rate(step, num_steps, lr)
t = step + 1
for i, (p, mi, vi) in enumerate(zip(params, m, v)):
    m[i] = beta1 * mi + (1 - beta1) * p.grad
    v[i] = beta2 * vi + (1 - beta2) * p.grad * p.grad
    p.data = p.data - lr_t * (m[i] / (1 - beta1 ** t)) / ((v[i] / (1 - beta2 ** t)) ** 0.5 + eps)
    p.grad = 0
""",
    ),
    Variant(
        "adam_step",
        "the schedule written inline",
        adam_with("learning_rate(step, num_steps, lr)", "lr * (1 - step / num_steps)"),
    ),
    Variant(
        "adam_step",
        "the lists rewritten by slice assignment, math.sqrt",
        """
import math
lr_t = learning_rate(step, num_steps, lr)
m[:] = [beta1 * a + (1 - beta1) * p.grad for a, p in zip(m, params)]
v[:] = [beta2 * b + (1 - beta2) * p.grad ** 2 for b, p in zip(v, params)]
for p, a, b in zip(params, m, v):
    p.data -= (lr_t * (a / (1 - beta1 ** (step + 1)))
               / (math.sqrt(b / (1 - beta2 ** (step + 1))) + eps))
    p.grad = 0
""",
    ),
]

MISTAKES = [
    Variant(
        "learning_rate",
        "step counted from 1",
        "return lr * (1 - (step + 1) / num_steps)",
        says="expected 0.01",
    ),
    Variant(
        "learning_rate",
        "divided by num_steps - 1",
        "return lr * (1 - step / (num_steps - 1))",
        says="expected 0.005",
    ),
    Variant(
        "learning_rate",
        "the share used up instead of the share left",
        "return lr * step / num_steps",
        says="expected 0.01",
    ),
    Variant(
        "learning_rate",
        "a fixed peak rate instead of lr",
        "return 0.01 * (1 - step / num_steps)",
        says="learning_rate(3, 4, 0.5)",
    ),
    Variant(
        "adam_step",
        "returns its list of parameters",
        ADAM + "return params\n",
        says="expected None",
    ),
    Variant(
        "adam_step",
        "new Values put into params",
        adam_with(
            "    p.data -= lr_t * m_hat / (v_hat**0.5 + eps)\n    p.grad = 0\n",
            "    params[i] = Value(p.data - lr_t * m_hat / (v_hat**0.5 + eps))\n",
        ),
        says="params after the step: item [0] is new; expected the same object",
    ),
    Variant(
        "adam_step",
        "the moments in new local lists",
        adam_with(
            "for i, p in enumerate(params):\n",
            "m, v = list(m), list(v)\nfor i, p in enumerate(params):\n",
        ),
        says="m in place, uncorrected",
    ),
    Variant(
        "adam_step",
        "the bias-corrected moments stored in m and v",
        adam_with(
            "    p.data -= lr_t * m_hat / (v_hat**0.5 + eps)\n",
            "    m[i], v[i] = m_hat, v_hat\n    p.data -= lr_t * m_hat / (v_hat**0.5 + eps)\n",
        ),
        says="m in place, uncorrected",
    ),
    Variant(
        "adam_step",
        "no bias correction",
        adam_with(
            "    p.data -= lr_t * m_hat / (v_hat**0.5 + eps)\n",
            "    p.data -= lr_t * m[i] / (v[i]**0.5 + eps)\n",
        ),
        says="p after the first step",
    ),
    Variant(
        "adam_step",
        "bias correction with step instead of step + 1",
        adam_with("(1 - beta1 ** (step + 1))", "(1 - beta1 ** step)"),
        says="step 0 divided by zero",
    ),
    Variant(
        "adam_step",
        "beta1 and beta2 swapped",
        adam_with(
            "    m[i] = beta1 * m[i] + (1 - beta1) * p.grad\n    v[i] = beta2 * v[i] + (1 - beta2)",
            "    m[i] = beta2 * m[i] + (1 - beta2) * p.grad\n    v[i] = beta1 * v[i] + (1 - beta1)",
        ),
        says="m in place, uncorrected",
    ),
    Variant(
        "adam_step",
        "the learning rate not decayed",
        adam_with("lr_t = learning_rate(step, num_steps, lr)", "lr_t = lr"),
        says="two steps: params",
    ),
    Variant(
        "adam_step",
        "a fixed learning rate instead of lr",
        adam_with("learning_rate(step, num_steps, lr)", "learning_rate(step, num_steps, 0.01)"),
        says="two steps: params",
    ),
    Variant(
        "adam_step",
        "microgpt's hyperparameters instead of the arguments",
        re.sub(r"\b(beta1|beta2|eps)\b", lambda name: str(DEFAULTS[name.group(0)]), ADAM),
        says="all options: params",
    ),
    Variant(
        "adam_step",
        "the gradient not zeroed",
        adam_with("    p.grad = 0\n", ""),
        says="the gradient",
    ),
    Variant(
        "adam_step",
        "the gradient zeroed before the update",
        adam_with("    m[i] = beta1", "    p.grad = 0\n    m[i] = beta1"),
        says="m in place, uncorrected",
    ),
    Variant(
        "adam_step",
        "eps inside the square root",
        adam_with("(v_hat**0.5 + eps)", "(v_hat + eps) ** 0.5"),
        says="gradients below eps",
    ),
    Variant(
        "adam_step",
        "p.data set to a Value (p instead of p.data)",
        adam_with("    p.data -= lr_t", "    p.data = p - lr_t"),
        says="type of p.data",
    ),
]

HIDDEN_ONLY = []
