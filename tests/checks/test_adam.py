"""Adam checks (chapter 6): learning_rate and adam_step accept correct implementations, reject
plausible mistakes with a message that points at the cause, and swap in the reference only for the
pieces graded in their own cells."""

import math
import textwrap

import microgpt
import pytest
from microgpt import Value, adam_step, learning_rate

from autograder.checks import check_adam_step, check_learning_rate
from mutants import (
    case_tables,
    given,
    notebook,
    notebook_value_class,
    rejection,
    returns_none,
    stub_mistake,
)

# --- learning_rate ---


def learning_rate_remaining(step, num_steps, lr):
    return lr * (num_steps - step) / num_steps


def learning_rate_subtracted(step, num_steps, lr):
    return lr - lr * step / num_steps


def make_learning_rate(mistake):
    """learning_rate with one named mistake."""

    def learning_rate(step, num_steps, lr):
        if mistake == "no decay":
            return lr
        if mistake == "1-based":
            return lr * (1 - (step + 1) / num_steps)
        if mistake == "num_steps - 1":
            return lr * (1 - step / (num_steps - 1))
        if mistake == "integer division":
            return lr * (1 - step // num_steps)
        if mistake == "fixed lr":
            return 0.01 * (1 - step / num_steps)
        if mistake == "a Value":
            return Value(lr * (1 - step / num_steps))
        return lr * step / num_steps  # the part used up

    learning_rate.__name__ = f"learning_rate with {mistake}"
    return learning_rate


# --- adam_step ---


def adam_two_passes(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    for i, p in enumerate(params):
        m[i] = beta1 * m[i] + (1 - beta1) * p.grad
        v[i] = beta2 * v[i] + (1 - beta2) * p.grad * p.grad
    lr_t = lr * (num_steps - step) / num_steps
    for i, p in enumerate(params):
        m_hat = m[i] / (1 - beta1 ** (step + 1))
        v_hat = v[i] / (1 - beta2 ** (step + 1))
        p.data = p.data - lr_t * m_hat / (math.sqrt(v_hat) + eps)
        p.grad = 0.0


def adam_slices(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    grads = [p.grad for p in params]
    m[:] = [beta1 * a + (1 - beta1) * g for a, g in zip(m, grads)]
    v[:] = [beta2 * b + (1 - beta2) * g**2 for b, g in zip(v, grads)]
    lr_t = microgpt.learning_rate(step, num_steps, lr)
    for p, a, b in zip(params, m, v):
        p.data -= (
            lr_t * (a / (1 - beta1 ** (step + 1))) / ((b / (1 - beta2 ** (step + 1))) ** 0.5 + eps)
        )
        p.grad = 0


def adam_with_learning_rate(
    params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8
):
    lr_t = learning_rate(step, num_steps, lr)
    for i, p in enumerate(params):
        g = p.grad
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g * g
        p.data -= (
            lr_t
            * (m[i] / (1 - beta1 ** (step + 1)))
            / (math.sqrt(v[i] / (1 - beta2 ** (step + 1))) + eps)
        )
        p.grad = 0


def make_adam(mistake):
    """adam_step with one named mistake."""

    def adam_step(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
        if mistake == "fixed hyperparameters":
            lr, beta1, beta2, eps = 0.01, 0.85, 0.99, 1e-8
        if mistake == "betas swapped":
            beta1, beta2 = beta2, beta1
        lr_t = lr if mistake == "no decay" else lr * (1 - step / num_steps)
        t = step if mistake == "bias correction with step" else step + 1
        new_m, new_v = list(m), list(v)
        for i, p in enumerate(params):
            if mistake == "zeroes gradients first":
                p.grad = 0
            new_m[i] = beta1 * m[i] + (1 - beta1) * p.grad
            new_v[i] = beta2 * v[i] + (1 - beta2) * p.grad**2
            m_hat, v_hat = new_m[i] / (1 - beta1**t), new_v[i] / (1 - beta2**t)
            if mistake == "no bias correction":
                m_hat, v_hat = new_m[i], new_v[i]
            if mistake == "stores m_hat":
                new_m[i], new_v[i] = m_hat, v_hat
            if mistake == "eps inside the square root":
                p.data -= lr_t * m_hat / (v_hat + eps) ** 0.5
            elif mistake == "updates with Values":
                p.data = p - lr_t * m_hat / (v_hat**0.5 + eps)
            else:
                p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            if mistake != "keeps gradients":
                p.grad = 0
        if mistake != "rebinds the moments":
            m[:], v[:] = new_m, new_v
        if mistake == "replaces the parameters":
            params[:] = [Value(p.data) for p in params]
        if mistake == "returns the parameters":
            return params

    adam_step.__name__ = f"adam with {mistake}"
    return adam_step


def adam_keyword_only(params, m, v, step, num_steps, *, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
    adam_step(params, m, v, step, num_steps, lr, beta1, beta2, eps)


CASES = {
    "learning_rate": (
        check_learning_rate,
        [learning_rate, learning_rate_remaining, learning_rate_subtracted],
        [
            (make_learning_rate("no decay"), "Decay the learning rate"),
            (make_learning_rate("1-based"), "step is 0-based"),
            (make_learning_rate("num_steps - 1"), "Divide by num_steps, not num_steps - 1"),
            (make_learning_rate("integer division"), "Decay the learning rate"),
            (make_learning_rate("fixed lr"), "Use the lr argument"),
            (make_learning_rate("a Value"), "returned a Value"),
            (make_learning_rate("used up"), "the part already used up"),
            (returns_none, "returned None: did you forget return?"),
        ],
    ),
    "adam_step": (
        check_adam_step,
        [adam_step, adam_two_passes, adam_slices, adam_with_learning_rate],
        [
            (make_adam("no bias correction"), "Correct the bias of the moments"),
            (make_adam("betas swapped"), "beta1 and beta2 are swapped"),
            (make_adam("keeps gradients"), "set p.grad = 0 after the update"),
            (
                make_adam("no decay"),
                "Decay the learning rate: lr_t = learning_rate(step, num_steps, lr)",
            ),
            (make_adam("eps inside the square root"), "eps goes outside the square root"),
            (make_adam("bias correction with step"), "(step is 0-based)"),
            (make_adam("rebinds the moments"), "store the new moments back into the lists"),
            (make_adam("fixed hyperparameters"), "Use the arguments lr, beta1, beta2 and eps"),
            (make_adam("stores m_hat"), "the moments themselves, not m_hat and v_hat"),
            (make_adam("zeroes gradients first"), "using each gradient before zeroing it"),
            (
                make_adam("updates with Values"),
                "expected a number: compute with the numbers p.grad and p.data",
            ),
            (make_adam("replaces the parameters"), "changed the list params"),
            (make_adam("returns the parameters"), "expected None"),
            (adam_keyword_only, "takes 5 positional arguments"),
            (returns_none, "The parameters did not change"),
        ],
    ),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake)


@pytest.mark.parametrize(
    "piece, fn", ALTERNATIVES, ids=[f"{p}-{fn.__name__}" for p, fn in ALTERNATIVES]
)
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize(
    "piece, fn, phrase", MISTAKES, ids=[f"{p}-{fn.__name__}" for p, fn, _ in MISTAKES]
)
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)


def test_chapter_6_grades_adam_step_with_the_reference_learning_rate():
    learner = notebook(
        given(microgpt.optim.adam_step)
        + textwrap.dedent("""
        def learning_rate(step, num_steps, lr):
            raise NotImplementedError()
        """)
    )
    check_adam_step(learner["adam_step"], notebook_value_class())
    assert "NotImplementedError" in rejection(check_learning_rate, learner["learning_rate"])
    assert learner["learning_rate"] is not microgpt.learning_rate  # put back after the check
