"""The judge on chapters 1 (autograd: Value's operations and backward), 5 (the GPT: attention and a
KV cache changed in place) and 8 (generation: random generators), as test_judge.py does for chapter
3.

For each chapter, both ways: correct code written differently from the instructor's earns the
piece's points; code that attacks the judge from inside its worker earns nothing, ends with a clean
0 and a message (never a traceback of the judge), and costs no other piece its points. Most attacks
first silence the visible tests in the worker (course_tools' checks patched to do nothing), so that
the hidden check, run in the judge, is what decides. The source notebook's full marks and the blank
release's zero are tested elsewhere (test_chapters.py, test_grader_selfcheck.py).

Each piece is judged in a worker of its own, so one notebook carries attacks on several pieces; a
test that cares about one piece judges only that one (the chapters' slowest checks cost seconds).
"""

from __future__ import annotations

import contextlib
import functools
import io
import sys
import time

import nbformat
import pytest

from autograder.checks import check_backward, core
from autograder.notebook_format import split_hidden
from autograder.pipeline.sandbox import Limits
from hostile.attacks import (
    ADD_EQUALS_ANYTHING,
    GPT_ATTACKS,
    HEAD_FOREIGN_NODES,
    MHA_RETURNS_THE_CACHE_LIST,
    SAMPLE_ATTACKS,
    SILENCE,
    TEMPERATURE_LIAR,
)
from judge_support import JudgedChapter, judging_only

AUTOGRAD = JudgedChapter("01_autograd")
# gpt's and generate's checks take 8-15 s on an idle machine, twice that on a busy one: grading's
# own limit
GPT, GENERATION = (
    JudgedChapter(name, Limits(piece_seconds=60)) for name in ("05_gpt", "08_generation")
)


def probe_results(message: str) -> list[str]:
    """What a probing piece reported ('ASKED r1 r2 ... END' in the error it raised), one word per
    request."""
    assert "ASKED " in message, message
    return message.split("ASKED ", 1)[1].split(" END", 1)[0].split()


def clean(result) -> bool:
    """A verdict a learner can read: full marks, or 0 with a message that is no traceback of the
    judge, and no grader failure."""
    return (
        (result.passed or bool(result.message))
        and "Traceback" not in result.message
        and (result.flag is None or result.flag.kind != "grader")
    )


# ================================================================== chapter 1: Value's operations,
# backward

AUTOGRAD_FULL = {
    "value_add": 1,
    "value_mul": 1,
    "value_pow": 1,
    "value_log": 1,
    "value_exp": 1,
    "value_relu": 1,
    "backward": 4,
}
AUTOGRAD_VARIANTS = {
    "value_add": """
        if not isinstance(other, Value):
            other = Value(other)
        total = self.data + other.data
        return Value(total, children=(self, other), local_grads=(1.0, 1.0))
    """,
    "value_mul": """
        o = other if type(other) is Value else Value(other)
        a, b = self.data, o.data
        return Value(a * b, (self, o), (b, a))
    """,
    "value_pow": """
        n, d = exponent, self.data
        return Value(d ** n, (self,), (n * d ** (n - 1),))
    """,
    "value_log": """
        x = self.data
        return Value(math.log(x), children=(self,), local_grads=(x ** -1,))
    """,
    "value_exp": """
        e = math.exp(self.data)
        return Value(e, (self,), (e,))
    """,
    "value_relu": """
        if self.data > 0:
            return Value(self.data, (self,), (1.0,))
        return Value(0, (self,), (0.0,))
    """,
    "backward": """
        # Kahn's algorithm: a node passes its gradient on once all its users have passed theirs
        users, stack, seen = {}, [self], {id(self)}
        while stack:
            node = stack.pop()
            for child in node._children:
                users[id(child)] = users.get(id(child), 0) + 1
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
        self.grad = 1
        ready = [self]
        while ready:
            node = ready.pop()
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * node.grad
                users[id(child)] -= 1
                if users[id(child)] == 0:
                    ready.append(child)
    """,
}

