"""Build the chapter notebooks from their plain-text sources.

    python -m autograder.build_chapters [NN ...] [--check]

Every chapter is written as `autograder/chapter_sources/NN_name.cells` and built into
`chapters/NN_name/NN_name.ipynb`: the builder parses the source, generates the given code from
the reference package, writes an nbformat-4 notebook with nbgrader (schema 3) metadata, copies
`autograder/course_tools.py` to `chapters/NN_name/course_tools.py` and executes the notebook in
that folder (kernel: this Python environment) so the committed notebook carries its outputs.
Chapters are named by number (`1`, `01`) or full name (`01_autograd`); no names means all.

`--check` builds in memory without executing and exits 1, listing every chapter whose committed
notebook (cells, sources, metadata; outputs are nbval's business) or course_tools.py differs
from what the sources and the reference produce now, or whose notebook was never executed.
Bad input (an unknown chapter, a malformed .cells file) exits 2 with one line naming file:line;
a cell that raises while the notebook executes exits 1 and nothing is written. Building is
deterministic: same sources, same reference, same environment -> byte-identical files.

The .cells format
-----------------
Plain UTF-8 text. A line starting with `#%%` starts a new cell; everything up to the next `#%%`
line is its body (leading and trailing blank lines are dropped). Lines before the first `#%%`
may only be blank or `#` comments (a file header). The header is `#%% KIND OPTIONS...`:

`#%% markdown`
    Markdown; LaTeX as $...$ and $$...$$. The first cell of a chapter is Markdown and states
    the chapter's total points ("10 points").
`#%% code [tags=a,b]`
    An ordinary code cell (examples, pictures): not graded, not locked. `tags` become cell tags
    (e.g. nbval-ignore-output).
`#%% given SPEC [SPEC ...]`
    No body. A locked cell holding the exact source of reference objects (inspect.getsource),
    preceded by the standard-library imports that code uses. SPEC is `module:Name[,Name...]`,
    e.g. `microgpt.nn:linear,softmax`. `Name(m1,m2,...)` keeps only those members of a class
    (its docstring is always kept), e.g. `microgpt.autograd:Value(__slots__,__init__,__repr__)`.
    A name the given code needs from the reference (say `DataError` for `read_docs`) must be
    given in this cell or defined in an earlier cell; relative and `microgpt` imports are never
    written. grade_id: `given_<first name>`.
`#%% solution id=ID`
    A solution cell (nbgrader solution=True, grade_id=ID). The body holds one or more regions
    between `### BEGIN SOLUTION` and `### END SOLUTION` lines, which nbgrader's release replaces
    by `# YOUR CODE HERE` / `raise NotImplementedError()`. Write the contract in the docstring.
`#%% visible id=ID`
    A locked (read-only) visible test, usually calling course_tools; prints readable output.
`#%% hidden id=ID points=P`
    An autograded test cell (grade=True, locked, P points). Its body is exactly: comment lines,
    then `### BEGIN HIDDEN TESTS`, `from autograder.checks import check_x`, one call
    `check_x(...)`, `### END HIDDEN TESTS`. It grades the nearest solution cell above it.

Rules the builder enforces (file:line on failure): known kinds and options; ids match
[A-Za-z0-9_-] and are unique; code cells parse as Python (also with solutions stubbed out);
solution and hidden-test markers only where they belong; no `microgpt` imports in any cell;
every solution cell has a hidden cell after it and every hidden cell a solution before it.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import copy
import importlib
import inspect
import os
import re
import sys
import symtable
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "autograder" / "chapter_sources"
CHAPTERS = ROOT / "chapters"
COURSE_TOOLS = Path(__file__).resolve().with_name("course_tools.py")

CELL_TIMEOUT = 120  # seconds per cell while building
KINDS = ("markdown", "code", "given", "solution", "visible", "hidden")
OPTIONS = {
    "markdown": {"tags"},
    "code": {"tags"},
    "given": set(),
    "solution": {"id", "tags"},
    "visible": {"id", "tags"},
    "hidden": {"id", "points", "tags"},
}
REQUIRED = {"solution": {"id"}, "visible": {"id"}, "hidden": {"id", "points"}}
ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
CHAPTER_RE = re.compile(r"^(\d\d)_[A-Za-z0-9_]+$")
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
HIDDEN_IMPORT_RE = re.compile(r"^from autograder\.checks import (check_\w+)$")
HIDDEN_CALL_RE = re.compile(r"^(check_\w+)\(.*\)$")
MICROGPT_IMPORT_RE = re.compile(r"^\s*(from|import)\s+microgpt\b", re.MULTILINE)

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
}
NOTEBOOK_METADATA = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}


class BuildError(Exception):
    """Bad input: an unknown chapter or a malformed source (message starts with file:line)."""


class ExecutionFailed(Exception):
    """A cell raised while the notebook was executed."""


@dataclass
class Cell:
    kind: str
    line: int  # line of the `#%%` header in the .cells file
    options: dict = field(default_factory=dict)
    body: str = ""
    objects: list = field(default_factory=list)  # given: (module, name, members or None)

    @property
    def grade_id(self):
        return self.options.get("id")


@dataclass
class Chapter:
    name: str
    source: Path

    @property
    def folder(self):
        return CHAPTERS / self.name

    @property
    def notebook(self):
        return self.folder / f"{self.name}.ipynb"

    @property
    def course_tools(self):
        return self.folder / "course_tools.py"


# --------------------------------------------------------------------------- chapters


def discover_chapters():
    """Every chapter source, sorted by name."""
    found = []
    for path in sorted(SOURCES.glob("*.cells")):
        if not CHAPTER_RE.match(path.stem):
            raise BuildError(f"{_rel(path)}:1: a chapter source is named NN_name.cells (two digits, then a name)")
        found.append(Chapter(path.stem, path))
    return found


def select_chapters(args):
    """The chapters named by args (numbers or full names); all of them when args is empty."""
    chapters = discover_chapters()
    if not args:
        return chapters
    selected = []
    for arg in args:
        matches = [c for c in chapters if arg == c.name or (arg.isdigit() and int(arg) == int(c.name[:2]))]
        if not matches:
            known = ", ".join(c.name for c in chapters) or "none"
            raise BuildError(f"unknown chapter {arg!r} (sources in {_rel(SOURCES)}: {known})")
        selected.extend(m for m in matches if m not in selected)
    return selected


# --------------------------------------------------------------------------- parsing


def parse_cells(path):
    """The cells of a .cells file, validated (raises BuildError with file:line)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    cells, body = [], []
    where = _rel(path)
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("#%%"):
            if cells:
                cells[-1].body = _trim(body)
            cells.append(_parse_header(line, f"{where}:{number}", number))
            body = []
        elif cells:
            body.append(line)
        elif line.strip() and not line.lstrip().startswith("#"):
            raise BuildError(f"{where}:{number}: text before the first `#%%` cell header")
    if not cells:
        raise BuildError(f"{where}:1: no cells (a cell starts with a line `#%% KIND`)")
    cells[-1].body = _trim(body)
    _validate(cells, where)
    return cells


