"""Generating text: temperature-scaled sampling, one token at a time."""

from .model import empty_kv_cache, gpt
from .nn import softmax
from .tokenizer import bos_id, decode


def temperature_probs(logits, temperature):
    """softmax(z / T): T < 1 sharpens the distribution, T > 1 flattens it."""
    return softmax([z / temperature for z in logits])


def sample_token(probs, rng):
    """Draw one token id with probability probs[i].data, using rng (a random.Random)."""
    return rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]


def generate(state_dict, config, chars, rng, temperature=0.5):
    """One new document: start from BOS, sample until BOS or block_size tokens."""
    bos = bos_id(chars)
    keys, values = empty_kv_cache(config)
    token, out = bos, []
    for pos in range(config.block_size):
        logits = gpt(token, pos, keys, values, state_dict, config)
        token = sample_token(temperature_probs(logits, temperature), rng)
        if token == bos:
            break
        out.append(token)
    return decode(out, chars)
