"""Hostile submissions, made from a chapter's released notebook as a learner would hand them in: the
solution stubs filled in (with the instructor's code unless stated), plus the hostile change. A
Student says how to write the submission folder, the expected points of each grade cell and the flag
kinds it must get; `released_course`, `fill` and `write_submission` serve any chapter.

`hostile_class` is the class of chapter 03_components (pieces linear, softmax, rmsnorm; 2 points
each) graded by test_grade_hostile.py; families.py has the class of chapters 01, 05 and 08 graded by
test_grade_e2e_hostile.py. `secrets` are paths of the grading machine that no submission may read or
change.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from autograder.notebook_format import CODE_STUB as STUB, is_tests, nbgrader_meta, split_regions
from hostile.attacks import LEAK_IN_KERNEL, LEAK_THROUGH_JUDGE, forge_wire, leaves_links

CHAPTER = "03_components"
GRADE_CELLS = ("linear_tests", "softmax_tests", "rmsnorm_tests")

WRONG_LINEAR = "return [sum(w_oi * x_i for w_oi, x_i in zip(w_o, x)) + 1 for w_o in w]"
WRONG_SOFTMAX = (
    "largest = max(z.data for z in logits)\nexps = [(z - largest).exp() for z in logits]\n"
    "return [e / len(exps) for e in exps]"
)  # divides by n, not by the sum
WRONG_RMSNORM = (
    "mean_square = sum(x_i * x_i for x_i in x) / len(x)\n"
    "scale = mean_square ** -0.5\nreturn [x_i * scale for x_i in x]"
)
ENDLESS = "while True:\n    pass"
LEFTOVER_MARKER = "86400.4242"


@dataclass
class Student:
    # solution id -> region code (unindented); missing: the instructor's
    answers: dict = field(default_factory=dict)
    blank: bool = False  # leave every stub
    # (position after the cell with this grade_id or index,
    extra_cells: list = field(default_factory=list)
    #  code, or a cell)
    edit: object = None  # function(nb) -> None, applied last
    # name -> bytes: the folder's files instead of the notebook
    files: dict | None = None
    # points of each grade cell, in order; None: full marks
    expected: tuple | None = None
    flags: set = field(default_factory=set)  # kinds it must get; "a|b": either kind


def released_course(project: Path, folder: Path, chapters=(CHAPTER,)):
    """(course, {chapter: (source notebook, release notebook)}): a copy of the project's chapters in
    folder, each released."""
    from autograder.pipeline.course import copy_chapter_sources, quiet_gradebook

    course = copy_chapter_sources(project, folder, list(chapters))
    notebooks = {}
    for chapter in chapters:
        with quiet_gradebook():
            released = course.api().generate_assignment(chapter, force=True)
        assert released["success"], released.get("log")
        notebooks[chapter] = (
            nbformat.read(course.source_notebook(chapter), as_version=4),
            nbformat.read(course.release_dir(chapter) / f"{chapter}.ipynb", as_version=4),
        )
    return course, notebooks


def grade_points(source_nb) -> dict:
    """grade_id -> points of each automatically graded cell of the chapter, in notebook order."""
    return {
        nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"]
        for c in source_nb.cells
        if is_tests(c)
    }


def expected_points(student: Student, source_nb) -> tuple:
    """The points the student must get for each grade cell, in notebook order."""
    return (
        student.expected
        if student.expected is not None
        else tuple(grade_points(source_nb).values())
    )


def regions(source_nb) -> dict:
    """solution id -> the instructor's region code (indentation removed)."""
    found = {}
    for cell in source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            _, parts = split_regions(cell.source)
            found[meta["grade_id"]] = "\n".join(line[4:] for line in parts[0])
    return found


def fill(release_nb, source_nb, student: Student):
    """The release with every stub replaced by the student's region code (4-space indented)."""
    nb = copy.deepcopy(release_nb)
    if student.blank:
        return nb
    answers = {**regions(source_nb), **student.answers}
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            code = "\n".join("    " + line for line in answers[meta["grade_id"]].split("\n"))
            indented_stub = "\n".join("    " + line for line in STUB.split("\n"))
            assert indented_stub in cell.source, cell.source
            cell.source = cell.source.replace(indented_stub, code)
    for after, code in student.extra_cells:
        at = index_of(nb, after) + 1 if isinstance(after, str) else after
        nb.cells.insert(
            at, code if isinstance(code, nbformat.NotebookNode) else new_code_cell(code)
        )
    if student.edit:
        student.edit(nb)
    return nb


def index_of(nb, grade_id):
    return next(
        i
        for i, c in enumerate(nb.cells)
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id
    )


def delete_cell(grade_id):
    def edit(nb):
        del nb.cells[index_of(nb, grade_id)]

    return edit


def replace_source(grade_id, source):
    def edit(nb):
        nb.cells[index_of(nb, grade_id)].source = source

    return edit


def move_before(grade_id, other):
    def edit(nb):
        cell = nb.cells.pop(index_of(nb, grade_id))
        nb.cells.insert(index_of(nb, other), cell)

    return edit


