"""Chapter 8 (generation): temperature_probs, sample_token and generate.

sample_token's docstring promises exactly one draw, rng.choices(range(V), weights=[p.data ...])[0]:
with a generator whose random() returns a chosen u, the learner's token must be the inverse-CDF
index for u after one call to random(); on seeded generators the tokens drawn and the generator's
state afterwards must be the reference's. generate must give the reference's names for the same
seed, one after another from one generator; while it runs, temperature_probs and sample_token are
the reference's.
"""

import bisect
import itertools
import math
import random

import microgpt

from .core import (
    about,
    as_values,
    call,
    case_rng,
    check_case,
    diagnose,
    expect_returned,
    fail,
    kind,
    reference_pieces,
    show,
)
from .guards import expect_unchanged, snapshots

BEFORE_SOFTMAX = (
    "Apply the temperature to the logits, before softmax: softmax([z / temperature for z in "
    "logits]). Changing the probabilities afterwards breaks their sum of 1."
)


def _softmax(zs):
    exps = [math.exp(z - max(zs)) for z in zs]
    return [e / sum(exps) for e in exps]


def _temperature_hint(logits, temperature):
    mistakes = [
        ("Divide the logits by the temperature before softmax.", lambda: _softmax(logits)),
        (
            "Divide the logits by the temperature; do not multiply them.",
            lambda: _softmax([z * temperature for z in logits]),
        ),
    ]

    def normalised(got):
        return math.isclose(sum(got), 1, rel_tol=1e-9)

    return lambda got: (
        diagnose(got, mistakes)
        or ("softmax([z / temperature for z in logits])." if normalised(got) else BEFORE_SOFTMAX)
    )


TEMPERATURE_ERRORS = [
    (
        OverflowError,
        "Divide the logits by the temperature, then use softmax (which subtracts the "
        "largest logit, so exp cannot overflow).",
    )
]


def check_temperature_probs(fn, value_cls=None):
    """temperature_probs(logits, temperature) = softmax(z / T): T = 1, below 1 (sharper), above 1
    (flatter), an int T, T = 0.01 on logits spread over 100 and T = 0.1 on logits near 1000
    (stability), T = 100, equal logits, random logits; values and gradients, and the logits (data,
    grads, the list) unchanged."""
    rng = case_rng("temperature_probs")
    cases = [
        ([1.0, 2.0, 3.0], 1.0),
        ([1.0, 2.0, 3.0], 0.5),
        ([0.5, -1.0, 2.0, 0.0], 2.0),
        ([0.5, -1.0, 2.0], 3),
        ([100.0, 101.0, 99.5], 0.1),
        ([1000.0, 1001.0, 999.5], 0.1),
        ([-50.0, 0.0, 25.0, 50.0], 0.01),
        ([2.0, -3.0, 1.0], 100.0),
        ([0.7, 0.7, 0.7], 0.5),
        ([rng.gauss(0, 1) for _ in range(27)], 0.7),
        ([rng.uniform(-5, 5) for _ in range(6)], 1.3),
    ]
    cls = value_cls or microgpt.Value
    for logits, temperature in cases:
        shown = f"temperature_probs({show(logits)}, {temperature})"
        given = {"logits": as_values(logits, cls)}
        before = snapshots(given)
        call(fn, (given["logits"], temperature), shown, "temperature_probs", TEMPERATURE_ERRORS)
        expect_unchanged(
            before,
            given,
            shown,
            "Leave the logits as they are: build a new list, [z / temperature "
            "for z in logits], instead of dividing them in place.",
        )
        check_case(
            "temperature_probs",
            fn,
            {"logits": logits},
            cls,
            shown,
            len(logits),
            f"{len(logits)} probabilities, one per logit",
            rng,
            _temperature_hint(logits, temperature),
            TEMPERATURE_ERRORS,
            options=(temperature,),
        )


class FixedDraw(random.Random):
    """A generator whose random() returns u, counting the calls. Methods built on random() (uniform,
    choices, randrange, ...) follow it; after 1,000 calls (a sampler that draws until it accepts)
    it returns real random numbers so that such a sampler still ends."""

    def __init__(self, u):
        super().__init__(0)
        self.u, self.calls = u, 0

    def random(self):
        self.calls += 1
        return self.u if self.calls <= 1000 else super().random()


def inverse_cdf(weights, u):
    """The index drawn for u in [0, 1): the first whose cumulative weight exceeds u * total (as
    rng.choices)."""
    cumulative = list(itertools.accumulate(weights))
    return min(bisect.bisect_right(cumulative, u * cumulative[-1]), len(weights) - 1)


def _draws(weights, rng):
    """u values well inside each interval of positive probability, and random ones away from the
    edges."""
    cumulative = [0.0] + list(itertools.accumulate(weights))
    us = [
        a + f * (b - a)
        for a, b in zip(cumulative, cumulative[1:])
        if b > a
        for f in (0.02, 0.5, 0.98)
    ]
    us += [rng.random() for _ in range(20)]
    return [u for u in us if min(abs(u - c) for c in cumulative) > 1e-6]


