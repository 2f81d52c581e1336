"""Chapter 07_training: correct code written differently, and mistakes its visible tests must name
(test_visible_contracts)."""

from visible_tests import Variant

# the instructor's document_loss and train_step: each mistake changes a line of one
LOSS = """
keys, values = empty_kv_cache(config)
n = min(config.block_size, len(tokens) - 1)
losses = []
for t in range(n):
    probs = softmax(gpt(tokens[t], t, keys, values, state_dict, config))
    losses.append(-probs[tokens[t + 1]].log())
return (1 / n) * sum(losses)
"""
STEP = """
loss = document_loss(tokens, state_dict, config)
loss.backward()
adam_step(params, m, v, step, num_steps, lr)
return loss.data
"""


def changed(code, old, new):
    """code with old (which occurs once) replaced by new."""
    assert code.count(old) == 1, old
    return code.replace(old, new)


CORRECT = [
    Variant(
        "document_loss",
        "zip over the pairs (input, target), the mean by division",
        """
keys, values = empty_kv_cache(config)
pairs = list(zip(tokens, tokens[1:]))[:config.block_size]
total = 0
for pos, (token, target) in enumerate(pairs):
    logits = gpt(token, pos, keys, values, state_dict, config)
    total = total + -softmax(logits)[target].log()
return total / len(pairs)
""",
    ),
    Variant(
        "train_step",
        "lr by keyword, the loss kept as a number first",
        """
loss = document_loss(tokens, state_dict, config)
value = loss.data
loss.backward()
adam_step(params, m, v, step, num_steps, lr=lr)
return value
""",
    ),
]

MISTAKES = [
    Variant(
        "document_loss",
        "one KV cache per position",
        changed(
            changed(LOSS, "keys, values = empty_kv_cache(config)\n", ""),
            "for t in range(n):\n",
            "for t in range(n):\n    keys, values = empty_kv_cache(config)\n",
        ),
        says="one KV cache: sizes (1st call)",
    ),
    Variant(
        "document_loss",
        "no cap at block_size",
        changed(LOSS, "min(config.block_size, len(tokens) - 1)", "len(tokens) - 1"),
        says="gpt called at position 4, but block_size is 4",
    ),
    Variant(
        "document_loss",
        "the cap one short",
        changed(
            LOSS,
            "min(config.block_size, len(tokens) - 1)",
            "min(config.block_size, len(tokens)) - 1",
        ),
        says="positions read (1st call)",
    ),
    Variant(
        "document_loss",
        "the sum instead of the mean",
        changed(LOSS, "(1 / n) * sum(losses)", "sum(losses)"),
        says="'emma', block_size 4",
    ),
    Variant(
        "document_loss",
        "the target is the input token",
        changed(LOSS, "tokens[t + 1]]", "tokens[t]]"),
        says="'emma', block_size 4",
    ),
    Variant(
        "document_loss",
        "the loss computed on numbers",
        changed(
            LOSS,
            "losses.append(-probs[tokens[t + 1]].log())",
            "losses.append(Value(-math.log(probs[tokens[t + 1]].data)))",
        ),
        says="backward gives",
    ),
    Variant(
        "document_loss",
        "backward run inside",
        changed(
            LOSS,
            "return (1 / n) * sum(losses)",
            "loss = (1 / n) * sum(losses)\nloss.backward()\nreturn loss",
        ),
        says="state_dict['wte'][4][0].grad changed; leave .grad alone: run no backward here",
    ),
    Variant(
        "document_loss",
        "the document cut to the block in place",
        changed(
            LOSS,
            "n = min(config.block_size, len(tokens) - 1)\n",
            "del tokens[config.block_size + 1:]\nn = len(tokens) - 1\n",
        ),
        says="you changed tokens in place",
    ),
    Variant(
        "document_loss",
        "one KV cache kept between calls",
        """
cache = globals().setdefault("cache_kept_between_calls", {})
keys, values = cache.setdefault(id(state_dict), empty_kv_cache(config))
n = min(config.block_size, len(tokens) - 1)
losses = []
for t in range(n):
    probs = softmax(gpt(tokens[t], t, keys, values, state_dict, config))
    losses.append(-probs[tokens[t + 1]].log())
return (1 / n) * sum(losses)
""",
        says="one KV cache: sizes (2nd call)",
    ),
    Variant(
        "train_step",
        "adam_step called without lr",
        changed(STEP, "num_steps, lr)", "num_steps)"),
        says="lr given to adam_step",
    ),
    Variant(
        "train_step",
        "no adam_step",
        changed(STEP, "adam_step(params, m, v, step, num_steps, lr)\n", ""),
        says="step given to adam_step: the result has 0 items",
    ),
    Variant(
        "train_step",
        "step + 1 given to adam_step",
        changed(STEP, "step, num_steps, lr", "step + 1, num_steps, lr"),
        says="step given to adam_step",
    ),
    Variant(
        "train_step",
        "returns the Value",
        changed(STEP, "return loss.data", "return loss"),
        says="type of the loss",
    ),
    Variant(
        "train_step",
        "the loss after the update",
        changed(STEP, "return loss.data", "return document_loss(tokens, state_dict, config).data"),
        says="loss before the update",
    ),
    Variant(
        "train_step",
        "no backward",
        changed(STEP, "loss.backward()\n", ""),
        says="grad at adam_step",
    ),
    Variant(
        "train_step",
        "backward twice",
        changed(STEP, "loss.backward()\n", "loss.backward()\nloss.backward()\n"),
        says="grad at adam_step",
    ),
    Variant(
        "train_step",
        "copies of m and v given to adam_step",
        changed(STEP, "adam_step(params, m, v,", "adam_step(params, list(m), list(v),"),
        says="m, v are the lists given",
    ),
]

HIDDEN_ONLY = []