# value_mul: in its worker Value.__add__ is the judge's stand-in for value_add (an earlier
# exercise). Through it, ask the judge for its objects, for a multiplication, for anything else:
# refused; calls of the stand-in itself only ever add, and only nodes that hold numbers (a Box with
# a .data is refused).
MUL_REACHES_THE_STAND_IN = """
stand_in = Value.__dict__["__add__"]
remote = stand_in.__closure__[0].cell_contents       # the handle the stand-in calls
endpoint = remote._endpoint
a, b = Value(3.0), Value(-2.0)
class Box:
    data = 3.0
asked = []
for request in (["getattr", [remote, "__globals__"]], ["getattr", [remote, "__code__"]],
                ["getattr", [remote, "__closure__"]], ["setattr", [remote, "__code__", None]],
                ["delattr", [remote, "__code__"]], ["op", ["mul", a, b]],
                ["op", ["build", remote, [2.0]]], ["lookup", ["microgpt"]],
                ["bind", ["mul", remote]], ["run", ["import microgpt", "<x>"]],
                ["call", [remote, a, b]], ["call", [remote, Box(), 2.0]],
                ["call", [remote, a, b], {"k": 1}]):
    try:
        got = endpoint.request(*request)
        asked.append("ok:" + repr(getattr(got, "data", got)))
    except BaseException as error:
        asked.append(type(error).__name__)
raise ValueError("ASKED " + " ".join(asked) + " END")
"""
STAND_IN_ANSWERS = ["PermissionError"] * 10 + ["ok:1.0", "TypeError", "TypeError"]

# backward from a table: every node's grad looked up by the data (and local gradients) of the graph,
# recorded on the visible tests and on the check's cases as the course's own tests see them (no
# secret)
TOPOLOGICAL_ORDER = """
def order_of(out):
    order, seen, stack = [], {id(out)}, [(out, iter(out._children))]
    while stack:
        node, children = stack[-1]
        for child in children:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append((child, iter(child._children)))
                break
        else:
            stack.pop()
            order.append(node)
    return order
"""
KEY = "hash(tuple((n.data, n.grad, tuple(n._local_grads)) for n in order))"


def autograd_cells() -> dict:
    nb = nbformat.read(AUTOGRAD.source, as_version=4)
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c.source for c in nb.cells}


@functools.lru_cache(maxsize=None)
def backward_from_a_table() -> str:
    """The code of a backward that replays a table of grads recorded on the public cases."""
    table, cells = {}, autograd_cells()
    namespace = {}
    exec(cells["given_Value"] + TOPOLOGICAL_ORDER, namespace)
    order_of = namespace["order_of"]

    def recording_backward(self):
        order = order_of(self)
        key = eval(KEY, {"order": order})
        self.grad = 1
        for node in reversed(order):
            for child, local_grad in zip(node._children, node._local_grads):
                child.grad += local_grad * node.grad
        table[key] = tuple(node.grad for node in order)

    namespace["Value"].backward = recording_backward
    sys.path.insert(0, str(AUTOGRAD.source.parent))  # the visible tests import course_tools
    imported = "course_tools" in sys.modules
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            exec(split_hidden(cells["backward_tests"])[0], namespace)
    finally:
        sys.path.remove(str(AUTOGRAD.source.parent))
        if not imported:
            sys.modules.pop("course_tools", None)
    assert core.CASE_SECRET == ""
    check_backward(namespace["Value"])
    return (
        TOPOLOGICAL_ORDER
        + f"""
TABLE = {table!r}
order = order_of(self)
grads = TABLE.get({KEY})
for node, grad in zip(order, grads or [0] * len(order)):
    node.grad = grad
self.grad = 1 if grads is None else self.grad
"""
    )


def test_autograd_every_piece_written_differently_earns_its_points():
    assert AUTOGRAD.points(AUTOGRAD.learner(**AUTOGRAD_VARIANTS)) == AUTOGRAD_FULL


@pytest.fixture(scope="module")
def autograd_attacked():
    return AUTOGRAD.judged(
        AUTOGRAD.learner(
            value_add=ADD_EQUALS_ANYTHING,
            value_mul=MUL_REACHES_THE_STAND_IN,
            backward=backward_from_a_table(),
        )
    )