def _trim(lines):
    while lines and not lines[0].strip():
        lines = lines[1:]
    while lines and not lines[-1].strip():
        lines = lines[:-1]
    return "\n".join(line.rstrip() for line in lines)


def _parse_header(line, where, number):
    words = line[3:].split()
    if not words:
        raise BuildError(f"{where}: a cell header needs a kind: {', '.join(KINDS)}")
    kind, rest = words[0], words[1:]
    if kind not in KINDS:
        raise BuildError(f"{where}: unknown cell kind {kind!r} (use one of {', '.join(KINDS)})")
    cell = Cell(kind, number)
    if kind == "given":
        if not rest:
            raise BuildError(f"{where}: `given` needs at least one module:Name")
        cell.objects = [obj for spec in rest for obj in _parse_given_spec(spec, where)]
        return cell
    for word in rest:
        key, eq, value = word.partition("=")
        if not eq or not value:
            raise BuildError(f"{where}: expected key=value, got {word!r}")
        if key not in OPTIONS[kind]:
            allowed = ", ".join(sorted(OPTIONS[kind])) or "none"
            raise BuildError(f"{where}: option {key!r} is not allowed on a {kind} cell (allowed: {allowed})")
        if key in cell.options:
            raise BuildError(f"{where}: option {key!r} given twice")
        cell.options[key] = value
    missing = REQUIRED.get(kind, set()) - set(cell.options)
    if missing:
        raise BuildError(f"{where}: a {kind} cell needs {', '.join(sorted(k + '=' for k in missing))}")
    if "id" in cell.options and not ID_RE.match(cell.options["id"]):
        raise BuildError(f"{where}: id {cell.options['id']!r} may only use letters, digits, _ and -")
    if "points" in cell.options:
        try:
            points = float(cell.options["points"])
        except ValueError:
            points = -1.0
        if not points > 0:
            raise BuildError(f"{where}: points must be a positive number, got {cell.options['points']!r}")
        cell.options["points"] = int(points) if points.is_integer() else points
    if "tags" in cell.options:
        cell.options["tags"] = cell.options["tags"].split(",")
    return cell


