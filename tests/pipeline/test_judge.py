"""The judge outside the learner's process (autograder/pipeline/judge.py, wire.py, worker.py).

Chapter 3's pieces are judged with learner code that attacks the judge from inside its worker: it
patches what a check would rely on, forges answers on the wire, reaches for the judge's objects
through the handles it was given, lies with objects that equal anything, and ends its worker. None
earns a point; correct code written differently earns every point. The wire itself refuses malformed
messages, and the checks' random cases change with the judge's secret.
"""

from __future__ import annotations

import os
import random

import pytest

from autograder.checks import core
from autograder.pipeline import judge
from autograder.pipeline.wire import Endpoint, Mirror, WireError
from judge_support import JudgedChapter

CHAPTER = JudgedChapter("03_components")
CORRECT_LINEAR = "return [sum(w_oi * x_i for w_oi, x_i in zip(w_o, x)) for w_o in w]"
WRONG_LINEAR = "return [sum(w_oi * x_i for w_oi, x_i in zip(w_o, x)) + 1 for w_o in w]"
learner, points, judged = CHAPTER.learner, CHAPTER.points, CHAPTER.judged


# ------------------------------------------------------------------ honest work, both ways


def test_correct_code_written_differently_earns_every_point():
    other_linear = (
        "out = []\nfor row in w:\n    total = 0\n    for weight, value in zip(row, x):\n"
        "        total = total + weight * value\n    out.append(total)\nreturn out"
    )
    assert points(learner(linear=other_linear)) == {"linear": 2, "softmax": 2, "rmsnorm": 2}


def test_a_wrong_piece_costs_its_own_points_and_the_message_names_the_input():
    results = judged(learner(linear=WRONG_LINEAR))
    assert {p: r.points for p, r in results.items()} == {"linear": 0, "softmax": 2, "rmsnorm": 2}
    assert results["linear"].message.startswith("linear(x, ")  # the visible tests speak first


# ------------------------------------------------------------------ attacks from inside the worker

ATTACKS = {
    # a module attribute replaced through a binding target the policy does not look at
    "patches_isclose_by_for_target": (
        "import math\nfor math.isclose in [lambda *a, **k: True]:\n    pass\n"
    )
    + WRONG_LINEAR,
    # everything importable in the worker patched: nothing of the check is there to patch
    "patches_every_module": (
        "import sys\nfor module in list(sys.modules.values()):\n"
        "    for name in ('fail', 'isclose', "
        "'expect_close', 'check_linear'):\n        try:\n            setattr(module, name, "
        "lambda *a, **k: True)\n        except Exception:\n            pass\n"
    )
    + WRONG_LINEAR,
    # forged answers written on every descriptor the worker might talk to the judge on
    "forges_answers": (
        "import os\nfor fd in range(1, 12):\n    for number in range(1, 60):\n        try:\n"
        '            os.write(fd, b\'{"r": %d, "ok": null, "S": {}}\\n\' % number)\n'
        "        except OSError:\n            pass\n"
    )
    + WRONG_LINEAR,
    # results that claim to equal anything
    "equals_anything": "class Liar(float):\n    def __eq__(self, other):\n        return True\n"
    "    __hash__ = float.__hash__\nclass Node:\n    data = Liar(0.0)\n    grad = 0\n"
    "    _children = ()\n    _local_grads = ()\n    def __eq__(self, other):\n        return True\n"
    "return [Node() for _ in w]",
    # the worker ends itself in the middle of the check
    "ends_its_worker": "import os\nos._exit(0)",
    # reads what a check would need: nothing of it is inside. The whole file system is searched,
    # links not followed (/usr holds link loops, e.g. /usr/bin/X11 -> /usr/bin, that kept a
    # recursive glob from ever ending: it ran into the piece's time limit and never looked at most
    # folders)
    "reads_the_check_library": (
        "import os\nfound = []\nfor folder, dirs, files in os.walk('/'):\n"
        "    if folder == '/':\n"
        "        dirs[:] = [d for d in dirs if d not in ('proc', 'sys', 'dev')]\n"
        "    if os.path.basename(folder) == 'checks' and 'components.py' in files:\n"
        "        found.append(os.path.join(folder, 'components.py'))\n"
        "if found:\n    raise SystemExit(open(found[0]).read())\n"
    )
    + WRONG_LINEAR,
}
# attacks whose search must end with nothing found: their wrong code then runs and is what fails
SEARCHES = {"reads_the_check_library"}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_an_attack_from_inside_the_worker_earns_nothing(attack):
    results = judged(learner(linear=ATTACKS[attack]))
    assert results["linear"].points == 0, results["linear"]
    assert results["softmax"].points == 2 and results["rmsnorm"].points == 2, (
        "another piece was harmed"
    )
    assert "def check_linear" not in results["linear"].message
    if attack in SEARCHES:  # the search ended (not cut by the time limit) and found nothing
        assert results["linear"].message.startswith("linear(x, "), results["linear"].message