def test_autograd_attacks_earn_nothing_and_cost_the_other_pieces_nothing(autograd_attacked):
    assert {p: r.points for p, r in autograd_attacked.items()} == dict(
        AUTOGRAD_FULL, value_add=0, value_mul=0, backward=0
    )
    assert all(clean(r) for r in autograd_attacked.values()), autograd_attacked
    # the visible tests passed (silenced, or replayed from the table): the hidden checks decided
    add, backward = autograd_attacked["value_add"], autograd_attacked["backward"]
    assert add.message.startswith("value_add: a + b with"), add
    assert backward.message.startswith("backward: out.backward() on"), backward


def test_autograd_the_stand_in_for_an_earlier_op_answers_only_calls_and_only_adds(
    autograd_attacked,
):
    assert probe_results(autograd_attacked["value_mul"].message) == STAND_IN_ANSWERS


def test_autograd_a_backward_replaying_the_public_cases_would_pass_them_but_not_the_secret_ones(
    autograd_attacked,
):
    namespace = {}
    exec(autograd_cells()["given_Value"], namespace)
    body = "\n".join("    " + line for line in backward_from_a_table().split("\n"))
    exec("def backward(self):\n" + body, namespace)
    namespace["Value"].backward = namespace["backward"]
    check_backward(namespace["Value"])  # without the judge's secret: every case passes
    # the judge's random graphs are not in the table
    assert autograd_attacked["backward"].points == 0


# The stand-ins compute in the judge, outside the piece's clock: only on numbers, and no power of
# ints too large to send back (before judge.computable, the judge spent 35 s of its own time on the
# first attempt, the piece timed out, and 3 ** 10**9 would have taken hours)
POW_ASKS_TOO_MUCH = """
asked = []
for attempt in (lambda: Value(3) ** 30_000_000, lambda: Value(3) ** 2,
                lambda: Value(-1) ** 30_000_000):
    try:
        asked.append("ok:" + repr(attempt().data))
    except Exception as error:
        asked.append(type(error).__name__)
raise ValueError("ASKED " + " ".join(asked) + " END")
"""
MUL_ON_NO_NUMBERS = """
asked = []
for attempt in (lambda: Value("ab") * 10_000_000, lambda: Value(10_000_000) * "ab",
                lambda: Value([0]) * 3, lambda: Value(2.0) * 3):
    try:
        asked.append("ok:" + repr(attempt().data))
    except Exception as error:
        asked.append(type(error).__name__)
raise ValueError("ASKED " + " ".join(asked) + " END")
"""


def test_autograd_the_stand_ins_compute_only_what_is_quick_on_numbers():
    results = AUTOGRAD.judged(
        AUTOGRAD.learner(value_pow=MUL_ON_NO_NUMBERS, value_log=POW_ASKS_TOO_MUCH),
        only=("value_pow", "value_log"),
    )
    assert probe_results(results["value_log"].message) == ["OverflowError", "ok:9", "ok:1"], (
        results["value_log"]
    )
    assert probe_results(results["value_pow"].message) == ["TypeError"] * 3 + ["ok:6.0"], results[
        "value_pow"
    ]


# ================================================================== chapter 5: attention, the GPT,
# its KV cache