def hostile_class(
    secrets: dict, port: int, cell_seconds: float, wall_seconds: float
) -> dict[str, Student]:
    """The class. secrets: name -> path on the grading machine; port: a loopback port that must
    never be reached; cell_seconds, wall_seconds: the per-cell and whole-notebook limits configured
    for the test (slow_cells has just enough cells, each under the cell limit, for their sleeps
    alone to outlast the wall clock)."""
    slow_cells = int(wall_seconds // (cell_seconds * 0.8)) + 1
    paths = json.dumps({k: str(v) for k, v in secrets.items()})
    read_all = (
        f"import json\nfor name, path in json.loads({paths!r}).items():\n"
        "    try:\n        data = open(path, 'rb').read()\n"
        "        print('READ', name, data[:200])\n"
        f"    except OSError as error:\n        print('refused', name, type(error).__name__)\n"
    )
    write_all = (
        f"import json\nfor name, path in json.loads({paths!r}).items():\n"
        f"    try:\n        open(path, 'ab').write(b'HACKED')\n        print('WROTE', name)\n"
        f"    except OSError as error:\n        print('refused', name, type(error).__name__)\n"
    )
    reads_in_region = (
        "try:\n    print(open('/etc/hostname').read())\nexcept OSError:\n    pass\n"
        "return [sum(w_oi * x_i for w_oi, x_i in zip(w_o, x)) for w_o in w]"
    )
    # the checks are not in the kernel to patch: the visible tests are
    fake_pass = (
        "import course_tools, math\n"
        "for helper in ('expect_close', 'expect_equal', 'check_shape', "
        "'check_probabilities', 'check_rms_near_one'):\n"
        "    setattr(course_tools, helper, lambda *args, **kwargs: None)\n"
        "course_tools.gradient_check = lambda *args, **kwargs: 0.0\n"
    )
    return {
        "full": Student(),
        "blank": Student(blank=True, expected=(0, 0, 0)),
        "partial": Student(answers={"rmsnorm": WRONG_RMSNORM}, expected=(2, 2, 0)),
        # endless loops
        "endless_loop": Student(answers={"linear": ENDLESS}, expected=(0, 2, 2), flags={"timeout"}),
        "ignores_interrupt": Student(
            extra_cells=[
                (
                    2,
                    "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                    "while True:\n    pass",
                )
            ],
            flags={"crash"},
        ),
        "slow_cells": Student(
            extra_cells=[(2, f"import time\ntime.sleep({cell_seconds * 0.8})")] * slow_cells,
            flags={"timeout"},
        ),
        # memory and processes
        "memory_bomb": Student(
            extra_cells=[(2, "hog = []\nwhile True:\n    hog.append(bytearray(50 << 20))")],
            flags={"limit"},
        ),
        "fork_bomb": Student(
            extra_cells=[
                (
                    2,
                    "import os, time\nfor _ in range(5000):\n    if os.fork() == 0:\n"
                    "        time.sleep(600)\n        os._exit(0)",
                )
            ],
            flags={"limit"},
        ),
        # exits and a killed kernel
        "exits_kernel": Student(extra_cells=[(2, "import os\nos._exit(1)")], flags={"crash"}),
        "killed_kernel": Student(
            extra_cells=[
                ("softmax_tests", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
            ],
            flags={"crash"},
        ),
        # test cells deleted, edited, reordered
        "deleted_test": Student(
            answers={"linear": WRONG_LINEAR},
            edit=delete_cell("linear_tests"),
            expected=(0, 2, 2),
            flags={"tampered"},
        ),
        "edited_test": Student(
            answers={"linear": WRONG_LINEAR},
            edit=replace_source("linear_tests", "pass"),
            expected=(0, 2, 2),
            flags={"tampered"},
        ),
        "sys_exit_in_test": Student(
            answers={"softmax": WRONG_SOFTMAX},
            edit=replace_source("softmax_tests", "import sys\nsys.exit(0)"),
            expected=(2, 0, 2),
            flags={"tampered"},
        ),
        "reordered_tests": Student(edit=move_before("rmsnorm_tests", "linear"), flags={"tampered"}),
        # files
        "missing_file": Student(
            files={"notes.txt": b"I did it on paper"}, expected=(0, 0, 0), flags={"missing"}
        ),
        "renamed_file": Student(files={"rename"}, expected=(0, 0, 0), flags={"missing"}),
        "empty_file": Student(
            files={f"{CHAPTER}.ipynb": b""}, expected=(0, 0, 0), flags={"missing"}
        ),
        "invalid_json": Student(
            files={f"{CHAPTER}.ipynb": b'{"cells": [ {"cell_type": "code", '},
            expected=(0, 0, 0),
            flags={"missing"},
        ),
        "not_a_notebook": Student(
            files={f"{CHAPTER}.ipynb": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"},
            expected=(0, 0, 0),
            flags={"missing"},
        ),
        "json_not_notebook": Student(
            files={f"{CHAPTER}.ipynb": b'{"hello": "world"}'}, expected=(0, 0, 0), flags={"missing"}
        ),
        # huge output
        "many_lines": Student(
            extra_cells=[(2, "for i in range(3_000_000):\n    print(i)")], flags={"output-limit"}
        ),
        "one_huge_line": Student(
            extra_cells=[(2, "print('x' * 50_000_000)")], flags={"output-limit"}
        ),
        # secrets, writing outside, network, processes left running
        "reads_secrets": Student(
            answers={"linear": reads_in_region}, extra_cells=[(2, read_all)], flags={"policy"}
        ),  # its linear is right: the policy only warns
        "writes_outside": Student(
            answers={"linear": "open('../../../gradebook.db', 'ab')\n" + regions_linear()},
            extra_cells=[(2, write_all)],
            expected=(0, 2, 2),
            flags={"policy"},
        ),
        "network": Student(
            answers={
                "linear": (
                    "import socket\ntry:\n"
                    f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                    f"except OSError:\n    pass\n"
                )
                + regions_linear()
            },
            extra_cells=[
                (
                    2,
                    "import socket\ntry:\n"
                    f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
                    f"    print('CONNECTED')\nexcept OSError as error:\n"
                    "    print('refused', error)",
                )
            ],
            flags={"policy"},
        ),
        # links, FIFOs and a locked folder left in its sandbox: ignored, never followed by nbgrader
        # or feedback
        "leaves_links": Student(
            extra_cells=[(10_000, leaves_links(secrets, f"{CHAPTER}.ipynb"))], flags={"files"}
        ),
        "leftover_process": Student(
            extra_cells=[
                (
                    2,
                    f"import subprocess\nsubprocess.Popen(['sleep', '{LEFTOVER_MARKER}'], "
                    f"start_new_session=True)",
                )
            ],
            flags={"leftover"},
        ),
        # faking a pass
        "imports_reference": Student(
            answers={
                "linear": "from microgpt.nn import linear as reference\nreturn reference(x, w)"
            },
            expected=(0, 2, 2),
            flags={"policy"},
        ),
        "patches_checks": Student(
            answers={"linear": WRONG_LINEAR},
            extra_cells=[(2, fake_pass)],
            expected=(0, 2, 2),
            flags={"mismatch"},
        ),
        "patches_math": Student(
            answers={"softmax": WRONG_SOFTMAX},
            extra_cells=[
                (
                    2,
                    fake_pass + "import sys\nmath.isclose = lambda *args, **kwargs: True\n"
                    "for name, module in list(sys.modules.items()):\n"
                    "    if name.startswith('autograder.checks') and hasattr(module, 'fail'):\n"
                    "        module.fail = lambda *args, **kwargs: None",
                )
            ],
            expected=(2, 0, 2),
            flags={"mismatch"},
        ),
        "swallows_errors": Student(
            answers={"rmsnorm": WRONG_RMSNORM},
            # after course_tools' own handler, which it replaces
            extra_cells=[
                (
                    "linear",
                    "get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)",
                )
            ],
            expected=(2, 2, 0),
            flags={"mismatch"},
        ),
        "dunder_escape": Student(
            answers={"linear": "object.__subclasses__()\n" + regions_linear()}, flags={"policy"}
        ),
        # beating the judge from inside its worker: patching past the policy, forging answers on the
        # wire
        "patches_past_the_policy": Student(
            answers={
                "linear": "for math.isclose in [lambda *a, **k: True]:\n    pass\n" + WRONG_LINEAR
            },
            expected=(0, 2, 2),
            flags={"mismatch"},
        ),
        "forges_answers": Student(
            answers={"linear": forge_wire("'null'") + WRONG_LINEAR},
            expected=(0, 2, 2),
            flags={"policy"},
        ),
        # secrets and paths printed encoded, from the kernel and from the judge's worker
        "leaks_encoded": Student(
            answers={"linear": LEAK_THROUGH_JUDGE},
            extra_cells=[(10_000, LEAK_IN_KERNEL)],
            expected=(0, 2, 2),
            flags={"policy"},
        ),
        "patches_module_in_region": Student(
            answers={"softmax": "math.exp = lambda z: 1.0\n" + WRONG_SOFTMAX},
            expected=(2, 0, 2),
            flags={"policy"},
        ),
    }


def regions_linear():
    return "return [sum(w_oi * x_i for w_oi, x_i in zip(w_o, x)) for w_o in w]"


def write_submission(folder: Path, student: Student, release_nb, source_nb):
    """Write the student's submitted folder: nbgrader's submitted/<student>/<chapter>/ (named after
    the chapter, as its notebook is)."""
    folder.mkdir(parents=True, exist_ok=True)
    if student.files == {"rename"}:
        nbformat.write(fill(release_nb, source_nb, Student()), folder / f"{folder.name} (1).ipynb")
    elif student.files is not None:
        for name, data in student.files.items():
            (folder / name).write_bytes(data)
    else:
        nbformat.write(fill(release_nb, source_nb, student), folder / f"{folder.name}.ipynb")
