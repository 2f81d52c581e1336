"""The loss, Adam, and the whole run against the original microgpt's numbers."""

import json
import math
import random

import pytest
from microgpt import GPTConfig, Value, adam_step, document_loss, init_params, learning_rate

from conftest import PROJECT


def test_loss_of_an_untrained_model_is_near_log_vocab():
    config = GPTConfig(vocab_size=27)
    loss = document_loss([26, 4, 12, 12, 0, 26], init_params(config, random.Random(0)), config)
    assert abs(loss.data - math.log(27)) < 0.5  # small random weights: nearly uniform predictions


def test_loss_counts_at_most_block_size_predictions():
    config = GPTConfig(vocab_size=27, block_size=4)
    state_dict = init_params(config, random.Random(0))
    long = [26] + list(range(10)) + [26]
    assert (
        document_loss(long, state_dict, config).data
        == document_loss(long[:5], state_dict, config).data
    )


def test_adam_first_step_moves_each_weight_by_lr_against_its_gradient():
    params = [Value(1.0), Value(-2.0), Value(0.5)]
    for p, g in zip(params, [0.3, -4.0, 0.0]):
        p.grad = g
    m, v = [0.0] * 3, [0.0] * 3
    adam_step(params, m, v, step=0, num_steps=10, lr=0.1)
    # after bias correction m_hat = g and v_hat = g^2, so the step is lr * sign(g)
    assert [p.data for p in params] == pytest.approx([0.9, -1.9, 0.5])
    assert [p.grad for p in params] == [0, 0, 0]
    assert m == pytest.approx([0.15 * 0.3, 0.15 * -4.0, 0.0])
    assert v == pytest.approx([0.01 * 0.09, 0.01 * 16.0, 0.0])


def test_learning_rate_decays_linearly_to_zero():
    assert [learning_rate(s, 4, 0.01) for s in range(4)] == pytest.approx(
        [0.01, 0.0075, 0.005, 0.0025]
    )


def test_fifty_steps_reproduce_the_original_microgpt_exactly(tmp_path, run_cli):
    golden = json.loads((PROJECT / "tests" / "golden" / "original_seed42_50steps.json").read_text())
    metrics = tmp_path / "m.jsonl"
    result = run_cli("train", "--steps", "50", "--seed", "42", "--metrics", str(metrics))
    assert result.returncode == 0, result.stderr
    losses = [f"{json.loads(line)['loss']:.6f}" for line in metrics.read_text().splitlines()]
    assert losses == golden["losses"]
    samples = [
        line.split(": ", 1)[1] if ": " in line else ""
        for line in result.stdout.splitlines()
        if line.startswith("sample ")
    ]
    assert samples == golden["samples"]


def test_other_sizes_train(tmp_path, run_cli):
    metrics = tmp_path / "m.jsonl"
    result = run_cli(
        "train",
        "--steps",
        "3",
        "--n-embd",
        "8",
        "--n-head",
        "2",
        "--n-layer",
        "2",
        "--block-size",
        "8",
        "--num-samples",
        "2",
        "--metrics",
        str(metrics),
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3]
    assert rows[0]["lr"] == 0.01 and all(r["loss"] > 0 for r in rows)


def test_mean_log_likelihood_is_minus_the_loss_per_predicted_token():
    from microgpt import build_vocab, encode, log_likelihood, mean_log_likelihood

    chars = build_vocab(["abc", "de"])
    config = GPTConfig(vocab_size=len(chars) + 1, block_size=4)
    state_dict = init_params(config, random.Random(1))
    for doc in ["", "ab", "abcde"]:
        n = min(4, len(doc) + 1)
        mean = mean_log_likelihood(doc, state_dict, config, chars)
        assert mean == log_likelihood(doc, state_dict, config, chars) / n
        assert mean == pytest.approx(
            -document_loss(encode(doc, chars), state_dict, config).data, rel=1e-12
        )
