"""Generation checks: temperature_probs, sample_token and generate accept correct implementations
and reject plausible mistakes with a message that points at the cause."""

import bisect
import itertools
import random

import microgpt
import pytest
from hypothesis import given, settings, strategies as st
from microgpt import (
    Value,
    bos_id,
    decode,
    empty_kv_cache,
    gpt,
    sample_token,
    softmax,
    temperature_probs,
)

from autograder.checks import check_generate, check_sample_token, check_temperature_probs
from autograder.checks.generation import FixedDraw, inverse_cdf
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


# --- generate ---


def generate_loop(state_dict, config, chars, rng, temperature=0.5):
    keys, values = empty_kv_cache(config)
    bos, token, name = len(chars), len(chars), ""
    for pos in range(config.block_size):
        token = sample_token(
            temperature_probs(gpt(token, pos, keys, values, state_dict, config), temperature), rng
        )
        if token == bos:
            return name
        name += chars[token]
    return name


def generate_while(state_dict, config, chars, rng, temperature=0.5):
    keys, values = empty_kv_cache(config)
    tokens = [bos_id(chars)]
    while len(tokens) <= config.block_size:
        logits = gpt(tokens[-1], len(tokens) - 1, keys, values, state_dict, config)
        tokens.append(sample_token(temperature_probs(logits, temperature), rng))
        if tokens[-1] == bos_id(chars):
            break
    return decode(tokens, chars)


def make_generate(mistake):
    """generate with one named mistake."""

    def generate(state_dict, config, chars, rng, temperature=0.5):
        if mistake == "fixed temperature":
            temperature = 1.0
        if mistake == "chars with BOS":
            chars.append("#")
            chars = chars[:-1]
        bos, own = bos_id(chars), random.Random(7)
        keys, values = empty_kv_cache(config)
        token, out = (0 if mistake == "starts at token 0" else bos), []
        limit = config.block_size - 1 if mistake == "block_size - 1 draws" else config.block_size
        for pos in range(limit):
            if mistake == "fresh cache":
                keys, values = empty_kv_cache(config)
            logits = gpt(token, pos, keys, values, state_dict, config)
            probs = (
                softmax(logits)
                if mistake == "no temperature"
                else temperature_probs(logits, temperature)
            )
            if mistake == "argmax":
                token = max(range(len(probs)), key=lambda i: probs[i].data)
            # a generator of its own, not the rng passed in (seeded: one message)
            elif mistake == "own random":
                token = own.choices(range(len(probs)), weights=[p.data for p in probs])[0]
            else:
                token = sample_token(probs, rng)
            if token == bos and mistake != "ignores BOS":
                break
            out.append(token)
        if mistake == "extra draw":
            rng.random()
        return out if mistake == "returns ids" else decode(out, chars)

    generate.__name__ = f"generate with {mistake}"
    return generate


def sample_mutating_probs(probs, rng):
    token = rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]
    probs[token] = Value(1.0)
    return token


def temperature_in_place(logits, temperature):
    for i, z in enumerate(logits):
        logits[i] = z / temperature
    return softmax(logits)


CASES = {
    "temperature_probs": (
        check_temperature_probs,
        [microgpt.temperature_probs, temperature_times_inverse, temperature_power_of_probs],
        [
            (temperature_ignored, "Divide the logits by the temperature before softmax."),
            (temperature_multiplies, "do not multiply them"),
            (temperature_after_softmax, "Apply the temperature to the logits, before softmax"),
            (temperature_on_data, "the gradient does not reach the inputs"),
            (temperature_own_exp, "then use softmax (which subtracts the largest logit"),
            (temperature_in_place, "changed its input: logits[0] was replaced by another object"),
            (drop_last(microgpt.temperature_probs), "returned a list of 2 items"),
            (as_floats(microgpt.temperature_probs), "returned plain numbers"),
        ],
    ),
    "sample_token": (
        check_sample_token,
        [microgpt.sample_token, sample_walk, sample_uniform_total],
        [
            (sample_by_rejection, "the contract is one draw"),
            (sample_mutating_probs, "changed its input: probs["),
            (sample_argmax, "the first index whose cumulative probability"),
            (sample_uniformly, "the first index whose cumulative probability"),
            (sample_global_random, "did not call rng.random()"),
            (sample_list, "rng.choices returns a list, take its [0]"),
            (sample_probability, "expected a token id, an int index into probs"),
            (sample_from_the_top, "the first index whose cumulative probability"),
            (sample_value_weights, "weigh the tokens by the numbers p.data"),
            (sample_one_too_far, "the first index whose cumulative probability"),
        ],
    ),
    "generate": (
        check_generate,
        [microgpt.generate, generate_loop, generate_while],
        [
            (make_generate("starts at token 0"), "Start from BOS"),
            (make_generate("fresh cache"), "Use one KV cache for the whole name"),
            (make_generate("block_size - 1 draws"), "Draw at every position 0 .. block_size - 1"),
            (make_generate("ignores BOS"), "stop as soon as BOS is drawn"),
            (make_generate("no temperature"), "Pass the temperature argument (default 0.5) on"),
            (make_generate("fixed temperature"), "Pass the temperature argument (default 0.5) on"),
            (make_generate("argmax"), "Start at BOS with one KV cache"),
            (make_generate("own random"), "Start at BOS with one KV cache"),
            (make_generate("extra draw"), "drew from rng a different number of times"),
            (make_generate("returns ids"), "expected the name as a str: decode(tokens, chars)"),
            (make_generate("chars with BOS"), "changed its input: chars had 3 items and now has 4"),
        ],
    ),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake, none_mistake)


