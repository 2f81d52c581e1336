"""Training checks (chapter 7): document_loss and train_step accept correct implementations, reject
plausible mistakes with a message that points at the cause, and swap in the reference only for the
pieces graded in their own cells."""

import textwrap

import microgpt
import pytest
from microgpt import Value, adam_step, document_loss, empty_kv_cache, gpt, parameters, softmax

from autograder.checks import check_document_loss, check_train_step
from mutants import (
    case_tables,
    given,
    notebook,
    notebook_value_class,
    rejection,
    returns_none,
    stub_mistake,
)

# --- document_loss ---


def document_loss_loop(tokens, state_dict, config):
    keys, values = empty_kv_cache(config)
    n = min(config.block_size, len(tokens) - 1)
    total = Value(0.0)
    for t in range(n):
        probs = softmax(gpt(tokens[t], t, keys, values, state_dict, config))
        total = total - probs[tokens[t + 1]].log()
    return total / n


CACHE = empty_kv_cache(microgpt.GPTConfig(vocab_size=27, n_layer=2))


def make_loss(mistake):
    """document_loss with one named mistake."""

    def document_loss(tokens, state_dict, config):
        if mistake == "pops the end":
            tokens.pop()
            tokens = tokens + [tokens[0]]
        keys, values = empty_kv_cache(config)
        if mistake == "one cache for every call":
            keys, values = CACHE
        n = (
            len(tokens) - 1
            if mistake == "no truncation"
            else min(config.block_size, len(tokens) - 1)
        )
        losses = []
        for t in range(n):
            if mistake == "a fresh cache per position":
                keys, values = empty_kv_cache(config)
            probs = softmax(gpt(tokens[t], t, keys, values, state_dict, config))
            target = tokens[t] if mistake == "predicts the current token" else tokens[t + 1]
            losses.append(
                probs[target].log() if mistake == "no minus sign" else -probs[target].log()
            )
        loss = sum(losses) if mistake == "sum" else sum(losses) / n
        if mistake == "runs backward":
            loss.backward()
        return loss.data if mistake == "returns .data" else loss

    document_loss.__name__ = f"document_loss with {mistake}"
    return document_loss


# --- train_step ---


def train_step_keywords(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
    loss = document_loss(tokens, state_dict, config)
    value = loss.data
    loss.backward()
    adam_step(params, m, v, step=step, num_steps=num_steps, lr=lr)
    return value


def make_train_step(mistake):
    """train_step with one named mistake."""

    def train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
        loss = document_loss(tokens, state_dict, config)
        if mistake == "update before backward":
            adam_step(params, m, v, step, num_steps, lr)
        if mistake != "no backward":
            loss.backward()
        if mistake == "backward twice":
            loss.backward()
        if mistake == "default lr":
            adam_step(params, m, v, step, num_steps)
        elif mistake == "step + 1":
            adam_step(params, m, v, step + 1, num_steps, lr)
        elif mistake != "update before backward":
            adam_step(params, m, v, step, num_steps, lr)
        if mistake == "loss after the update":
            return document_loss(tokens, state_dict, config).data
        if mistake == "fresh moments":
            fresh = [0.0] * len(params)
            m[:], v[:] = fresh, list(fresh)
        if mistake == "appends BOS":
            tokens.append(tokens[0])
        return loss if mistake == "returns the Value" else loss.data

    train_step.__name__ = f"train_step with {mistake}"
    return train_step


def train_step_own_params(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
    loss = document_loss(tokens, state_dict, config)
    loss.backward()
    # the same Values, in the same order
    adam_step(parameters(state_dict), m, v, step, num_steps, lr)
    return float(loss.data)


CASES = {
    "document_loss": (
        check_document_loss,
        [document_loss, document_loss_loop],
        [
            (make_loss("sum"), "Average over the predictions"),
            (make_loss("no minus sign"), "minus the log probability"),
            (make_loss("predicts the current token"), "predicts the next token, tokens[t + 1]"),
            (make_loss("a fresh cache per position"), "Use one KV cache for the whole document"),
            (make_loss("no truncation"), "n = min(block_size, len(tokens) - 1)"),
            (make_loss("returns .data"), "returned the number"),
            (make_loss("runs backward"), "do not call backward in it"),
            (make_loss("one cache for every call"), "a second time, on the same weights"),
            (make_loss("pops the end"), "changed its input: tokens had 4 items and now has 3"),
            (returns_none, "returned None: did you forget return?"),
        ],
    ),
    "train_step": (
        check_train_step,
        [microgpt.train_step, train_step_keywords, train_step_own_params],
        [
            (make_train_step("returns the Value"), "return loss.data"),
            (make_train_step("no backward"), "The parameters did not change"),
            (make_train_step("default lr"), "Pass lr on to adam_step"),
            (make_train_step("step + 1"), "Pass step on to adam_step as it is"),
            (make_train_step("loss after the update"), "before the update"),
            (make_train_step("update before backward"), "The parameters did not change"),
            (make_train_step("backward twice"), "Backpropagate the loss once"),
            (make_train_step("fresh moments"), "left m and v unchanged"),
            (make_train_step("appends BOS"), "changed its input: tokens had"),
            (returns_none, "returned None: did you forget return?"),
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


def test_chapter_7_grades_train_step_with_the_reference_loss_and_the_given_optimiser():
    value_cls = notebook_value_class()
    learner = notebook(
        given(microgpt.learning_rate, microgpt.adam_step)
        + textwrap.dedent("""
        def document_loss(tokens, state_dict, config):
            raise NotImplementedError()

        def train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
            loss = document_loss(tokens, state_dict, config)
            loss.backward()
            adam_step(params, m, v, step, num_steps, lr)
            return loss.data
        """),
        Value=value_cls,
    )
    check_train_step(learner["train_step"], value_cls)
    assert "NotImplementedError" in rejection(
        check_document_loss, learner["document_loss"], value_cls
    )


def test_a_broken_given_optimiser_is_not_hidden_by_the_train_step_check():
    learner = notebook(
        """
        def adam_step(params, m, v, step, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
            pass

        def train_step(tokens, state_dict, params, m, v, step, num_steps, config, lr=0.01):
            loss = document_loss(tokens, state_dict, config)
            loss.backward()
            adam_step(params, m, v, step, num_steps, lr)
            return loss.data
        """,
        document_loss=document_loss,
    )
    assert "The parameters did not change" in rejection(check_train_step, learner["train_step"])
