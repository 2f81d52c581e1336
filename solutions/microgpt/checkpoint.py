"""Saving and loading a trained model as versioned JSON.

JSON writes each float with repr, which round-trips exactly, so a loaded model
computes the same numbers as the saved one.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

from .autograd import Value
from .model import GPTConfig, param_shapes

FORMAT = "microgpt-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint file is missing, unreadable or malformed."""


class Checkpoint(NamedTuple):
    config: GPTConfig
    chars: list
    state_dict: dict
    meta: dict


def save(path, config, chars, state_dict, meta=None):
    """Write the model to path (atomically: a crash never leaves half a file)."""
    payload = {
        "format": FORMAT,
        "version": VERSION,
        "config": {
            "vocab_size": config.vocab_size,
            "n_embd": config.n_embd,
            "n_head": config.n_head,
            "n_layer": config.n_layer,
            "block_size": config.block_size,
        },
        "chars": list(chars),
        "meta": dict(meta or {}),
        "state_dict": {name: [[p.data for p in row] for row in matrix] for name, matrix in state_dict.items()},
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, encoding="utf-8") as tmp:
        json.dump(payload, tmp)
    os.chmod(tmp.name, 0o644)  # temporary files are private; a checkpoint is not
    os.replace(tmp.name, path)


def load(path):
    """Read a checkpoint written by `save`; raises CheckpointError saying what is wrong."""
    path = Path(path)
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such checkpoint") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a microgpt checkpoint")
    if payload.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {payload.get('version')!r}, this code reads {VERSION}")
    try:
        config = GPTConfig(**payload["config"])
        chars = list(payload["chars"])
        weights = payload["state_dict"]
        expected = param_shapes(config)
        if len(chars) + 1 != config.vocab_size or set(weights) != set(expected):
            raise ValueError("vocabulary or weight names do not match the config")
        state_dict = {}
        for name, (rows, cols) in expected.items():
            matrix = weights[name]
            if len(matrix) != rows or any(len(row) != cols for row in matrix):
                raise ValueError(f"{name} is not {rows} x {cols}")
            state_dict[name] = [[Value(float(w)) for w in row] for row in matrix]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: corrupt checkpoint ({exc})") from None
    return Checkpoint(config, chars, state_dict, payload.get("meta", {}))