def _expect_token(got, n, shown):
    expect_returned(got, shown)
    if isinstance(got, list) and len(got) == 1:
        fail(
            about(
                shown,
                f" returned the list {show(got)}; expected a token id, "
                "an int: rng.choices returns a list, take its [0].",
            )
        )
    if not isinstance(got, int) or isinstance(got, bool):
        fail(about(shown, f" returned {kind(got)}; expected a token id, an int index into probs."))
    if not 0 <= got < n:
        fail(about(shown, f" returned {got}; expected a token id between 0 and {n - 1}."))


SAMPLE_RULE = (
    "Make exactly one draw: return rng.choices(range(len(probs)), "
    "weights=[p.data for p in probs])[0] (or draw u = rng.random() once "
    "and return the first index whose cumulative probability exceeds u)."
)


def _sample(fn, weights, rng, shown):
    """The learner's sample_token(probs, rng) for probs = Values holding weights; checked to be a
    token id and to leave probs unchanged."""
    given = {"probs": [microgpt.Value(p) for p in weights]}
    before = snapshots(given)
    got = call(
        fn,
        (given["probs"], rng),
        shown,
        "sample_token",
        [(TypeError, "probs are Values: weigh the tokens by the numbers p.data.")],
    )
    expect_unchanged(before, given, shown)
    _expect_token(got, len(weights), shown)
    return got


def _softmax_weights(rng, n, spread):
    return [
        p.data for p in microgpt.softmax([microgpt.Value(rng.gauss(0, spread)) for _ in range(n)])
    ]


def check_sample_token(fn):
    """sample_token(probs, rng) -> a token id (an int), drawn with exactly one rng.choices call.
    With an rng whose random() returns u (many u, zero-probability tokens, one token, 27 tokens):
    one call to random() and the inverse-CDF index for u. With seeded generators: 40 tokens in a row
    equal to the reference's, and the generator's state after each equal to the reference's (no
    extra or missing draws, none from the random module); probs left unchanged."""
    rng = case_rng("sample_token")
    distributions = [
        [0.1, 0.2, 0.3, 0.4],
        [0.0, 0.5, 0.0, 0.5],
        [1.0],
        [0.7, 0.3],
        _softmax_weights(rng, 27, 2.0),
        _softmax_weights(rng, 27, 8.0),
    ]
    for weights in distributions:
        for u in _draws(weights, rng):
            shown = f"sample_token(probs={show(weights)}, rng) with rng.random() returning {u!r}"
            fixed = FixedDraw(u)
            got = _sample(fn, weights, fixed, shown)
            if fixed.calls != 1:
                drew = (
                    "did not call rng.random()"
                    if fixed.calls == 0
                    else f"called rng.random() {fixed.calls} times"
                )
                fail(
                    about(
                        shown,
                        f" {drew}; the contract is one draw, the "
                        f"one rng.choices makes. {SAMPLE_RULE}",
                    )
                )
            expected = inverse_cdf(weights, u)
            if got != expected:
                cumulative = show(list(itertools.accumulate(weights)))
                fail(
                    about(
                        shown,
                        f" returned {got}; expected {expected}, the first index whose cumulative "
                        f"probability ({cumulative}) exceeds u. {SAMPLE_RULE}",
                    )
                )
    for seed, weights in enumerate(distributions):
        shown = f"sample_token(probs={show(weights)}, rng) with rng = random.Random({seed})"
        mine, ref = random.Random(seed), random.Random(seed)
        for call_number in range(1, 41):
            got = _sample(fn, weights, mine, shown)
            expected = microgpt.sample_token([microgpt.Value(p) for p in weights], ref)
            if got != expected:
                fail(
                    about(
                        shown,
                        f", call {call_number} in a row, returned {got}; the reference's draw, "
                        "rng.choices(range(len(probs)), weights=[p.data for p in probs])[0], gives "
                        f"{expected}. {SAMPLE_RULE}",
                    )
                )
            if mine.getstate() != ref.getstate():
                fail(
                    about(
                        shown,
                        f", call {call_number} in a row, returned the right token "
                        "but left rng in another state than one rng.choices call "
                        f"does: it drew a different number of times. {SAMPLE_RULE}",
                    )
                )


GENERATE_CHARS = [" ", "a", "b"]  # a space is a character like any other
GENERATE_CONFIG = microgpt.GPTConfig(vocab_size=4, n_embd=8, n_head=2, block_size=5)
# weights that give empty names, full-length names and others between
GENERATE_SEED, GENERATE_STD = 0, 0.3
# (seed of the generator, temperature passed or None for the default, names generated in a row)
GENERATE_RUNS = [(0, None, 6), (1, 1.0, 6), (2, 2.0, 6), (3, 0.1, 4)]
GENERATE_RULE = (
    "Start at BOS with one KV cache; at each position pos = 0 .. "
    "block_size - 1, token = sample_token(temperature_probs(gpt(token, "
    "pos, keys, values, state_dict, config), temperature), rng); stop when "
    "BOS is drawn or after block_size draws; return decode(drawn, chars)."
)