def _parse_given_spec(spec, where):
    module, colon, names = spec.partition(":")
    if not colon or not module or not names:
        raise BuildError(f"{where}: expected module:Name[,Name...], got {spec!r}")
    parts, depth, current = [], 0, ""
    for ch in names:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        current += ch
    parts.append(current)
    objects = []
    for part in parts:
        m = re.fullmatch(r"([A-Za-z_]\w*)(?:\(([\w,]+)\))?", part)
        if not m:
            raise BuildError(f"{where}: bad name {part!r} in {spec!r} (Name or Class(member,member))")
        members = tuple(m.group(2).split(",")) if m.group(2) else None
        objects.append((module, m.group(1), members))
    return objects


def _validate(cells, where):
    ids = {}
    seen_solution = False
    graded_since_solution = True
    for index, cell in enumerate(cells):
        at = f"{where}:{cell.line}"
        body = cell.body
        if cell.kind == "given":
            if body.strip():
                raise BuildError(f"{at}: a given cell has no body (its code comes from the reference)")
        elif not body.strip():
            raise BuildError(f"{at}: empty {cell.kind} cell")
        if cell.kind != "solution" and ("BEGIN SOLUTION" in body or "END SOLUTION" in body):
            raise BuildError(f"{at}: solution markers outside a solution cell (nbgrader would reject it)")
        if cell.kind != "hidden" and ("BEGIN HIDDEN TESTS" in body or "END HIDDEN TESTS" in body):
            raise BuildError(f"{at}: hidden-test markers outside a hidden cell")
        if cell.kind in ("code", "solution", "visible", "hidden"):
            bad = MICROGPT_IMPORT_RE.search(body)
            if bad:
                line = cell.line + 1 + body[: bad.start()].count("\n")
                raise BuildError(f"{where}:{line}: notebooks never import microgpt; use a `given` cell")
            _check_python(body, where, cell.line)
        if cell.kind == "solution":
            _check_solution(cell, where)
            if not graded_since_solution:
                raise BuildError(f"{at}: the solution cell above (line {last_solution.line}) has no hidden cell")
            seen_solution, graded_since_solution, last_solution = True, False, cell
        if cell.kind == "hidden":
            _check_hidden(cell, where)
            if not seen_solution:
                raise BuildError(f"{at}: a hidden cell grades the solution cell above it, and there is none")
            graded_since_solution = True
        if cell.grade_id:
            if cell.grade_id in ids:
                raise BuildError(f"{at}: id {cell.grade_id!r} already used at line {ids[cell.grade_id]}")
            ids[cell.grade_id] = cell.line
        if index == 0 and cell.kind != "markdown":
            raise BuildError(f"{at}: the first cell is Markdown (goals, time, points)")
    if not graded_since_solution:
        raise BuildError(f"{where}:{last_solution.line}: solution cell {last_solution.grade_id!r} has no hidden cell")
    total = sum(c.options["points"] for c in cells if c.kind == "hidden")
    if total:
        stated = re.search(rf"(?<![\d.]){total:g} points?\b", cells[0].body)
        if not stated:
            raise BuildError(f"{where}:{cells[0].line}: the first Markdown cell must state the total, {total:g} points")


def _check_python(body, where, header_line, what="code"):
    # IPython magics and shell escapes are not Python: blank them for the syntax check
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in body.split("\n")]
    try:
        ast.parse("\n".join(lines))
    except SyntaxError as exc:
        line = header_line + (exc.lineno or 1)
        raise BuildError(f"{where}:{line}: {what} does not parse: {exc.msg}") from None


