"""Chapter 6 (Adam): learning_rate and adam_step.

adam_step is checked over several steps in a row with fresh gradients each time, across the range
its docstring allows (step 0 to the last step, zero, tiny, huge and integer gradients,
hyperparameters by keyword and by position); while it runs, learning_rate is the reference's (it is
graded in its own cell).
"""

import math

import microgpt

from .core import (
    about,
    call,
    case_rng,
    data,
    diagnose,
    expect_close,
    expect_returned,
    fail,
    is_node,
    is_number,
    kind,
    reference_pieces,
    show,
)

DEFAULTS = {"lr": 0.01, "beta1": 0.85, "beta2": 0.99, "eps": 1e-8}
UPDATE = (
    "p.data -= lr_t * m_hat / (sqrt(v_hat) + eps), with lr_t = learning_rate(step, num_steps, lr)."
)
LINEAR_DECAY = "lr_t = lr * (1 - step / num_steps): lr at step 0, falling linearly towards 0."


def _expect_number(got, shown, what):
    """got must be a plain number (int or float, not a bool or a Value)."""
    expect_returned(got, shown)
    if is_node(got):
        fail(
            about(
                shown,
                f" returned a Value; expected {what} as a plain "
                "number (use .data, or plain arithmetic).",
            )
        )
    if not is_number(got) or isinstance(got, bool):
        fail(about(shown, f" returned {kind(got)}; expected {what}, a float."))


def _learning_rate_hint(step, num_steps, lr):
    mistakes = [
        ("Decay the learning rate: " + LINEAR_DECAY, lambda: lr),
        (
            "step is 0-based: the first update (step 0) "
            "uses the full lr, so use step, not step + 1.",
            lambda: lr * (1 - (step + 1) / num_steps),
        ),
        (
            "Divide by num_steps, not num_steps - 1: " + LINEAR_DECAY,
            lambda: lr * (1 - step / (num_steps - 1)),
        ),
        (
            "That is the part already used up; the rate is lr * (1 - step / num_steps).",
            lambda: lr * step / num_steps,
        ),
        ("Use the lr argument, not a fixed 0.01.", lambda: 0.01 * (1 - step / num_steps)),
    ]
    return lambda got: diagnose(got, mistakes) or LINEAR_DECAY


def check_learning_rate(fn):
    """learning_rate(step, num_steps, lr) -> lr * (1 - step / num_steps), a float: the first, a
    middle and the last step of short and long runs, a single-step run, several peak rates (an int
    among them)."""
    cases = [
        (0, 10, 0.01),
        (5, 10, 0.01),
        (9, 10, 0.01),
        (0, 1, 0.5),
        (999, 1000, 0.01),
        (250, 1000, 0.05),
        (3, 4, 1),
        (7, 8, 2.5),
    ]
    for step, num_steps, lr in cases:
        shown = f"learning_rate({step}, {num_steps}, {lr})"
        got = call(
            fn,
            (step, num_steps, lr),
            shown,
            "learning_rate",
            [(ZeroDivisionError, "Divide by num_steps: " + LINEAR_DECAY)],
        )
        _expect_number(got, shown, "the learning rate")
        expect_close(
            got,
            microgpt.learning_rate(step, num_steps, lr),
            shown,
            _learning_rate_hint(step, num_steps, lr),
        )


def adam_on_numbers(
    params,
    grads,
    m,
    v,
    step,
    num_steps,
    lr,
    beta1,
    beta2,
    eps,
    corrected=True,
    decayed=True,
    eps_inside=False,
):
    """One Adam step on numbers, optionally with a known mistake: the new params + m + v, one
    list."""
    lr_t = lr * (1 - step / num_steps) if decayed else lr
    m = [beta1 * a + (1 - beta1) * g for a, g in zip(m, grads)]
    v = [beta2 * b + (1 - beta2) * g * g for b, g in zip(v, grads)]
    m_hat = [a / (1 - beta1 ** (step + 1)) for a in m] if corrected else m
    v_hat = [b / (1 - beta2 ** (step + 1)) for b in v] if corrected else v
    scale = [math.sqrt(b + eps) if eps_inside else math.sqrt(b) + eps for b in v_hat]
    return [p - lr_t * a / s for p, a, s in zip(params, m_hat, scale)] + m + v


def _adam_mistakes(before, grads, m, v, step, num_steps, hyper):
    """(hint, what the step gives with that mistake) for the known ways to get Adam wrong."""

    def update(grads=grads, **mistake):
        return lambda: adam_on_numbers(before, grads, m, v, step, num_steps, **{**hyper, **mistake})

    return [
        (
            "The parameters did not change: update p.data (p.data "
            "-= ...) using each gradient before zeroing it.",
            update(grads=[0.0] * len(grads)),
        ),
        (
            "Correct the bias of the moments: m_hat = m / (1 - beta1 ** (step + 1)) and "
            "v_hat = v / (1 - beta2 ** (step + 1)).",
            update(corrected=False),
        ),
        (
            "beta1 and beta2 are swapped: beta1 goes with m (the mean of "
            "the gradients), beta2 with v (the mean of their squares).",
            update(beta1=hyper["beta2"], beta2=hyper["beta1"]),
        ),
        (
            "Decay the learning rate: lr_t = learning_rate(step, num_steps, lr).",
            update(decayed=False),
        ),
        ("eps goes outside the square root: m_hat / (sqrt(v_hat) + eps).", update(eps_inside=True)),
        ("Use the arguments lr, beta1, beta2 and eps, not fixed values.", update(**DEFAULTS)),
    ]