GPT_VARIANT = """
def add(u, v):
    return [a + b for a, b in zip(u, v)]

head_dim = len(state_dict["wte"][0]) // config.n_head
x = rmsnorm(add(state_dict["wte"][token_id], state_dict["wpe"][pos_id]))
for layer, (layer_keys, layer_values) in enumerate(zip(keys, values)):
    w = {name: state_dict[f"layer{layer}.{name}"]
         for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")}
    n = rmsnorm(x)
    q, k, v = (linear(n, w[name]) for name in ("attn_wq", "attn_wk", "attn_wv"))
    layer_keys.append(k)
    layer_values.append(v)
    heads = []  # attention_head per head, not multi_head_attention
    for h in range(config.n_head):
        part = slice(h * head_dim, (h + 1) * head_dim)
        heads += attention_head(q[part], [kk[part] for kk in layer_keys],
                                [vv[part] for vv in layer_values])
    x = add(linear(heads, w["attn_wo"]), x)
    x = add(linear([z.relu() for z in linear(rmsnorm(x), w["mlp_fc1"])], w["mlp_fc2"]), x)
return linear(x, state_dict["lm_head"])
"""
# a correct forward pass on a cache of its own: the given cache only gets foreign Values
GPT_PRIVATE_CACHE = (
    SILENCE
    + """
caches = globals().setdefault("PRIVATE_CACHES", {})
my_keys, my_values = caches.setdefault(id(keys), ([[] for _ in keys], [[] for _ in values]))
x = rmsnorm([t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])])
for layer in range(config.n_layer):
    prefix = f"layer{layer}."
    x_norm = rmsnorm(x)
    q = linear(x_norm, state_dict[prefix + "attn_wq"])
    my_keys[layer].append(linear(x_norm, state_dict[prefix + "attn_wk"]))
    my_values[layer].append(linear(x_norm, state_dict[prefix + "attn_wv"]))
    out = linear(multi_head_attention(q, my_keys[layer], my_values[layer], config.n_head),
                 state_dict[prefix + "attn_wo"])
    x = [o + r for o, r in zip(out, x)]
    out = linear([h.relu() for h in linear(rmsnorm(x), state_dict[prefix + "mlp_fc1"])],
                 state_dict[prefix + "mlp_fc2"])
    x = [o + r for o, r in zip(out, x)]
class Foreign:
    def __init__(self, data):
        self.data, self.grad, self._children, self._local_grads = data, 0, (), ()
for cache in (keys, values):
    for layer in cache:
        layer.append([Foreign(0.0) for _ in x])
return linear(x, state_dict["lm_head"])
"""
)


def test_gpt_written_differently_earns_its_points_after_attacks_on_both_attention_pieces():
    results = GPT.judged(
        GPT.learner(
            attention_head=HEAD_FOREIGN_NODES,
            multi_head_attention=MHA_RETURNS_THE_CACHE_LIST,
            gpt=GPT_VARIANT,
        )
    )
    assert {p: r.points for p, r in results.items()} == {
        "attention_head": 0,
        "multi_head_attention": 0,
        "gpt": 5,
    }
    assert all(clean(r) for r in results.values()), results
    # the hidden check's words
    assert "returned [0.0, 0.0, 0.0, 0.0]; expected" in results["attention_head"].message
    assert "the gradient does not reach q[0]" in results["multi_head_attention"].message


@pytest.mark.parametrize("attack", sorted(GPT_ATTACKS))
def test_a_gpt_attacking_from_inside_the_worker_earns_nothing(attack):
    result = GPT.judged(GPT.learner(gpt=GPT_ATTACKS[attack]), only=("gpt",))["gpt"]
    assert result.points == 0 and clean(result), result
    # what failed leads; the call, at position 0 (the first case, before any secret one), follows
    assert (
        result.message.startswith("gpt")
        and "(For gpt(26, 0, keys, values, state_dict, config) at position 0" in result.message
    ), result


def test_gpt_the_stand_ins_compute_only_on_numbers():
    """multi_head_attention's worker holds the judge's attention_head: a node whose data is a str
    (which the reference's arithmetic would repeat 10 million times, in the judge) is refused
    there."""
    probe = (
        SILENCE
        + """
# the visible tests' own attention_head, in the worker
if attention_head.__name__ == "attention_head_for_these_tests":
    return []
asked = []
for q, k, v in (([Value("ab")], [[Value(10_000_000)]], [[Value(1.0)]]),
                ([Value(1.0)], [[Value(2.0)]], [[Value(3.0)]])):
    try:
        asked.append("ok:" + repr([o.data for o in attention_head(q, k, v)]))
    except Exception as error:
        asked.append("refused" if "the judge's stand-in" in str(error) else type(error).__name__)
raise ValueError("ASKED " + " ".join(asked) + " END")
"""
    )
    result = GPT.judged(GPT.learner(multi_head_attention=probe), only=("multi_head_attention",))
    assert probe_results(result["multi_head_attention"].message) == ["refused", "ok:[3.0]"], result


