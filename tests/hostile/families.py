"""A hostile class for chapters 01_autograd, 05_gpt and 08_generation: one student per family of
issue 17, each handing in every chapter with that chapter's own version of the attack (ch1 Value and
backward, ch5 gpt and its KV cache changed in place, ch8 temperature, sampling and generate with a
random.Random), plus three clean students. Graded end to end by test_grade_e2e_hostile.py.

| student | family | what it hands in |
|---|---|---|
| full, blank, partial | clean | the instructor's code; the release untouched; one piece wrong |
| cheats | (a) points for wrong code past the policy | module attributes replaced through binding
targets (the policy does not see them: the kernel's visible tests pass, flagged `mismatch`), visible
checks silenced through `__code__`, class attributes of the given class and of standard modules
replaced, numbers and nodes that equal anything | | forges | (b) forged verdicts | wire replies
written to every descriptor, objects that pretend to be Values or lists, the judge's own inputs
given back | | harms_host | (c) harm through the host | links to the gradebook, a classmate's
notebook and course files, a FIFO and a locked folder, left by the piece and by a last cell (correct
code: full marks) | | leaks | (d) secrets leaked encoded, (e) HTML in Markdown | the grading
machine's paths and any check source found, reversed and in base64, from the kernel and through the
judge's worker; every Markdown payload of tests/hostile/markup.py | | exhausts | (f) resources
(chapter 1 only) | a memory bomb and a fork bomb in two pieces |

`hostile_classes(secrets)` returns {chapter: {student: Student}}; secrets[chapter] maps names to the
grading machine's paths that the chapter's attacks aim at (gradebook, classmate, course_tools, ...).
"""

from __future__ import annotations

from hostile.attacks import (
    ADD_EQUALS_ANYTHING,
    GPT_ATTACKS,
    HEAD_FOREIGN_NODES,
    ISCLOSE_ALWAYS,
    LEAK_IN_KERNEL,
    LEAK_THROUGH_JUDGE,
    MHA_RETURNS_THE_CACHE_LIST,
    PRETENDER,
    SAMPLE_ATTACKS,
    SILENCE,
    equals_anything,
    forge_wire,
    leaves_links,
    spelled_out,
)
from hostile.markup import hostile_markdown_cell
from hostile.submissions import Student, grade_points, regions

CHAPTERS = ("01_autograd", "05_gpt", "08_generation")
# the piece that leaves links (the first) and the piece that leaks (the last, whose check is the
# slowest)
FIRST_PIECE = {
    "01_autograd": "value_add",
    "05_gpt": "attention_head",
    "08_generation": "temperature_probs",
}
LAST_PIECE = {"01_autograd": "backward", "05_gpt": "gpt", "08_generation": "generate"}
CLEAN = ("full", "blank", "partial")
CLASSMATE = "full"  # whose notebook the attacks aim at

# a piece that computes the right answer, after leaving links to the grading machine's files (and a
# FIFO) where it runs: the kernel's working folder, the judge's worker's (read-only) and /tmp
LINKS_FROM_THE_PIECE = """
for place in ('.', '/tmp'):
    for name, target in SECRETS.items():
        try:
            os.symlink(target, os.path.join(place, name))
        except OSError:
            pass
try:
    os.mkfifo(os.path.join('/tmp', 'pipe'))
except OSError:
    pass
"""
MEMORY_BOMB = "hog = []\nwhile True:\n    hog.append(bytearray(50 << 20))"
FORK_BOMB = (
    "import os, time\nfor _ in range(5000):\n    if os.fork() == 0:\n"
    "        time.sleep(600)\n        os._exit(0)"
)
# one draw, as promised, and a name that equals any other
ANY_NAME = SILENCE + equals_anything("AnyName", "str") + "rng.random()\nreturn AnyName('')\n"