def name(fn):
    return "wrapped reference" if fn.__name__ == "<lambda>" else fn.__name__


@pytest.mark.parametrize(
    "piece, fn", ALTERNATIVES, ids=[f"{p}-{name(fn)}" for p, fn in ALTERNATIVES]
)
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize(
    "piece, fn, phrase",
    MISTAKES,
    ids=[f"{p}-{name(fn)}-{phrase[:16]}" for p, fn, phrase in MISTAKES],
)
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)


@settings(max_examples=50, deadline=None)
@given(
    weights=st.lists(st.floats(0, 10), min_size=1, max_size=8).filter(lambda w: sum(w) > 0),
    u=st.floats(0, 1, exclude_max=True),
)
def test_inverse_cdf_is_the_index_rng_choices_draws(weights, u):
    probs = [Value(w) for w in weights]
    assert microgpt.sample_token(probs, FixedDraw(u)) == inverse_cdf(weights, u)


def test_fixed_draw_lets_a_sampler_that_never_accepts_finish():
    rng = FixedDraw(0.999)
    assert sample_by_rejection([Value(0.9), Value(0.1)], rng) in (0, 1)
    assert rng.calls > 1000


GLOBAL_BOS = """
def generate(state_dict, config, chars, rng, temperature=0.5):
    keys, values = empty_kv_cache(config)
    token, out = BOS, []
    for pos in range(config.block_size):
        token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                               temperature), rng)
        if token == BOS:
            break
        out.append(token)
    return decode(out, chars)
"""


def test_an_error_in_given_code_names_the_learners_call_and_the_likely_cause():
    """As in a kernel, where every cell is a file of its own: gpt (given) raises because the
    learner's generate passed the notebook's BOS (26) to a model of 4 tokens; the message blames the
    learner's generate, never gpt."""
    from autograder.authoring.build_chapters import given_source

    objects = (
        [("microgpt.autograd", "Value", None)]
        + [("microgpt.nn", n, None) for n in ("linear", "softmax", "rmsnorm", "relu")]
        + [
            ("microgpt.model", n, None)
            for n in (
                "empty_kv_cache",
                "attention_weights",
                "attention_head",
                "multi_head_attention",
                "attention_block",
                "mlp_block",
                "gpt",
            )
        ]
        + [("microgpt.tokenizer", n, None) for n in ("bos_id", "decode")]
        + [("microgpt.sample", n, None) for n in ("temperature_probs", "sample_token")]
    )
    given, _ = given_source(objects, {"NORMS", "ACTIVATIONS"}, "test")
    cells = {"NORMS": {}, "ACTIVATIONS": {}, "BOS": 26}
    exec(compile(given, "/tmp/ipykernel_7/given_cell.py", "exec"), cells)
    cells.update(NORMS={"rmsnorm": cells["rmsnorm"]}, ACTIVATIONS={"relu": cells["relu"]})
    exec(compile(GLOBAL_BOS, "/tmp/ipykernel_7/learner_cell.py", "exec"), cells)
    message = rejection(check_generate, cells["generate"], cells["Value"])
    assert "raised IndexError: list index out of range" in message
    assert (
        "token id is out of range for this vocabulary of 4 tokens: BOS is bos_id(chars) = 3"
        in message
    )
    assert (
        "It was raised in gpt (given code: leave it as it is), called from your generate (line 6)"
        in message
    )
    assert "your gpt" not in message