def _check_solution(cell, where):
    lines = cell.body.split("\n")
    inside = False
    regions = 0
    for offset, line in enumerate(lines, start=1):
        at = f"{where}:{cell.line + offset}"
        if "BEGIN SOLUTION" in line:
            if line.strip() != BEGIN_SOLUTION or inside:
                raise BuildError(f"{at}: expected a lone `{BEGIN_SOLUTION}` line opening one region")
            inside, regions, begin = True, regions + 1, offset
        elif "END SOLUTION" in line:
            if line.strip() != END_SOLUTION or not inside:
                raise BuildError(f"{at}: `{END_SOLUTION}` without a matching begin")
            if begin == offset - 1:
                raise BuildError(f"{at}: empty solution region")
            inside = False
    if inside:
        raise BuildError(f"{where}:{cell.line}: solution region not closed with `{END_SOLUTION}`")
    if not regions:
        raise BuildError(f"{where}:{cell.line}: solution cell {cell.grade_id!r} has no `{BEGIN_SOLUTION}` region")
    _check_python(stub_solutions(cell.body), where, cell.line, "the released (stubbed) cell")


def stub_solutions(source, stub=CODE_STUB):
    """source with every solution region replaced by the stub, indented like its begin line
    (what nbgrader's ClearSolutions does at release)."""
    out, inside = [], False
    for line in source.split("\n"):
        if "BEGIN SOLUTION" in line:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub.split("\n"))
        elif "END SOLUTION" in line:
            inside = False
        elif not inside:
            out.append(line)
    return "\n".join(out)


def _check_hidden(cell, where):
    lines = cell.body.split("\n")
    stripped = [ln.strip() for ln in lines]
    if stripped.count(BEGIN_HIDDEN) != 1 or stripped.count(END_HIDDEN) != 1:
        raise BuildError(f"{where}:{cell.line}: a hidden cell has one `{BEGIN_HIDDEN}` ... `{END_HIDDEN}` block")
    begin, end = stripped.index(BEGIN_HIDDEN), stripped.index(END_HIDDEN)
    if end < begin:
        raise BuildError(f"{where}:{cell.line + end + 1}: `{END_HIDDEN}` before `{BEGIN_HIDDEN}`")
    for offset, line in enumerate(stripped):
        if (offset < begin or offset > end) and line and not line.startswith("#"):
            raise BuildError(f"{where}:{cell.line + offset + 1}: only comments may sit outside the hidden block")
    inner = [(offset, ln) for offset, ln in enumerate(stripped[begin + 1 : end], start=begin + 1) if ln]
    shape = f"`from autograder.checks import check_x` then one call `check_x(...)`"
    if len(inner) != 2:
        raise BuildError(f"{where}:{cell.line + begin + 1}: the hidden block holds exactly {shape}")
    imported = HIDDEN_IMPORT_RE.match(inner[0][1])
    called = HIDDEN_CALL_RE.match(inner[1][1])
    if not imported or not called or imported.group(1) != called.group(1):
        raise BuildError(f"{where}:{cell.line + inner[0][0] + 1}: the hidden block holds exactly {shape}")


# --------------------------------------------------------------------------- given code


def given_source(cell, defined_before, where):
    """The code of a given cell: stdlib imports, then each object's reference source."""
    at = f"{where}:{cell.line}"
    chunks, imports, names_here = [], [], []
    needed = {}  # name -> (module object, object name that needs it)
    for module_name, name, members in cell.objects:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise BuildError(f"{at}: cannot import {module_name!r} ({exc})") from None
        if not hasattr(module, name):
            raise BuildError(f"{at}: {module_name} has no {name!r}")
        obj = getattr(module, name)
        if getattr(obj, "__module__", module_name) != module_name:
            raise BuildError(f"{at}: {module_name}.{name} is defined in {obj.__module__}; name that module")
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            raise BuildError(f"{at}: {module_name}.{name} has no source to give (a class or function?)") from None
        if members is not None:
            source = _select_members(source, members, f"{at}: {module_name}.{name}")
        chunks.append(source.rstrip("\n"))
        names_here.append(name)
        for free in _global_names(source):
            needed.setdefault(free, (module, name))
    for free, (module, user) in needed.items():
        if free in names_here or free in defined_before:
            continue
        statement = _import_binding(module, free)
        if statement is None:
            if free in vars(module):
                raise BuildError(
                    f"{at}: {user} uses {free!r} from {module.__name__}; "
                    f"add {module.__name__}:{free} to this or an earlier given cell"
                )
            if hasattr(builtins, free):
                continue
            raise BuildError(f"{at}: {user} uses {free!r}, which nothing defines")
        kind, text, top = statement
        if kind == "reference":
            raise BuildError(f"{at}: {user} uses {free!r} ({text}); give it in this or an earlier given cell")
        if top not in sys.stdlib_module_names:
            raise BuildError(f"{at}: {user} needs {text!r}, which is not in the standard library")
        if text not in imports:
            imports.append(text)
    parts = []
    if imports:
        parts.append("\n".join(_order_imports(imports)))
    parts.extend(chunks)
    return "\n\n\n".join(parts), names_here


