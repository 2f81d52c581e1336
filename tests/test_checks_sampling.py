"""Sampling and evaluation checks: temperature_probs, sample_token and log_likelihood accept correct
implementations and reject plausible mistakes with a message that points at the cause."""

import bisect
import itertools
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import microgpt
from autograder.checks import check_log_likelihood, check_sample_token, check_temperature_probs
from autograder.checks.sampling import FixedDraw, inverse_cdf
from microgpt import Value, encode, next_token_probs, softmax
from mutants import as_floats, case_tables, drop_last, none_mistake, rejection, stub_mistake

# --- temperature_probs ---


def temperature_times_inverse(logits, temperature):
    inverse = 1 / temperature
    return softmax([z * inverse for z in logits])


def temperature_power_of_probs(logits, temperature):
    # softmax(z)^(1/T), renormalised, is softmax(z / T)
    powered = [p ** (1 / temperature) for p in softmax(logits)]
    total = sum(powered)
    return [p / total for p in powered]


def temperature_ignored(logits, temperature):
    return softmax(logits)


def temperature_multiplies(logits, temperature):
    return softmax([z * temperature for z in logits])


def temperature_after_softmax(logits, temperature):
    return [p / temperature for p in softmax(logits)]


def temperature_on_data(logits, temperature):
    return [Value(p.data) for p in softmax([Value(z.data / temperature) for z in logits])]


def temperature_own_exp(logits, temperature):
    exps = [(z / temperature).exp() for z in logits]
    total = sum(exps)
    return [e / total for e in exps]


# --- sample_token ---


def sample_walk(probs, rng):
    u, total = rng.random(), 0.0
    for i, p in enumerate(probs):
        total += p.data
        if u < total:
            return i
    return len(probs) - 1


def sample_uniform_total(probs, rng):
    weights = [p.data for p in probs]
    target = rng.uniform(0, sum(weights))
    return bisect.bisect_right(list(itertools.accumulate(weights)), target)


def sample_by_rejection(probs, rng):
    # draws until it accepts: a correct sampler that calls rng.random() many times per token
    largest = max(p.data for p in probs)
    while True:
        i = rng.randrange(len(probs))
        if rng.random() * largest < probs[i].data:
            return i


def sample_argmax(probs, rng):
    return max(range(len(probs)), key=lambda i: probs[i].data)


def sample_uniformly(probs, rng):
    return rng.randrange(len(probs))


def sample_global_random(probs, rng):
    return random.choices(range(len(probs)), weights=[p.data for p in probs])[0]


def sample_list(probs, rng):
    return rng.choices(range(len(probs)), weights=[p.data for p in probs])


def sample_probability(probs, rng):
    return rng.choices(probs, weights=[p.data for p in probs])[0]


def sample_from_the_top(probs, rng):
    return len(probs) - 1 - sample_walk(probs[::-1], rng)


def sample_value_weights(probs, rng):
    return rng.choices(range(len(probs)), weights=probs)[0]


def sample_one_too_far(probs, rng):
    return min(sample_walk(probs, rng) + 1, len(probs) - 1)


# --- log_likelihood ---


def log_likelihood_loop(doc, state_dict, config, chars):
    tokens = encode(doc, chars)
    total = 0.0
    for t, probs in enumerate(next_token_probs(tokens, state_dict, config)):
        total += math.log(probs[tokens[t + 1]].data)
    return total


def log_likelihood_fsum(doc, state_dict, config, chars):
    tokens = encode(doc, chars)
    probs = next_token_probs(tokens, state_dict, config)
    return math.fsum(math.log(p[target].data) for p, target in zip(probs, tokens[1:]))


