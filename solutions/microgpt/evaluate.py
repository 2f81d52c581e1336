"""Scoring text under a trained model."""

import math

from .tokenizer import encode
from .train import next_token_probs


def log_likelihood(doc, state_dict, config, chars):
    """Natural-log probability of doc under the model: sum_t log p(tokens[t+1] | tokens[..t]).

    The document is encoded with BOS at both ends, so the end counts too; only
    the first block_size predictions are scored. Returns a float (<= 0).
    """
    tokens = encode(doc, chars)
    probs = next_token_probs(tokens, state_dict, config)
    return sum(math.log(p[target].data) for p, target in zip(probs, tokens[1:]))
