"""Chapter 10 (experiments): log_likelihood, on the default 16-dimensional model with a block of 4
positions and weights from the reference init_params with a fixed seed. No piece is swapped: encode,
next_token_probs, gpt and softmax are the chapter's given copies.
"""

import math
import random

import microgpt

from .core import about, as_values, call, data, diagnose, expect_close, expect_returned, fail, is_node, is_number, kind
from .guards import expect_unchanged, snapshots

DOCS = ["emma", "olivia", "ava", "isabella", "sophia"]
SEED = 8


def _log_likelihood_hint(doc, state_dict, config, chars):
    def hint(got):
        tokens = microgpt.encode(doc, chars)
        probs = [data(p) for p in microgpt.next_token_probs(tokens, state_dict, config)]
        targets = [p[target] for p, target in zip(probs, tokens[1:])]
        mistakes = [
            ("Add up the log probabilities: a sum, not a mean.", lambda: sum(map(math.log, targets)) / len(targets)),
            ("Use the natural log, math.log.", lambda: sum(map(math.log10, targets))),
            ("Use the natural log, math.log.", lambda: sum(map(math.log2, targets))),
            ("The log-likelihood is the sum of log p (at most 0), not the loss -sum log p.",
             lambda: -sum(map(math.log, targets))),
            ("Score the end too: encode(doc, chars) ends with BOS, and predicting it counts.",
             lambda: sum(map(math.log, targets[:-1]))),
        ]
        return diagnose(got, mistakes) or (
            "log_likelihood = sum over t < n of log p_t[tokens[t + 1]] with tokens = encode(doc, chars), "
            "p_t from next_token_probs and n = min(block_size, len(tokens) - 1).")
    return hint


def check_log_likelihood(fn, value_cls=None):
    """log_likelihood(doc, state_dict, config, chars) -> a float: the sum of the natural-log probabilities
    of each next token of encode(doc, chars), end included, first block_size predictions only: on short
    names, the empty name, and names longer than the block; each called twice, the model and chars left
    unchanged (no backward)."""
    chars = microgpt.build_vocab(DOCS)
    config = microgpt.GPTConfig(vocab_size=microgpt.vocab_size(chars), block_size=4)
    ref_state = microgpt.init_params(config, random.Random(SEED))
    state = as_values(ref_state, value_cls or microgpt.Value)
    given = {"state_dict": state, "chars": list(chars)}
    for doc in ["ava", "", "emma", "isabella", "sophia"]:
        expected = microgpt.log_likelihood(doc, ref_state, config, chars)
        for attempt in ("", " (a second time)"):
            shown = (f"log_likelihood({doc!r}, state_dict, config, chars) with chars = {''.join(chars)!r}, config = "
                     f"{config} and state_dict = init_params(config, random.Random({SEED})){attempt}")
            before = snapshots(given)
            got = call(fn, (doc, state, config, given["chars"]), shown, "log_likelihood",
                       [(IndexError, "Score only the first block_size predictions: the model sees at most "
                                     "block_size positions."),
                        (ValueError, "Take the log of the probability of each next token, p[tokens[t + 1]].data.")])
            expect_unchanged(before, given, shown, "Scoring a name must not change the model: no backward.")
            expect_returned(got, shown)
            if is_node(got):
                fail(about(shown, " returned a Value; expected a float: add up math.log(p.data) (no gradient is "
                                  "needed)."))
            if not is_number(got) or isinstance(got, bool):
                fail(about(shown, f" returned {kind(got)}; expected a float."))
            expect_close(got, expected, shown, _log_likelihood_hint(doc, ref_state, config, chars))