def _select_members(source, members, what):
    """The class in source keeping only its docstring and the named members."""
    tree = ast.parse(source)
    cls = tree.body[0]
    if not isinstance(cls, ast.ClassDef):
        raise BuildError(f"{what} is not a class; member selection needs one")
    lines = source.split("\n")
    body = cls.body
    header = lines[: body[0].lineno - 1]
    kept, found = [], set()
    for index, stmt in enumerate(body):
        name = _statement_name(stmt)
        is_doc = index == 0 and isinstance(stmt, ast.Expr) and isinstance(getattr(stmt, "value", None), ast.Constant)
        if is_doc or name in members:
            start = min([stmt.lineno] + [d.lineno for d in getattr(stmt, "decorator_list", [])])
            kept.append("\n".join(lines[start - 1 : stmt.end_lineno]))
            found.add(name)
    missing = [m for m in members if m not in found]
    if missing:
        raise BuildError(f"{what} has no member {', '.join(missing)}")
    return "\n".join(header) + "\n" + "\n\n".join(kept) + "\n"


def _statement_name(stmt):
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    return None


def _global_names(source):
    """Names the code reads from the global scope, in order of first use."""
    table = symtable.symtable(source, "<given>", "exec")
    names = []

    def walk(t, top):
        for sym in t.get_symbols():
            name = sym.get_name()
            if not sym.is_referenced() or name in names:
                continue
            if top and not (sym.is_assigned() or sym.is_imported()):
                names.append(name)
            elif not top and sym.is_global() and not sym.is_declared_global():
                names.append(name)
        for child in t.get_children():
            walk(child, False)

    walk(table, True)
    return names


def _import_binding(module, name):
    """How `module` binds `name` at its top level, if by an import:
    ("stdlib", import statement, top package) or ("reference", description, None)."""
    tree = ast.parse(inspect.getsource(module))
    for stmt in tree.body:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == name:
                    top = alias.name.split(".")[0]
                    if top == "microgpt":
                        return ("reference", f"import {alias.name}", None)
                    text = f"import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    return ("stdlib", text, top)
        elif isinstance(stmt, ast.ImportFrom):
            for alias in stmt.names:
                if (alias.asname or alias.name) == name:
                    source = "." * stmt.level + (stmt.module or "")
                    if stmt.level or (stmt.module or "").split(".")[0] == "microgpt":
                        return ("reference", f"from {source} import {alias.name}", None)
                    text = f"from {stmt.module} import {alias.name}" + (f" as {alias.asname}" if alias.asname else "")
                    return ("stdlib", text, stmt.module.split(".")[0])
    return None


def _order_imports(lines):
    plain = sorted(ln for ln in lines if ln.startswith("import "))
    froms = sorted(ln for ln in lines if ln.startswith("from "))
    return plain + froms


