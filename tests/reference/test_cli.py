"""The command line: its contract, and one clear line (exit 2) for every bad input."""

import json

import pytest

import usage_errors
from conftest import PROJECT

CHECKPOINT = PROJECT / "data" / "microgpt-names-1000.json"


def assert_one_line_error(result, *phrases):
    """result is microgpt's answer to bad input: one line naming each of phrases, exit 2
    (tests/usage_errors.py)."""
    usage_errors.assert_one_line_error("microgpt", result.returncode, result.stderr, *phrases)


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "--steps", "0"], "--steps"),
        (["train", "--steps", "ten"], "--steps"),
        (["train", "--n-embd", "10", "--n-head", "4"], "divisible"),
        (["train", "--temperature", "0"], "--temperature"),
        (["train", "--lr", "-1"], "--lr"),
        (
            ["train", "--norm", "batchnorm"],
            "--norm: invalid choice: 'batchnorm' (choose from 'rmsnorm', 'layernorm')",
        ),
        (
            ["train", "--activation", "tanh"],
            "--activation: invalid choice: 'tanh' (choose from 'relu', 'gelu')",
        ),
        (["train", "--data", "/nonexistent/words.txt"], "/nonexistent/words.txt"),
        (["sample"], "--load"),
        (["sample", "--load", "/nonexistent/model.json"], "no such checkpoint"),
        ([], "required"),
        (["fly"], "invalid choice"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(run_cli, args, phrase):
    assert_one_line_error(run_cli(*args), phrase)


@pytest.mark.parametrize(
    "content, phrase",
    [
        ("{not json", "not a readable checkpoint"),
        ('{"format": "other"}', "not a microgpt checkpoint"),
        (
            '{"format": "microgpt-checkpoint", "version": 1, "config": '
            '{"vocab_size": 3}, "chars": ["a", "b"], "state_dict": {}}',
            "corrupt checkpoint",
        ),
    ],
)
def test_a_corrupt_checkpoint_exits_2(run_cli, tmp_path, content, phrase):
    path = tmp_path / "model.json"
    path.write_text(content)
    assert_one_line_error(run_cli("sample", "--load", str(path)), phrase)


def test_an_empty_or_binary_data_file_exits_2(run_cli, tmp_path):
    empty, binary = tmp_path / "empty.txt", tmp_path / "blob.bin"
    empty.write_text("")
    binary.write_bytes(bytes(range(256)))
    assert_one_line_error(run_cli("train", "--data", str(empty)), "no documents")
    assert_one_line_error(run_cli("train", "--data", str(binary)), "binary")


def test_train_on_any_text_file_saves_a_model_that_samples(run_cli, tmp_path):
    words, model, metrics = tmp_path / "words.txt", tmp_path / "model.json", tmp_path / "m.jsonl"
    words.write_text("the\nquick\nbrown\nfox\njumps\nover\nlazy\ndogs\n")
    result = run_cli(
        "train",
        "--data",
        str(words),
        "--steps",
        "5",
        "--num-samples",
        "3",
        "--save",
        str(model),
        "--metrics",
        str(metrics),
    )
    assert result.returncode == 0, result.stderr
    assert [line[:10] for line in result.stdout.splitlines() if line.startswith("sample")] == [
        "sample  1:",
        "sample  2:",
        "sample  3:",
    ]
    assert "trained 5 steps" in result.stdout and "mean loss" in result.stdout
    assert [json.loads(line)["step"] for line in metrics.read_text().splitlines()] == [
        1,
        2,
        3,
        4,
        5,
    ]
    sampled = run_cli("sample", "--load", str(model), "--num-samples", "4", "--seed", "1")
    assert sampled.returncode == 0, sampled.stderr
    assert len(sampled.stdout.splitlines()) == 4


def test_sampling_the_shipped_checkpoint_is_deterministic(run_cli):
    first = run_cli("sample", "--load", str(CHECKPOINT), "--seed", "7", "--temperature", "0.8")
    second = run_cli("sample", "--load", str(CHECKPOINT), "--seed", "7", "--temperature", "0.8")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout and len(first.stdout.splitlines()) == 20


def test_train_with_layernorm_and_gelu_saves_them(run_cli, tmp_path):
    words, model = tmp_path / "words.txt", tmp_path / "model.json"
    words.write_text("ann\nbob\ncyd\n")
    result = run_cli(
        "train",
        "--data",
        str(words),
        "--steps",
        "2",
        "--num-samples",
        "2",
        "--norm",
        "layernorm",
        "--activation",
        "gelu",
        "--save",
        str(model),
    )
    assert result.returncode == 0, result.stderr
    saved = json.loads(model.read_text())
    assert saved["version"] == 2
    assert (saved["config"]["norm"], saved["config"]["activation"]) == ("layernorm", "gelu")
    sampled = run_cli("sample", "--load", str(model), "--num-samples", "2")
    assert sampled.returncode == 0, sampled.stderr
