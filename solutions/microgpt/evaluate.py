"""Scoring text under a trained model: doc must be spelled with the characters of chars."""

import math

from .tokenizer import encode
from .train import next_token_probs


def log_likelihood(doc, state_dict, config, chars):
    """Natural-log probability of doc under the model: sum_t log p(tokens[t+1] | tokens[..t]).

    The document is encoded with BOS at both ends, so the end counts too; only
    the first block_size predictions are scored. Returns a float (<= 0); runs no backward and
    changes nothing.
    """
    tokens = encode(doc, chars)
    probs = next_token_probs(tokens, state_dict, config)
    return sum(math.log(p[target].data) for p, target in zip(probs, tokens[1:]))


def mean_log_likelihood(doc, state_dict, config, chars):
    """log_likelihood(doc) / n, n = min(block_size, len(doc) + 1) scored predictions: the average
    natural-log probability per predicted token (the end included), a float <= 0.

    Longer names collect more negative terms, so ranking by log_likelihood favours short ones; the
    mean per token compares names of any length. It equals -document_loss(encode(doc, chars)).data
    up to rounding.
    """
    n = min(config.block_size, len(doc) + 1)
    return log_likelihood(doc, state_dict, config, chars) / n