def _defined_names(source):
    """Top-level names a cell defines (defs, classes, assignments, imports, attribute-free)."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n")]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node in tree.body:
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name.split(".")[0]) for a in node.names)
    return names


# --------------------------------------------------------------------------- notebooks


def build_notebook(chapter):
    """The chapter's notebook, not executed (no outputs)."""
    cells = parse_cells(chapter.source)
    where = _rel(chapter.source)
    nb = nbformat.v4.new_notebook()
    nb.metadata = copy.deepcopy(NOTEBOOK_METADATA)
    defined, used_ids = set(), {c.grade_id for c in cells if c.grade_id}
    for index, cell in enumerate(cells, start=1):
        meta = {}
        if cell.kind == "given":
            source, names = given_source(cell, defined, where)
            grade_id = _unique(f"given_{names[0]}", used_ids)
            meta["nbgrader"] = _nbgrader_meta(grade_id, grade=False, solution=False, locked=True)
        else:
            source, grade_id = cell.body, cell.grade_id
            if cell.kind == "solution":
                meta["nbgrader"] = _nbgrader_meta(grade_id, grade=False, solution=True, locked=False)
            elif cell.kind == "visible":
                meta["nbgrader"] = _nbgrader_meta(grade_id, grade=False, solution=False, locked=True)
            elif cell.kind == "hidden":
                meta["nbgrader"] = _nbgrader_meta(
                    grade_id, grade=True, solution=False, locked=True, points=cell.options["points"]
                )
        if cell.options.get("tags"):
            meta["tags"] = list(cell.options["tags"])
        cell_id = grade_id or f"cell-{index:02d}"
        if cell.kind == "markdown":
            nb.cells.append(nbformat.v4.new_markdown_cell(source, id=cell_id, metadata=meta))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(source, id=cell_id, metadata=meta))
            defined |= _defined_names(source)
    nbformat.validate(nb)
    return nb


def _nbgrader_meta(grade_id, grade, solution, locked, points=None):
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if points is not None:
        meta["points"] = points
    return meta


def _unique(name, used):
    candidate, n = name, 2
    while candidate in used:
        candidate, n = f"{name}_{n}", n + 1
    used.add(candidate)
    return candidate


def cell_lines(chapter):
    """.cells header line of each notebook cell, for messages."""
    return [c.line for c in parse_cells(chapter.source)]


def execute_notebook(nb, folder, timeout=CELL_TIMEOUT):
    """Run every cell of nb in folder with this environment's Python; store outputs in place."""
    from jupyter_client.kernelspec import KernelSpec
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    class CurrentEnvKernelManager(AsyncKernelManager):
        # the python3 kernel of *this* interpreter, whatever kernelspecs the user has installed
        @property
        def kernel_spec(self):
            return KernelSpec(
                argv=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                display_name=KERNELSPEC["display_name"],
                language="python",
                resource_dir="",
            )

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(folder)}},
        record_timing=False,
        coalesce_streams=True,
        allow_errors=False,
    )
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("NBGRADER_EXECUTION", None)
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        for index, cell in enumerate(nb.cells):
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            if errors:
                raise ExecutionFailed(index, f"{errors[0]['ename']}: {errors[0]['evalue']}") from None
        raise ExecutionFailed(None, str(exc).strip().splitlines()[-1]) from None
    _normalise(nb)
    return nb


def _normalise(nb):
    """Deterministic metadata: fixed kernelspec/language_info, no timing or widget state."""
    nb.metadata = nbformat.from_dict(copy.deepcopy(NOTEBOOK_METADATA))
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("collapsed", None)
        cell.metadata.pop("scrolled", None)
    return nb


def notebook_text(nb):
    return nbformat.writes(nb) + "\n"


def compare_notebooks(committed, fresh, lines=None):
    """Differences (sources, cell types, ids, metadata; not outputs) as readable lines."""
    diffs = []
    if (committed.nbformat, committed.nbformat_minor) != (fresh.nbformat, fresh.nbformat_minor):
        diffs.append(f"nbformat {committed.nbformat}.{committed.nbformat_minor}, expected "
                     f"{fresh.nbformat}.{fresh.nbformat_minor}")
    if committed.metadata != fresh.metadata:
        diffs.append("notebook metadata differs")
    if len(committed.cells) != len(fresh.cells):
        diffs.append(f"{len(committed.cells)} cells, the sources make {len(fresh.cells)}")
    for index, (old, new) in enumerate(zip(committed.cells, fresh.cells)):
        at = f"cell {index}" + (f" (.cells line {lines[index]})" if lines and index < len(lines) else "")
        for key in ("cell_type", "id", "source", "metadata"):
            if old.get(key) != new.get(key):
                diffs.append(f"{at}: {key} differs")
        if old.get("cell_type") == "code" and not isinstance(old.get("execution_count"), int):
            diffs.append(f"{at}: never executed (build the chapter to store its outputs)")
    return diffs