def make_log_likelihood(mistake):
    """log_likelihood with one named mistake."""
    def log_likelihood(doc, state_dict, config, chars):
        tokens = encode(doc, chars)
        if mistake == "no end token":
            tokens = tokens[:-1]
        if mistake == "no truncation":
            probs = [softmax(microgpt.gpt(tokens[t], t, *cache, state_dict, config))
                     for cache in [microgpt.empty_kv_cache(config)] for t in range(len(tokens) - 1)]
        else:
            probs = next_token_probs(tokens, state_dict, config)
        log = math.log10 if mistake == "log10" else math.log
        logs = [log(p[target].data) for p, target in zip(probs, tokens[1:])]
        if mistake == "a Value":
            return sum(p[target].log() for p, target in zip(probs, tokens[1:]))
        if mistake == "mean":
            return sum(logs) / len(logs)
        return -sum(logs) if mistake == "the loss" else sum(logs)

    log_likelihood.__name__ = f"log_likelihood with {mistake}"
    return log_likelihood


CASES = {
    "temperature_probs": (check_temperature_probs, [microgpt.temperature_probs, temperature_times_inverse,
                                                    temperature_power_of_probs], [
        (temperature_ignored, "Divide the logits by the temperature before softmax."),
        (temperature_multiplies, "do not multiply them"),
        (temperature_after_softmax, "Apply the temperature to the logits, before softmax"),
        (temperature_on_data, "the gradient does not reach the inputs"),
        (temperature_own_exp, "then use softmax (which subtracts the largest logit"),
        (drop_last(microgpt.temperature_probs), "returned a list of 2 items"),
        (as_floats(microgpt.temperature_probs), "returned plain numbers"),
    ]),
    "sample_token": (check_sample_token, [microgpt.sample_token, sample_walk, sample_uniform_total,
                                          sample_by_rejection], [
        (sample_argmax, "drew the tokens [0, 0, 0, 4000] times"),
        (sample_uniformly, "the first index whose cumulative probability"),
        (sample_global_random, "draw with the rng passed in, not with the random module"),
        (sample_list, "rng.choices returns a list, take its [0]"),
        (sample_probability, "expected a token id, an int index into probs"),
        (sample_from_the_top, "the first index whose cumulative probability"),
        (sample_value_weights, "weigh the tokens by the numbers p.data"),
        (sample_one_too_far, "the first index whose cumulative probability"),
    ]),
    "log_likelihood": (check_log_likelihood, [microgpt.log_likelihood, log_likelihood_loop, log_likelihood_fsum], [
        (make_log_likelihood("mean"), "a sum, not a mean"),
        (make_log_likelihood("log10"), "Use the natural log, math.log."),
        (make_log_likelihood("the loss"), "not the loss -sum log p"),
        (make_log_likelihood("no end token"), "Score the end too"),
        (make_log_likelihood("no truncation"), "Score only the first block_size predictions"),
        (make_log_likelihood("a Value"), "expected a float"),
    ]),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake, none_mistake)


def name(fn):
    return "wrapped reference" if fn.__name__ == "<lambda>" else fn.__name__


@pytest.mark.parametrize("piece, fn", ALTERNATIVES, ids=[f"{p}-{name(fn)}" for p, fn in ALTERNATIVES])
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize("piece, fn, phrase", MISTAKES,
                         ids=[f"{p}-{name(fn)}-{phrase[:16]}" for p, fn, phrase in MISTAKES])
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)


@settings(max_examples=50, deadline=None)
@given(weights=st.lists(st.floats(0, 10), min_size=1, max_size=8).filter(lambda w: sum(w) > 0),
       u=st.floats(0, 1, exclude_max=True))
def test_inverse_cdf_is_the_index_rng_choices_draws(weights, u):
    probs = [Value(w) for w in weights]
    assert microgpt.sample_token(probs, FixedDraw(u)) == inverse_cdf(weights, u)


def test_fixed_draw_lets_a_sampler_that_never_accepts_finish():
    rng = FixedDraw(0.999)
    assert sample_by_rejection([Value(0.9), Value(0.1)], rng) in (0, 1)
    assert rng.calls > 1000
