"""Sampling: temperature_probs and sample_token.

sample_token is checked without depending on how the learner uses the generator: with a generator
whose random() returns a chosen u, a learner who draws one number gets the inverse-CDF index for u;
on real generators the draws must follow the probabilities and depend only on the rng passed in.
"""

import bisect
import itertools
import math
import random

import microgpt

from .core import call, check_case, diagnose, expect_returned, fail, kind, show

BEFORE_SOFTMAX = ("Apply the temperature to the logits, before softmax: softmax([z / temperature for z in "
                  "logits]). Changing the probabilities afterwards breaks their sum of 1.")


def _softmax(zs):
    exps = [math.exp(z - max(zs)) for z in zs]
    return [e / sum(exps) for e in exps]


def _temperature_hint(logits, temperature):
    mistakes = [
        ("Divide the logits by the temperature before softmax.", lambda: _softmax(logits)),
        ("Divide the logits by the temperature; do not multiply them.",
         lambda: _softmax([z * temperature for z in logits])),
    ]
    normalised = lambda got: math.isclose(sum(got), 1, rel_tol=1e-9)
    return lambda got: diagnose(got, mistakes) or (
        "softmax([z / temperature for z in logits])." if normalised(got) else BEFORE_SOFTMAX)


def check_temperature_probs(fn, value_cls=None):
    """temperature_probs(logits, temperature) = softmax(z / T): T = 1, below 1 (sharper), above 1 (flatter),
    T = 0.1 on logits near 100 (stability), random logits; values and gradients."""
    rng = random.Random("temperature_probs")
    cases = [([1.0, 2.0, 3.0], 1.0), ([1.0, 2.0, 3.0], 0.5), ([0.5, -1.0, 2.0, 0.0], 2.0),
             ([100.0, 101.0, 99.5], 0.1), ([rng.gauss(0, 1) for _ in range(27)], 0.7),
             ([rng.uniform(-5, 5) for _ in range(6)], 1.3)]
    for logits, temperature in cases:
        check_case("temperature_probs", fn, {"logits": logits}, value_cls or microgpt.Value,
                   f"temperature_probs({show(logits)}, {temperature})", len(logits),
                   f"{len(logits)} probabilities, one per logit", rng, _temperature_hint(logits, temperature),
                   [(OverflowError, "Divide the logits by the temperature, then use softmax (which subtracts the "
                                    "largest logit, so exp cannot overflow).")],
                   options=(temperature,))


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
    """The index drawn for u in [0, 1): the first whose cumulative weight exceeds u * total (as rng.choices)."""
    cumulative = list(itertools.accumulate(weights))
    return min(bisect.bisect_right(cumulative, u * cumulative[-1]), len(weights) - 1)


def _draws(weights, rng):
    """u values well inside each interval of positive probability, and random ones away from the edges."""
    cumulative = [0.0] + list(itertools.accumulate(weights))
    us = [a + f * (b - a) for a, b in zip(cumulative, cumulative[1:]) if b > a for f in (0.02, 0.5, 0.98)]
    us += [rng.random() for _ in range(20)]
    return [u for u in us if min(abs(u - c) for c in cumulative) > 1e-6]


def _expect_token(got, n, shown):
    expect_returned(got, shown)
    if isinstance(got, list) and len(got) == 1:
        fail(f"{shown} returned the list {show(got)}; expected a token id, an int: rng.choices returns a list, "
             f"take its [0].")
    if not isinstance(got, int) or isinstance(got, bool):
        fail(f"{shown} returned {kind(got)}; expected a token id, an int index into probs.")
    if not 0 <= got < n:
        fail(f"{shown} returned {got}; expected a token id between 0 and {n - 1}.")


SAMPLE_RULE = ("Draw u = rng.random() and return the first index whose cumulative probability exceeds u, or use "
               "rng.choices(range(len(probs)), weights=[p.data for p in probs])[0].")


def _sample(fn, weights, rng, shown):
    """The learner's sample_token(probs, rng) for probs = Values holding weights; checked to be a token id."""
    got = call(fn, ([microgpt.Value(p) for p in weights], rng), shown, "sample_token",
               [(TypeError, "probs are Values: weigh the tokens by the numbers p.data.")])
    _expect_token(got, len(weights), shown)
    return got


def check_sample_token(fn):
    """sample_token(probs, rng): a token id (int). With an rng whose random() returns u, a sampler that
    draws once returns the inverse-CDF index for u (many u, zero-probability tokens, one token); with
    real generators the frequencies over 4,000 draws match the probabilities (chi-square), tokens of
    probability 0 never come up, and the draws depend only on the rng passed in."""
    rng = random.Random("sample_token")
    distributions = [[0.1, 0.2, 0.3, 0.4], [0.0, 0.5, 0.0, 0.5], [1.0], [0.7, 0.3],
                     [p.data for p in microgpt.softmax([microgpt.Value(rng.gauss(0, 2)) for _ in range(27)])]]
    for weights in distributions:
        for u in _draws(weights, rng):
            shown = f"sample_token(probs={show(weights)}, rng) with rng.random() returning {u!r}"
            fixed = FixedDraw(u)
            got = _sample(fn, weights, fixed, shown)
            expected = inverse_cdf(weights, u)
            if fixed.calls == 1 and got != expected:
                cumulative = show(list(itertools.accumulate(weights)))
                fail(f"{shown} returned {got}; expected {expected}, the first index whose cumulative probability "
                     f"({cumulative}) exceeds u. {SAMPLE_RULE}")

    weights = [0.1, 0.2, 0.3, 0.4]
    shown = f"sample_token(probs={show(weights)}, random.Random(0))"
    generator = random.Random(0)
    counts = [0] * len(weights)
    for _ in range(4000):
        counts[_sample(fn, weights, generator, shown)] += 1
    chi_square = sum((c - 4000 * p) ** 2 / (4000 * p) for c, p in zip(counts, weights))
    if chi_square > 30:  # 3 degrees of freedom: a correct sampler goes over 30 for about one seed in a million
        fail(f"{shown}, called 4000 times, drew the tokens {counts} times; expected about "
             f"{[round(4000 * p) for p in weights]}. {SAMPLE_RULE}")

    weights = [0.0, 0.5, 0.0, 0.5]
    shown = f"sample_token(probs={show(weights)}, random.Random(1))"
    generator = random.Random(1)
    drawn = {_sample(fn, weights, generator, shown) for _ in range(500)}
    if drawn & {0, 2}:
        fail(f"{shown} drew token {min(drawn & {0, 2})}, whose probability is 0. {SAMPLE_RULE}")

    sequences = []
    for global_seed in (0, 1):
        state = random.getstate()
        random.seed(global_seed)
        try:
            generator = random.Random(7)
            sequences.append([_sample(fn, weights, generator, shown) for _ in range(50)])
        finally:
            random.setstate(state)
    if sequences[0] != sequences[1]:
        fail("sample_token drew different tokens with two generators seeded alike (random.Random(7)): draw with "
             "the rng passed in, not with the random module.")