MOMENTS = (
    "m[i] = beta1 * m[i] + (1 - beta1) * grad and v[i] = beta2 * v[i] + "
    "(1 - beta2) * grad ** 2: the moments themselves, not m_hat and v_hat."
)


def _gradient_runs(rng):
    """(num_steps, steps taken, hyperparameters passed, how, gradient maker): the runs adam_step
    goes through; how is 'keyword' or 'position'; the maker draws one gradient per parameter."""
    gaussian = lambda scale: lambda: [0] + [rng.gauss(0, scale) for _ in range(9)]  # noqa: E731
    return [
        (8, 4, {}, "keyword", gaussian(1.0)),
        (5, 3, {"lr": 0.05, "beta1": 0.9, "beta2": 0.95, "eps": 1e-6}, "keyword", gaussian(1.0)),
        (3, 3, {"lr": 0.1, "beta1": 0.8, "beta2": 0.9, "eps": 1e-4}, "position", gaussian(1.0)),
        (4, 2, {}, "keyword", gaussian(1e-10)),  # below eps: sqrt(v_hat) + eps is mostly eps
        (4, 2, {}, "keyword", gaussian(1e6)),
        # ints, as backward leaves
        (2, 2, {}, "keyword", lambda: [rng.choice((-3, -1, 0, 2, 5)) for _ in range(10)]),
    ]


def _expect_numbers(params, m, v, shown):
    """After a step, every p.data, m[i] and v[i] must be a number."""
    for name, items in [("params[i].data", [p.data for p in params]), ("m[i]", m), ("v[i]", v)]:
        bad = next((i for i, x in enumerate(items) if not is_number(x)), None)
        if bad is not None:
            fail(
                about(
                    shown,
                    f" left {name.replace('i', str(bad), 1)} as "
                    f"{kind(items[bad])}; expected a number: compute with the "
                    "numbers p.grad and p.data, not with the Values themselves.",
                )
            )


def check_adam_step(fn, value_cls=None):
    """adam_step(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8) -> None:
    runs of several steps in a row with fresh gradients (zero, tiny, huge and integer ones among
    them), up to the last step, hyperparameters by keyword and by position; the parameters' data,
    the moments m and v (the same lists, updated in place, bias-corrected only for the update),
    every gradient zeroed, the list of parameters and a parameter outside it untouched."""
    rng = case_rng("adam_step")
    cls = value_cls or microgpt.Value
    for num_steps, steps, hyper, how, draw in _gradient_runs(rng):
        start = [rng.gauss(0, 1) for _ in range(10)]
        params, ref_params = [cls(x) for x in start], [microgpt.Value(x) for x in start]
        outside = cls(0.5)
        outside.grad = 0.25
        m, v, ref_m, ref_v = [0.0] * 10, [0.0] * 10, [0.0] * 10, [0.0] * 10
        for step in range(steps):
            grads = draw()
            for p, q, g in zip(params, ref_params, grads):
                p.grad = q.grad = g
            before, m_before, v_before, listed = (
                [p.data for p in params],
                list(m),
                list(v),
                [id(p) for p in params],
            )
            keywords = hyper if how == "keyword" else {}
            args = (params, m, v, step, num_steps) + (() if keywords else tuple(hyper.values()))
            options = "".join(
                [f", {x}" for x in args[5:]] + [f", {k}={x}" for k, x in keywords.items()]
            )
            shown = (
                f"adam_step(params, m, v, {step}, {num_steps}{options}) with params.data = "
                f"{show(before)}, grads = {show(grads)}, m = {show(m_before)}, v = {show(v_before)}"
            )
            with reference_pieces(fn, "learning_rate"):
                got = call(
                    lambda: fn(*args, **keywords),
                    (),
                    shown,
                    "adam_step",
                    [
                        (
                            ZeroDivisionError,
                            "The bias corrections are 1 - beta1 ** (step + 1) and "
                            "1 - beta2 ** (step + 1) (step is 0-based).",
                        )
                    ],
                )
            microgpt.adam_step(ref_params, ref_m, ref_v, step, num_steps, **hyper)
            if got is not None:
                fail(
                    about(
                        shown,
                        f" returned {kind(got)}; expected None: "
                        "adam_step updates params, m and v in place.",
                    )
                )
            if [id(p) for p in params] != listed:
                fail(
                    about(
                        shown,
                        " changed the list params: update each p.data "
                        "in place and keep the same Values in the list.",
                    )
                )
            _expect_numbers(params, m, v, shown)
            mistakes = _adam_mistakes(
                before, grads, m_before, v_before, step, num_steps, {**DEFAULTS, **hyper}
            )
            state = data(params) + m + v
            expect_close(
                data(params),
                data(ref_params),
                shown,
                lambda _: diagnose(state, mistakes) or UPDATE,
                verb="left params.data at",
            )
            for name, mine, ref, old in [("m", m, ref_m, m_before), ("v", v, ref_v, v_before)]:
                if mine == old and ref != old:
                    fail(
                        about(
                            shown,
                            f" left {name} unchanged: store the new moments back into the lists "
                            "(m[i] = ..., v[i] = ...), which the caller keeps for the next step.",
                        )
                    )
                expect_close(
                    mine,
                    ref,
                    shown,
                    lambda _: diagnose(state, mistakes) or MOMENTS,
                    verb=f"left {name} at",
                )
            if any(p.grad != 0 for p in params):
                fail(
                    about(
                        shown,
                        f" left the gradients at {show([p.grad for p in params])}: set p.grad "
                        "= 0 after the update, so that the next backward starts from zero.",
                    )
                )
            if (outside.data, outside.grad) != (0.5, 0.25):
                fail(
                    about(
                        shown,
                        " changed a Value that is not in params: "
                        "update only the parameters in the list given.",
                    )
                )
