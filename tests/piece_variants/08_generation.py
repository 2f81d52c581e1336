"""Chapter 08_generation: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

from visible_tests import Variant

CORRECT = [
    Variant(
        "temperature_probs",
        "a loop and an explicit reciprocal",
        """
scaled = []
for z in logits:
    scaled.append(z * (1 / temperature))
return softmax(scaled)
""",
    ),
    Variant(
        "sample_token",
        "one rng.random() and a running sum (inverse CDF by hand)",
        """
weights = [p.data for p in probs]
u, running = rng.random() * sum(weights), 0.0
for i, w in enumerate(weights):
    running += w
    if u < running:
        return i
return len(weights) - 1
""",
    ),
    Variant(
        "generate",
        "a while loop over positions",
        """
keys, values = empty_kv_cache(config)
drawn, token, pos = [], bos_id(chars), 0
while pos < config.block_size:
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    if token == len(chars):
        break
    drawn.append(token)
    pos += 1
return "".join(chars[t] for t in drawn)
""",
    ),
]

MISTAKES = [
    Variant(
        "temperature_probs",
        "divides the logits' data in place",
        """
for z in logits:
    z.data = z.data / temperature
return softmax(logits)
""",
        says="you changed logits in place",
    ),
    Variant(
        "temperature_probs",
        "replaces the items of the logits list",
        """
for i, z in enumerate(logits):
    logits[i] = z / temperature
return softmax(logits)
""",
        says="you changed logits in place",
    ),
    Variant(
        "temperature_probs",
        "a softmax of its own, without subtracting the largest logit",
        """
exps = [(z / temperature).exp() for z in logits]
total = sum(exps)
return [e / total for e in exps]
""",
        says=(
            "temperature_probs(...) raised OverflowError: expected no "
            "overflow: use the given softmax, which subtracts the largest logit"
        ),
    ),
    Variant(
        "temperature_probs",
        "multiplies by the temperature",
        """
return softmax([z * temperature for z in logits])
""",
        says="expected 0.0158762",
    ),
    Variant(
        "temperature_probs",
        "floats instead of Values",
        """
return [p.data for p in softmax([z / temperature for z in logits])]
""",
        says="it must return one Value",
    ),
    Variant(
        "temperature_probs",
        "temperature applied after softmax",
        """
return [p ** (1 / temperature) for p in softmax(logits)]
""",
        says="expected 0.0158762",
    ),
    Variant(
        "sample_token",
        "weighs by the Values, not their numbers",
        """
return rng.choices(range(len(probs)), weights=probs)[0]
""",
        says="sample_token(...) raised TypeError: expected numbers as weights: probs are Values",
    ),
    Variant(
        "sample_token",
        "returns the list rng.choices gives",
        """
return rng.choices(range(len(probs)), weights=[p.data for p in probs])
""",
        says="is [3]; expected 3",
    ),
    Variant(
        "sample_token",
        "draws from the random module, not rng",
        """
return random.choices(range(len(probs)), weights=[p.data for p in probs])[0]
""",
        says="draws from rng, seeds 0..9",
    ),
    Variant(
        "sample_token",
        "an extra draw after the choice",
        """
token = rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]
rng.random()
return token
""",
        says="draws in a row",
    ),
    Variant(
        "sample_token",
        "always the most likely token",
        """
return max(range(len(probs)), key=lambda i: probs[i].data)
""",
        says="draws from rng, seeds 0..9",
    ),
    Variant(
        "generate",
        "the notebook's global BOS instead of bos_id(chars)",
        """
keys, values = empty_kv_cache(config)
token, out = BOS, []
for pos in range(config.block_size):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    if token == BOS:
        break
    out.append(token)
return decode(out, chars)
""",
        says="BOS is bos_id(chars)",
    ),
    Variant(
        "generate",
        "a new KV cache at every position",
        """
bos, token, out = bos_id(chars), bos_id(chars), []
for pos in range(config.block_size):
    keys, values = empty_kv_cache(config)
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    if token == bos:
        break
    out.append(token)
return decode(out, chars)
""",
        says="one KV cache",
    ),
    Variant(
        "generate",
        "a fixed temperature of 0.5",
        """
bos = bos_id(chars)
keys, values = empty_kv_cache(config)
token, out = bos, []
for pos in range(config.block_size):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           0.5), rng)
    if token == bos:
        break
    out.append(token)
return decode(out, chars)
""",
        says="temperature",
    ),
    Variant(
        "generate",
        "a generator of its own instead of rng",
        """
bos, draw = bos_id(chars), random.Random(42)
keys, values = empty_kv_cache(config)
token, out = bos, []
for pos in range(config.block_size):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), draw)
    if token == bos:
        break
    out.append(token)
return decode(out, chars)
""",
        says="rng",
    ),
    Variant(
        "generate",
        "the notebook's global state_dict",
        """
bos = bos_id(chars)
keys, values = empty_kv_cache(config)
token, out = bos, []
for pos in range(config.block_size):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, globals()["state_dict"],
                                               config), temperature), rng)
    if token == bos:
        break
    out.append(token)
return decode(out, chars)
""",
        says="state_dict",
    ),
    Variant(
        "generate",
        "one draw fewer (block_size - 1 positions)",
        """
bos = bos_id(chars)
keys, values = empty_kv_cache(config)
token, out = bos, []
for pos in range(config.block_size - 1):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    if token == bos:
        break
    out.append(token)
return decode(out, chars)
""",
        says="block_size",
    ),
    Variant(
        "generate",
        "does not stop at BOS",
        """
bos = bos_id(chars)
keys, values = empty_kv_cache(config)
token, out = bos, []
for pos in range(config.block_size):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    out.append(token)
return decode(out, chars)
""",
        says="read until BOS",
    ),
    Variant(
        "generate",
        "returns the token ids",
        """
bos = bos_id(chars)
keys, values = empty_kv_cache(config)
token, out = bos, []
for pos in range(config.block_size):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    if token == bos:
        break
    out.append(token)
return out
""",
        says="expected 'emma'",
    ),
]

HIDDEN_ONLY = [
    Variant(
        "sample_token",
        "weights smoothed by 1e-3, so a token of probability 0 can come up",
        """
return rng.choices(range(len(probs)), weights=[p.data + 1e-3 for p in probs])[0]
""",
        says=(
            "the smoothing moves each token's interval by about 1e-3: only a draw that "
            "close to an edge shows it, within the visible shares' tolerance; the hidden "
            "check draws u near every edge of 27-token distributions with tiny probabilities"
        ),
    ),
]
