"""Generating text: temperature-scaled sampling, one token at a time.

The random draws are part of the contract: with the same seed, the same model and the same
temperature, code written to these docstrings generates exactly the reference's names.
"""

from .model import empty_kv_cache, gpt
from .nn import softmax
from .tokenizer import bos_id, decode


def temperature_probs(logits, temperature):
    """p_i = softmax(z / T)_i for the V logits z (Values) and a temperature T > 0 (a number).

    Returns V new Values summing to 1, built with Value operations so that gradients reach the
    logits; the logits are left unchanged. T < 1 sharpens the distribution, T > 1 flattens it,
    T = 1 is plain softmax.
    """
    return softmax([z / temperature for z in logits])


def sample_token(probs, rng):
    """Draw one token id i with probability probs[i].data, an int in range(len(probs)).

    Exactly one draw: the single call
    rng.choices(range(len(probs)), weights=[p.data for p in probs]), whose [0] is returned.
    That call uses one rng.random() = u and returns the first i whose cumulative weight exceeds
    u * (sum of the weights), so a token of probability 0 never comes up.
    Only rng (a random.Random) is drawn from, never the random module.
    """
    return rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]


def generate(state_dict, config, chars, rng, temperature=0.5):
    """One new document, a str of at most block_size characters (possibly "").

    One KV cache; at positions pos = 0, 1, ..., block_size - 1 the model reads token (BOS at pos 0,
    then the token drawn last): logits = gpt(token, pos, keys, values, state_dict, config), and the
    next token is sample_token(temperature_probs(logits, temperature), rng): exactly one draw per
    position. Stops when BOS is drawn (BOS is not part of the name) or after block_size draws;
    returns decode of the tokens drawn. Consecutive calls with one rng continue its stream.
    """
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