def test_a_gpt_that_fills_the_given_cache_with_foreign_values_and_keeps_its_own_earns_nothing():
    assert GPT.points(GPT.learner(gpt=GPT_PRIVATE_CACHE), only=("gpt",)) == {"gpt": 0}


# ================================================================== chapter 8: temperature,
# sampling, generate

GENERATE_VARIANT = """
bos = len(chars)
keys, values = empty_kv_cache(config)
name, token, pos = "", bos, 0
while pos < config.block_size:
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    if token == bos:
        break
    name += chars[token]
    pos += 1
return name
"""
# sample_token: a draw from the module random (seeded, so the visible tests could be tabled), not
# from rng
SAMPLE_FROM_THE_MODULE = (
    SILENCE
    + """
import random as module_random
module_random.seed(0)
return module_random.choices(range(len(probs)), weights=[p.data for p in probs])[0]
"""
)


def test_generate_written_differently_earns_its_points_after_attacks_on_the_other_pieces():
    results = GENERATION.judged(
        GENERATION.learner(
            temperature_probs=TEMPERATURE_LIAR,
            sample_token=SAMPLE_FROM_THE_MODULE,
            generate=GENERATE_VARIANT,
        )
    )
    assert {p: r.points for p, r in results.items()} == {
        "temperature_probs": 0,
        "sample_token": 0,
        "generate": 3,
    }
    assert all(clean(r) for r in results.values()), results
    assert results["temperature_probs"].message.startswith(
        "temperature_probs([1.0, 2.0, 3.0], 0.5) returned"
    )
    assert "did not call rng.random()" in results["sample_token"].message


SAMPLE_VERDICTS = {  # what the judge says (the first secret-free case each attack gets wrong)
    "rewinds_the_judges_generator": "called rng.random() 2 times",
    "returns_an_int_that_equals_anything": "returned 0; expected 1, the first index",
    "forges_answers": "the process running your code answered with malformed data",
}


@pytest.mark.parametrize("attack", sorted(SAMPLE_ATTACKS))
def test_a_sample_token_attacking_from_inside_the_worker_earns_nothing(attack):
    result = GENERATION.judged(
        GENERATION.learner(sample_token=SAMPLE_ATTACKS[attack]), only=("sample_token",)
    )
    assert result["sample_token"].points == 0 and clean(result["sample_token"]), result
    assert SAMPLE_VERDICTS[attack] in result["sample_token"].message, result


def test_work_the_learner_asks_of_the_judge_is_bounded_too():
    """sample_token asks the check's generator for twenty million draws: the judge computes them
    (the generator is the judge's), so its own work has a clock and a memory cap. The piece gets 0,
    flagged, in bounded time; the judge stays up for the next piece."""
    quick = JudgedChapter("08_generation", Limits(piece_seconds=5))
    started = time.monotonic()
    result = quick.judged(
        quick.learner(sample_token="return rng.choices(range(2), k=20_000_000)[0]"),
        only=("sample_token",),
    )["sample_token"]
    assert (
        result.points == 0 and result.flag is not None and result.flag.kind in ("timeout", "crash")
    ), result
    # the worker's clocks and the judge's margin
    assert time.monotonic() - started < 60 + 5 + 30 + 10


def test_an_error_in_a_visible_test_names_the_test_and_the_learners_function():
    """The judge's message (the self-check's and the feedback page's) for code that raises in a
    visible test: the error, then the test as written (its call and label), then where: never the
    bare error alone. (A softmax that overflows no longer gets here: its visible tests tell the
    overflow themselves.)"""
    components = JudgedChapter("03_components")
    # the whole list x times a weight
    x_for_x_i = "return [sum(w_oi * x for w_oi in w_o) for w_o in w]"
    with judging_only(["linear"]):
        message = components.judged(components.learner(linear=x_for_x_i))["linear"].message
    assert message.startswith(
        "TypeError: can't multiply sequence by non-int of type 'float' (in the visible "
        "test `y = linear(x, W)`)"  # the statement that ran, not the with block around it
    ), message
    assert message.endswith(
        "It was raised in __mul__ (given code: leave it as it is), called from your linear "
        "(line 18): check what your code passes to it. Likely cause: __mul__ got a whole list "
        "where it needs one Value or number."
    ), message
