"""Checkpoints: exact round trips, and the shipped model is what its command makes."""

import json
import random

import pytest
from microgpt import GPTConfig, checkpoint, init_params

from conftest import PROJECT

SHIPPED = PROJECT / "data" / "microgpt-names-1000.json"
SHIPPED_METRICS = PROJECT / "data" / "microgpt-names-1000.metrics.jsonl"


def test_round_trip_is_exact(tmp_path):
    config = GPTConfig(vocab_size=4, n_embd=8, n_head=2, n_layer=2, block_size=5)
    state_dict = init_params(config, random.Random(5))
    checkpoint.save(tmp_path / "m.json", config, list("abc"), state_dict, {"steps": 0})
    loaded = checkpoint.load(tmp_path / "m.json")
    assert loaded.config == config and loaded.chars == list("abc") and loaded.meta == {"steps": 0}
    assert {k: [[p.data for p in row] for row in m] for k, m in loaded.state_dict.items()} == {
        k: [[p.data for p in row] for row in m] for k, m in state_dict.items()
    }


def test_save_never_makes_a_missing_folder(tmp_path):
    config = GPTConfig(vocab_size=3, n_embd=4, n_head=2, n_layer=1, block_size=3)
    target = tmp_path / "typo" / "m.json"
    with pytest.raises(checkpoint.CheckpointError, match="does not exist"):
        checkpoint.save(target, config, list("ab"), init_params(config, random.Random(0)))
    assert not target.parent.exists()


def test_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "m.json"
    path.write_text('{"format": "microgpt-checkpoint", "version": 99}')
    with pytest.raises(checkpoint.CheckpointError, match="version 99"):
        checkpoint.load(path)


def test_shipped_checkpoint_is_the_default_model():
    shipped = checkpoint.load(SHIPPED)
    assert shipped.config == GPTConfig(vocab_size=27)
    assert "".join(shipped.chars) == "abcdefghijklmnopqrstuvwxyz"
    assert shipped.meta["steps"] == 1000 and shipped.meta["seed"] == 42
    assert json.loads(SHIPPED.read_text())["version"] == 1


def test_shipped_metrics_are_its_loss_curve():
    rows = [json.loads(line) for line in SHIPPED_METRICS.read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 1001))
    assert rows[0]["lr"] == 0.01 and rows[-1]["lr"] == pytest.approx(0.01 / 1000)
    assert rows[-1]["loss"] == checkpoint.load(SHIPPED).meta["final_loss"]


def test_a_model_of_the_original_architecture_is_written_as_version_1(tmp_path):
    config = GPTConfig(vocab_size=3, n_embd=4, n_head=2, block_size=3)
    checkpoint.save(tmp_path / "m.json", config, list("ab"), init_params(config, random.Random(0)))
    payload = json.loads((tmp_path / "m.json").read_text())
    assert payload["version"] == 1 and set(payload["config"]) == set(checkpoint.SHAPE_FIELDS)


@pytest.mark.parametrize(
    "norm, activation", [("layernorm", "relu"), ("rmsnorm", "gelu"), ("layernorm", "gelu")]
)
def test_norm_and_activation_round_trip_as_version_2(tmp_path, norm, activation):
    config = GPTConfig(
        vocab_size=3, n_embd=4, n_head=2, block_size=3, norm=norm, activation=activation
    )
    checkpoint.save(tmp_path / "m.json", config, list("ab"), init_params(config, random.Random(0)))
    assert json.loads((tmp_path / "m.json").read_text())["version"] == 2
    assert checkpoint.load(tmp_path / "m.json").config == config


@pytest.mark.parametrize(
    "version, config, phrase",
    [
        (
            1,
            {
                "vocab_size": 3,
                "n_embd": 4,
                "n_head": 2,
                "n_layer": 1,
                "block_size": 3,
                "norm": "layernorm",
            },
            "a version 1 config has the fields",
        ),
        (
            2,
            {"vocab_size": 3, "n_embd": 4, "n_head": 2, "n_layer": 1, "block_size": 3},
            "a version 2 config has",
        ),
        (
            2,
            {
                "vocab_size": 3,
                "n_embd": 4,
                "n_head": 2,
                "n_layer": 1,
                "block_size": 3,
                "norm": "batchnorm",
                "activation": "relu",
            },
            "norm must be one of 'rmsnorm', 'layernorm'",
        ),
    ],
)
def test_a_config_that_does_not_fit_its_version_is_corrupt(tmp_path, version, config, phrase):
    path = tmp_path / "m.json"
    path.write_text(
        json.dumps(
            {
                "format": "microgpt-checkpoint",
                "version": version,
                "config": config,
                "chars": ["a", "b"],
                "state_dict": {},
            }
        )
    )
    with pytest.raises(checkpoint.CheckpointError, match="corrupt checkpoint") as info:
        checkpoint.load(path)
    assert phrase in str(info.value)


@pytest.mark.slow
def test_shipped_checkpoint_and_metrics_are_remade_exactly_by_their_command(run_cli, tmp_path):
    """`make checkpoint` runs this command; about a minute and a half."""
    remade, metrics = tmp_path / "remade.json", tmp_path / "remade.metrics.jsonl"
    result = run_cli(
        "train", "--save", str(remade), "--metrics", str(metrics), "--num-samples", "0"
    )
    assert result.returncode == 0, result.stderr
    assert remade.read_text() == SHIPPED.read_text()
    assert metrics.read_text() == SHIPPED_METRICS.read_text()