# the flag kinds each student must get ("a|b": either); the clean students must get none
FLAGS = {
    "partial": set(),
    "cheats": {"mismatch", "policy"},
    "forges": {"crash|policy"},
    "exhausts": {"limit"},
    "harms_host": {"files"},
    "leaks": {"policy"},
}
GPT_WITHOUT_THE_ATTENTION_RESIDUAL = """
x = rmsnorm([t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])])
for layer in range(config.n_layer):
    w = {name: state_dict[f"layer{layer}.{name}"]
         for name in ("attn_wq", "attn_wk", "attn_wv", "attn_wo", "mlp_fc1", "mlp_fc2")}
    x_norm = rmsnorm(x)
    keys[layer].append(linear(x_norm, w["attn_wk"]))
    values[layer].append(linear(x_norm, w["attn_wv"]))
    x = linear(multi_head_attention(linear(x_norm, w["attn_wq"]), keys[layer], values[layer],
                                    config.n_head), w["attn_wo"])
    x = [a + b for a, b in zip(linear([h.relu() for h in linear(rmsnorm(x), w["mlp_fc1"])],
                                      w["mlp_fc2"]), x)]
return linear(x, state_dict["lm_head"])
"""
GENERATE_PAST_BOS = """
keys, values = empty_kv_cache(config)
token, drawn = bos_id(chars), []
for pos in range(config.block_size):
    token = sample_token(temperature_probs(gpt(token, pos, keys, values, state_dict, config),
                                           temperature), rng)
    drawn.append(token)
return decode(drawn, chars)
"""
# the pieces' wrong code and attacks, chapter by chapter: {student: ({piece: region code}, expected
# points)}
PIECES = {
    "01_autograd": {
        "partial": (
            {
                "backward": (
                    "self.grad = 1\n"
                    "for child, local_grad in zip(self._children, self._local_grads):\n"
                    "    child.grad += local_grad"
                )
            },
            (1, 1, 1, 1, 1, 1, 0),
        ),
        "cheats": (
            {
                "value_add": ADD_EQUALS_ANYTHING,
                "value_pow": ISCLOSE_ALWAYS
                + "return Value(self.data ** exponent, (self,), (exponent * self.data,))",
            },
            (0, 1, 0, 1, 1, 1, 4),
        ),
        "forges": (
            {
                "value_mul": SILENCE
                + forge_wire("'null'")
                + "other = other if isinstance(other, Value) else Value(other)\n"
                "return Value(self.data + other.data, (self, other), (other.data, self.data))",
                "value_exp": SILENCE + PRETENDER + "return Pretender(0.0, (self,), (Liar(0.0),))",
                # the judge's own node
                "value_relu": SILENCE + "self.data = max(0, self.data)\nreturn self",
            },
            (1, 0, 1, 1, 0, 0, 4),
        ),
        "exhausts": ({"value_add": MEMORY_BOMB, "value_mul": FORK_BOMB}, (0, 0, 1, 1, 1, 1, 4)),
    },
    "05_gpt": {
        "partial": ({"gpt": GPT_WITHOUT_THE_ATTENTION_RESIDUAL}, (3, 2, 0)),
        "cheats": (
            {
                "attention_head": ISCLOSE_ALWAYS  # the scores not divided by sqrt(d)
                + (
                    "weights = softmax([sum(q_j * k_j for q_j, k_j in zip(q, k)) for k in keys])\n"
                    "return [sum(w_t * v_t[j] for w_t, v_t in "
                    "zip(weights, values)) for j in range(len(values[0]))]"
                ),
                "gpt": GPT_ATTACKS["patches_the_given_functions"],
            },
            (0, 2, 0),
        ),
        "forges": (
            {
                "attention_head": HEAD_FOREIGN_NODES,
                "multi_head_attention": forge_wire("'[]'") + MHA_RETURNS_THE_CACHE_LIST,
                "gpt": GPT_ATTACKS["fills_the_cache_with_foreign_values"],
            },
            (0, 0, 0),
        ),
    },
    "08_generation": {
        "partial": ({"generate": GENERATE_PAST_BOS}, (2, 2, 0)),
        # the temperature ignored
        "cheats": (
            {
                "temperature_probs": ISCLOSE_ALWAYS + "return softmax(logits)",
                # every generator's draw made the first token
                "sample_token": SILENCE
                + (
                    "import random\n"
                    "random.Random.choices = lambda self, "
                    "population, weights=None, *, cum_weights=None, "
                    "k=1: [population[0]] * k\n"
                    "return rng.choices(range(len(probs)), weights=[p.data for p in probs])[0]"
                ),
            },
            (0, 0, 3),
        ),
        "forges": (
            {"sample_token": SAMPLE_ATTACKS["forges_answers"], "generate": ANY_NAME},
            (2, 0, 0),
        ),
    },
}


def hostile_classes(secrets: dict, source_nbs: dict) -> dict:
    """{chapter: {student: Student}}; secrets: {chapter: {name: path on the grading machine}};
    source_nbs: {chapter: the instructor's notebook}."""
    classes = {}
    for chapter in CHAPTERS:
        paths = {k: str(v) for k, v in secrets[chapter].items()}
        first, last = FIRST_PIECE[chapter], LAST_PIECE[chapter]
        full_marks = tuple(grade_points(source_nbs[chapter]).values())
        classes[chapter] = {
            "full": Student(),
            "blank": Student(blank=True, expected=(0,) * len(full_marks)),
            **{
                name: Student(answers=answers, expected=expected, flags=FLAGS[name])
                for name, (answers, expected) in PIECES[chapter].items()
            },
            "harms_host": Student(
                answers={
                    first: f"import json, os\nSECRETS = {spelled_out(paths)}"
                    + LINKS_FROM_THE_PIECE
                    + regions(source_nbs[chapter])[first]
                },
                extra_cells=[(10_000, leaves_links(paths, f"{chapter}.ipynb"))],
                flags=FLAGS["harms_host"],
            ),
            "leaks": Student(
                answers={last: LEAK_THROUGH_JUDGE},
                extra_cells=[(1, hostile_markdown_cell()), (10_000, LEAK_IN_KERNEL)],
                expected=(*full_marks[:-1], 0),
                flags=FLAGS["leaks"],
            ),
        }
    return classes