def test_the_judge_answers_only_calls_of_what_it_handed_over():
    """softmax's worker holds the judge's stand-in for linear (an earlier exercise). Through it,
    learner code asks the judge for attributes, globals and other objects: every request is refused,
    and what the learner got back is reported in the check's message (it is the learner's
    output)."""
    probe = (
        "remote = linear.__closure__[0].cell_contents\nasked = []\n"
        "for request in (['getattr', [remote, '__globals__']], ['getattr', [remote, 'func']],\n"
        "                ['setattr', [remote, 'x', 1]], ['op', ['add', remote, remote]],\n"
        "                ['lookup', ['os']], ['run', ['import os', '<x>']]):\n"
        "    try:\n        asked.append(repr(remote._endpoint.request(*request))[:40])\n"
        "    except Exception as error:\n        asked.append(type(error).__name__)\n"
        "raise ValueError('ASKED ' + ' '.join(asked))"
    )
    result = judged(learner(softmax=probe))["softmax"]
    assert result.points == 0
    asked = result.message.split("ASKED ", 1)[1].split()[:6]
    assert asked == ["PermissionError"] * 6, result.message


def test_the_earlier_exercises_are_the_reference_and_later_ones_are_absent():
    """rmsnorm's worker: linear and softmax (earlier) are the judge's reference; using them is fine,
    but they cannot stand in for rmsnorm itself, which no worker is ever handed."""
    uses_softmax = "return softmax(x)"
    assert points(learner(rmsnorm=uses_softmax))["rmsnorm"] == 0
    no_later = "return rmsnorm(logits)"  # softmax's worker has no rmsnorm yet: NameError, 0 points
    assert points(learner(softmax=no_later))["softmax"] == 0


def test_a_huge_answer_is_refused_not_read():
    result = judged(learner(linear="return [0.5] * 12_000_000"))["linear"]
    assert result.points == 0


# ------------------------------------------------------------------ the wire and the secret cases


def endpoint():
    read_fd, write_fd = os.pipe()
    return Endpoint(
        "judge",
        read_fd,
        write_fd,
        lambda wire: Mirror(None, wire),
        lambda wire, c: None,
        lambda *a: None,
    )


@pytest.mark.parametrize(
    "state",
    [
        {"1": ["N", 1.0, 0, {"T": []}, {"T": []}]},  # a record of the wrong length
        {"2": ["L", []]},  # the judge's own id, never sent
        {"3": ["L", [{"L": 999}]]},  # a list never described
        {"3": ["L", [{"N": 998}]]},  # a node of the judge's never sent
        {"3": ["X", []]},  # an unknown kind
        {"3": ["R", [3, "not a state", None]]},  # a generator state that is not one
        "not a mapping",
    ],
)
def test_the_wire_refuses_malformed_state(state):
    with pytest.raises(WireError):
        endpoint().decode([], state)


@pytest.mark.parametrize("token", [{"L": 7}, {"H": "x"}, {"Z": 1}, {"T": 5}, [1, 2]])
def test_the_wire_refuses_malformed_tokens(token):
    with pytest.raises(WireError):
        endpoint().decode([token], {})


def test_the_random_cases_change_with_the_judges_secret():
    fixed = [core.case_rng("linear").random() for _ in range(3)]
    try:
        core.CASE_SECRET = judge.RUN_SECRET
        secret = [core.case_rng("linear").random() for _ in range(3)]
    finally:
        core.CASE_SECRET = ""
    assert fixed == [random.Random("linear").random() for _ in range(3)]  # the course's own tests
    assert secret != fixed and len(judge.RUN_SECRET) >= 32


def test_a_judge_that_cannot_run_the_learners_code_fails_loudly_and_scores_nothing(tmp_path):
    """The judge's own failure (here: the worker's interpreter is missing) is raised as JudgeFailed,
    so `grade` flags it `grader` and records nothing; it is never a learner's timeout or zero."""
    from autograder.pipeline.confirm import check_pieces
    from autograder.pipeline.sandbox import Confinement

    broken = Confinement(bubblewrap=False, python=str(tmp_path / "no-such-python"))
    with pytest.raises(judge.JudgeFailed, match="no-such-python"):
        check_pieces(CHAPTER.source, CHAPTER.source, confinement=broken, chapter="03_components")
