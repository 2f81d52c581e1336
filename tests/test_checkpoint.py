"""Checkpoints: exact round trips, and the shipped model is what its command makes."""

import random

import pytest

from microgpt import GPTConfig, init_params
from microgpt import checkpoint

from conftest import PROJECT

SHIPPED = PROJECT / "data" / "microgpt-names-1000.json"


def test_round_trip_is_exact(tmp_path):
    config = GPTConfig(vocab_size=4, n_embd=8, n_head=2, n_layer=2, block_size=5)
    state_dict = init_params(config, random.Random(5))
    checkpoint.save(tmp_path / "m.json", config, list("abc"), state_dict, {"steps": 0})
    loaded = checkpoint.load(tmp_path / "m.json")
    assert loaded.config == config and loaded.chars == list("abc") and loaded.meta == {"steps": 0}
    assert {k: [[p.data for p in row] for row in m] for k, m in loaded.state_dict.items()} == \
           {k: [[p.data for p in row] for row in m] for k, m in state_dict.items()}


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


@pytest.mark.slow
def test_shipped_checkpoint_is_remade_exactly_by_its_command(run_cli, tmp_path):
    """`make checkpoint` runs this command; about a minute and a half."""
    remade = tmp_path / "remade.json"
    result = run_cli("train", "--save", str(remade), "--num-samples", "0")
    assert result.returncode == 0, result.stderr
    assert remade.read_text() == SHIPPED.read_text()