def check_chapter(chapter):
    """Why the committed files of chapter differ from a fresh build (empty list: up to date)."""
    fresh = build_notebook(chapter)
    problems = []
    if not chapter.notebook.exists():
        problems.append(f"{_rel(chapter.notebook)} is missing")
    else:
        committed = nbformat.read(chapter.notebook, as_version=4)
        problems += compare_notebooks(committed, fresh, cell_lines(chapter))
        if chapter.notebook.read_text(encoding="utf-8") != notebook_text(committed):
            problems.append(f"{_rel(chapter.notebook)} is not in the builder's canonical JSON layout")
    if not COURSE_TOOLS.exists():
        raise BuildError(f"{_rel(COURSE_TOOLS)} is missing: it is copied next to every notebook")
    if not chapter.course_tools.exists():
        problems.append(f"{_rel(chapter.course_tools)} is missing")
    elif chapter.course_tools.read_bytes() != COURSE_TOOLS.read_bytes():
        problems.append(f"{_rel(chapter.course_tools)} differs from {_rel(COURSE_TOOLS)}")
    return problems


def build_chapter(chapter, log=print):
    """Build, execute and write one chapter; returns seconds spent executing."""
    nb = build_notebook(chapter)
    graded = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    points = sum(c.metadata["nbgrader"]["points"] for c in graded)
    log(f"[{chapter.name}] {len(nb.cells)} cells, {len(graded)} graded ({points:g} points); executing")
    if not COURSE_TOOLS.exists():
        raise BuildError(f"{_rel(COURSE_TOOLS)} is missing: it is copied next to every notebook")
    chapter.folder.mkdir(parents=True, exist_ok=True)
    _write_if_changed(chapter.course_tools, COURSE_TOOLS.read_text(encoding="utf-8"))
    started = time.perf_counter()
    try:
        execute_notebook(nb, chapter.folder)
    except ExecutionFailed as exc:
        index, message = exc.args
        lines = cell_lines(chapter)
        at = f"{_rel(chapter.source)}:{lines[index]}: cell {index}" if index is not None else _rel(chapter.source)
        raise ExecutionFailed(None, f"{at} raised {message}") from None
    seconds = time.perf_counter() - started
    changed = _write_if_changed(chapter.notebook, notebook_text(nb))
    state = "wrote" if changed else "unchanged"
    log(f"{chapter.name}: {state} {_rel(chapter.notebook)} ({len(nb.cells)} cells, {len(graded)} graded, "
        f"{points:g} points, executed in {seconds:.1f} s)")
    return seconds


def _write_if_changed(path, text):
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return False
    path.write_text(text, encoding="utf-8", newline="\n")
    return True


def _rel(path):
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --------------------------------------------------------------------------- command line


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m autograder.build_chapters",
        description="Build chapters/NN_name/NN_name.ipynb from autograder/chapter_sources/NN_name.cells.",
    )
    parser.add_argument("chapters", nargs="*", metavar="NN", help="chapters to build (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="build in memory and exit 1 if a committed notebook or course_tools.py differs")
    args = parser.parse_args(argv)
    try:
        chapters = select_chapters(args.chapters)
        if not chapters:
            raise BuildError(f"no chapter sources in {_rel(SOURCES)}")
        if args.check:
            return _check(chapters, all_chapters=not args.chapters)
        for chapter in chapters:
            build_chapter(chapter)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ExecutionFailed as exc:
        print(f"error: {exc.args[1]}", file=sys.stderr)
        return 1
    print(f"built {len(chapters)} chapter(s)")
    return 0


def _check(chapters, all_chapters):
    stale = []
    for chapter in chapters:
        problems = check_chapter(chapter)
        if problems:
            stale.append(chapter.name)
            print(f"{chapter.name}: DIFFERS")
            for problem in problems[:20]:
                print(f"  {problem}")
            if len(problems) > 20:
                print(f"  ... and {len(problems) - 20} more")
        else:
            print(f"{chapter.name}: up to date")
    if all_chapters and CHAPTERS.is_dir():
        known = {c.name for c in chapters}
        for folder in sorted(p for p in CHAPTERS.iterdir() if p.is_dir() and p.name not in known):
            if (folder / f"{folder.name}.ipynb").exists():
                stale.append(folder.name)
                print(f"{folder.name}: DIFFERS\n  no source {_rel(SOURCES / (folder.name + '.cells'))}")
    if stale:
        print(f"{len(stale)} of {len(chapters)} chapter(s) differ from their sources: {', '.join(stale)}; "
              f"rebuild with python -m autograder.build_chapters {' '.join(n[:2] for n in stale)}")
        return 1
    print(f"all {len(chapters)} chapter(s) up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
