"""Saving and loading a trained model as versioned JSON.

JSON writes each float with repr, which round-trips exactly, so a loaded model
computes the same numbers as the saved one.

Version 1 describes the original architecture (RMSNorm, ReLU); version 2 adds the
config's norm and activation. A model of the original architecture is still written
as version 1, byte for byte as before, so that older readers and the shipped
checkpoint's remake are unchanged; a model with another norm or activation is
written as version 2, which an older reader refuses by its version number.
"""

import json
import os
import tempfile
from pathlib import Path
from typing import NamedTuple

from .autograd import Value
from .model import GPTConfig, param_shapes

FORMAT = "microgpt-checkpoint"
VERSION = 2  # the newest version this code writes and reads
SHAPE_FIELDS = ("vocab_size", "n_embd", "n_head", "n_layer", "block_size")
ARCHITECTURE_FIELDS = ("norm", "activation")  # in the config from version 2 on


class CheckpointError(Exception):
    """A checkpoint file is missing, unreadable or malformed."""


class Checkpoint(NamedTuple):
    config: GPTConfig
    chars: list
    state_dict: dict
    meta: dict


def save(path, config, chars, state_dict, meta=None):
    """Write the model to path (atomically: a crash never leaves half a file); version 1 when the
    config has the original norm and activation, else version 2."""
    original = all(
        getattr(config, name) == GPTConfig.__dataclass_fields__[name].default
        for name in ARCHITECTURE_FIELDS
    )
    fields = SHAPE_FIELDS if original else SHAPE_FIELDS + ARCHITECTURE_FIELDS
    payload = {
        "format": FORMAT,
        "version": 1 if original else VERSION,
        "config": {name: getattr(config, name) for name in fields},
        "chars": list(chars),
        "meta": dict(meta or {}),
        "state_dict": {
            name: [[p.data for p in row] for row in matrix] for name, matrix in state_dict.items()
        },
    }
    path = Path(path)
    if not path.parent.is_dir():  # never make folders silently: a typo in a path would go unnoticed
        raise CheckpointError(f"{path}: folder {path.parent} does not exist")
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
    version = payload.get("version")
    if version not in (1, VERSION):
        raise CheckpointError(
            f"{path}: checkpoint version {version!r}, this code reads 1 to {VERSION}"
        )
    try:
        fields = SHAPE_FIELDS if version == 1 else SHAPE_FIELDS + ARCHITECTURE_FIELDS
        config_fields = payload["config"]
        if set(config_fields) != set(fields):
            raise ValueError(f"a version {version} config has the fields {', '.join(fields)}")
        config = GPTConfig(**config_fields)
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