def _generate_with(
    state_dict,
    config,
    chars,
    rng,
    temperature,
    start=None,
    fresh_cache=False,
    draws=None,
    stop_at_bos=True,
    scale=True,
):
    """generate with the reference pieces and, optionally, one known mistake."""
    bos = microgpt.bos_id(chars)
    keys, values = microgpt.empty_kv_cache(config)
    token, out = bos if start is None else start, []
    for pos in range(config.block_size if draws is None else draws):
        if fresh_cache:
            keys, values = microgpt.empty_kv_cache(config)
        logits = microgpt.gpt(token, pos, keys, values, state_dict, config)
        probs = (
            microgpt.temperature_probs(logits, temperature) if scale else microgpt.softmax(logits)
        )
        token = microgpt.sample_token(probs, rng)
        if token == bos and stop_at_bos:
            break
        out.append(token)
    return microgpt.decode(out, chars)


def _generate_hint(got, state_dict, config, chars, rng_state, temperature):
    def variant(**mistake):
        rng = random.Random()
        rng.setstate(rng_state)
        return lambda: _generate_with(state_dict, config, chars, rng, temperature, **mistake)

    mistakes = [
        ("Start from BOS, token id len(chars), at position 0.", variant(start=0)),
        (
            "Use one KV cache for the whole name: create it once, before the loop over positions.",
            variant(fresh_cache=True),
        ),
        (
            "Draw at every position 0 .. block_size - 1: up to block_size tokens.",
            variant(draws=config.block_size - 1),
        ),
        ("Stop as soon as BOS is drawn: it ends the name.", variant(stop_at_bos=False)),
        (
            "Pass the temperature argument (default 0.5) on: temperature_probs(logits, "
            "temperature), not softmax(logits) or a fixed temperature.",
            variant(scale=False),
        ),
    ]
    for hint, produce in mistakes:
        try:
            if produce() == got:
                return hint
        except (ArithmeticError, ValueError, IndexError):
            continue
    return GENERATE_RULE


OUT_OF_VOCABULARY = (
    "A token id is out of range for this vocabulary of "
    f"{GENERATE_CONFIG.vocab_size} tokens: BOS is bos_id(chars) = "
    f"{len(GENERATE_CHARS)} here, not the notebook's BOS (26, for its 26 letters)."
)


def check_generate(fn, value_cls=None):
    """generate(state_dict, config, chars, rng, temperature=0.5) -> a str: with a 3-character
    vocabulary (a space among them) and block_size 5, names generated one after another from one
    seeded generator at the default temperature and at 1.0, 2.0 and 0.1 (empty names, full-length
    names and others between) equal the reference's, and the generator's state after each name too
    (the same draws); the weights and chars unchanged. While it runs, temperature_probs and
    sample_token are the reference's."""
    ref_state = microgpt.init_params(
        GENERATE_CONFIG, random.Random(GENERATE_SEED), std=GENERATE_STD
    )
    state = as_values(ref_state, value_cls or microgpt.Value)
    given = {"state_dict": state, "chars": list(GENERATE_CHARS)}
    for seed, temperature, count in GENERATE_RUNS:
        options = () if temperature is None else (temperature,)
        mine, ref = random.Random(seed), random.Random(seed)
        for number in range(1, count + 1):
            shown = (
                f"generate(state_dict, config, {GENERATE_CHARS!r}, "
                f"rng{''.join(f', {t}' for t in options)}), name {number} in a row from rng "
                f"= random.Random({seed}), with config = {GENERATE_CONFIG} and state_dict = "
                f"init_params(config, random.Random({GENERATE_SEED}), std={GENERATE_STD})"
            )
            before, rng_state = snapshots(given), ref.getstate()
            with reference_pieces(fn, ("temperature_probs", "sample_token")):
                got = call(
                    fn,
                    (state, GENERATE_CONFIG, given["chars"], mine, *options),
                    shown,
                    "generate",
                    [(IndexError, OUT_OF_VOCABULARY)],
                )
            expected = microgpt.generate(ref_state, GENERATE_CONFIG, GENERATE_CHARS, ref, *options)
            expect_unchanged(before, given, shown)
            expect_returned(got, shown)
            if isinstance(got, list):
                fail(
                    about(
                        shown,
                        f" returned the list {show(got)}; expected "
                        "the name as a str: decode(tokens, chars).",
                    )
                )
            if not isinstance(got, str):
                fail(about(shown, f" returned {kind(got)}; expected the name as a str."))
            if got != expected:
                hint = _generate_hint(
                    got,
                    ref_state,
                    GENERATE_CONFIG,
                    GENERATE_CHARS,
                    rng_state,
                    0.5 if temperature is None else temperature,
                )
                fail(about(shown, f" returned {got!r}; expected {expected!r}. {hint}"))
            if mine.getstate() != ref.getstate():
                fail(
                    about(
                        shown,
                        " returned the right name but drew from rng a different number of "
                        "times than the reference: one sample_token per position, and none "
                        f"after the name ends (stop as soon as BOS is drawn). {GENERATE_RULE}",
                    )
                )
