"""Which of a chapter's code cells the judge's worker must run: the cells its graded cells depend
on.

The judge (confirm.py, judge.py) rebuilds the state a grade cell sees by running the instructor's
cells above it. Plain demonstration cells (plots, printed comparisons, small experiments) cannot
change a check's result, and running them would double a chapter's grading time, so they are
skipped: a cell is kept when it carries nbgrader metadata other than a test (given code, an
exercise), when it has a side effect on shared state, or when it binds a name a later kept cell or
test cell reads. The analysis is static and errs towards keeping a cell;
tests/authoring/test_chapters.py shows on every chapter that the judge gives each trial submission
exactly the points nbgrader's kernel gave.
"""

from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass

# a call into one of these may change what later cells see
STATEFUL_MODULES = ("random", "sys", "os")
# random.Random(7) makes a new generator, touches no state
PURE_CONSTRUCTORS = ("Random", "SystemRandom")


@dataclass(frozen=True)
class CellNames:
    """What one cell does to the notebook's namespace."""

    binds: frozenset  # names the cell binds at the notebook's top level
    reads: frozenset  # top-level names the cell reads before (or without) binding them itself
    side_effect: bool  # changes state other cells may see, beyond binding names


def needed_cells(cells: list[tuple[int, str, dict]], last: int) -> set[int]:
    """Indices of the cells (index, source, nbgrader metadata) up to `last` that the judge must run
    in its shared instructor state. A test cell is run only by the piece it grades (not returned)
    unless it has a side effect or a later kept cell or test reads a name it binds."""
    names = {index: cell_names(source) for index, source, _ in cells if index <= last}
    tests = {
        index
        for index, _, meta in cells
        if index <= last and meta.get("grade") and not meta.get("solution")
    }
    kept = {
        index
        for index, _, meta in cells
        if index <= last and ((meta and index not in tests) or names[index].side_effect)
    }
    while True:  # a cell is needed when a later kept cell or test reads a name it binds
        more = {
            index
            for index in names
            if index not in kept
            and any(
                names[index].binds & names[reader].reads
                for reader in kept | tests
                if reader > index
            )
        }
        if not more:
            return kept
        kept |= more


def cell_names(source: str) -> CellNames:
    """The names a cell binds and reads, and whether it has a side effect (a cell that does not
    parse reads and binds nothing and counts as a side effect: it is kept)."""
    try:
        tree = ast.parse(source)
        table = symtable.symtable(source, "<cell>", "exec")
    except (SyntaxError, ValueError):
        return CellNames(frozenset(), frozenset(), True)
    reader = TopLevelReads()
    reader.visit(tree)
    binds = {
        s.get_name()
        for s in table.get_symbols()
        if s.is_assigned() or s.is_imported() or s.is_namespace()
    }
    nested_reads, nested_binds = nested_globals(table)
    return CellNames(
        frozenset(binds | nested_binds),
        frozenset(reader.free | nested_reads),
        reader.side_effect or bool(nested_binds),
    )


def nested_globals(table) -> tuple[set[str], set[str]]:
    """(top-level names read, names assigned through `global`) inside the cell's functions, classes,
    lambdas and comprehensions, at any depth."""
    reads, binds = set(), set()
    for child in table.get_children():
        for symbol in child.get_symbols():
            if symbol.is_global() and symbol.is_referenced():
                reads.add(symbol.get_name())
            if symbol.is_declared_global() and symbol.is_assigned():
                binds.add(symbol.get_name())
        more_reads, more_binds = nested_globals(child)
        reads |= more_reads
        binds |= more_binds
    return reads, binds


class TopLevelReads(ast.NodeVisitor):
    """Walks a cell's top-level code in execution order: `free` collects the names read before the
    cell binds them; `side_effect` is set by a store into an object the cell did not make (x.a =
    ..., x[i] = ..., del x.a) and by a call of a function of STATEFUL_MODULES. The bodies of
    functions, classes, lambdas and comprehensions are left to symtable (nested_globals)."""

    def __init__(self):
        self.bound, self.free, self.side_effect = set(), set(), False

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            if node.id not in self.bound:
                self.free.add(node.id)
        else:
            self.bound.add(node.id)

    def store_into(self, node):
        """x.a = ..., x[i] = ..., del x[i]: a side effect unless x was made in this cell."""
        base = node
        while isinstance(base, (ast.Attribute, ast.Subscript)):
            base = base.value
        if not (isinstance(base, ast.Name) and base.id in self.bound):
            self.side_effect = True

    def visit_Attribute(self, node):
        if not isinstance(node.ctx, ast.Load):
            self.store_into(node)
        self.generic_visit(node)

    visit_Subscript = visit_Attribute

    def visit_Assign(self, node):  # the value is computed before the targets are bound
        self.visit(node.value)
        for target in node.targets:
            self.visit(target)

    def visit_AugAssign(self, node):  # x += 1 reads x first
        if isinstance(node.target, ast.Name):
            self.visit_Name(ast.Name(node.target.id, ast.Load()))
        self.visit(node.value)
        self.visit(node.target)

    def visit_AnnAssign(self, node):
        if node.value is not None:
            self.visit(node.value)
        self.visit(node.target)

    def visit_NamedExpr(self, node):
        self.visit(node.value)
        self.visit(node.target)

    def visit_For(self, node):
        self.visit(node.iter)
        self.visit(node.target)
        for statement in node.body + node.orelse:
            self.visit(statement)

    visit_AsyncFor = visit_For

    def visit_ExceptHandler(self, node):
        if node.type is not None:
            self.visit(node.type)
        if node.name:
            self.bound.add(node.name)
        for statement in node.body:
            self.visit(statement)

    def visit_Import(self, node):
        self.bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}

    visit_ImportFrom = visit_Import

    def visit_FunctionDef(self, node):  # decorators and defaults run now; the body when called
        for expression in (
            node.decorator_list + node.args.defaults + [d for d in node.args.kw_defaults if d]
        ):
            self.visit(expression)
        self.bound.add(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        for expression in node.decorator_list + node.bases + [k.value for k in node.keywords]:
            self.visit(expression)
        self.bound.add(node.name)

    def visit_Lambda(self, node):
        for expression in node.args.defaults + [d for d in node.args.kw_defaults if d]:
            self.visit(expression)

    def visit_comprehension_scope(self, node):  # only the first iterable is evaluated out here
        self.visit(node.generators[0].iter)

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = visit_comprehension_scope

    def visit_Global(self, node):
        self.side_effect = True

    visit_Nonlocal = visit_Global

    def visit_Call(self, node):
        base = node.func
        while isinstance(base, ast.Attribute):
            base = base.value
        if (
            isinstance(node.func, ast.Attribute)
            and isinstance(base, ast.Name)
            and base.id in STATEFUL_MODULES
            and base.id not in self.bound
            and node.func.attr not in PURE_CONSTRUCTORS
        ):
            # e.g. random.seed(1), random.shuffle(docs), sys.path.append(...)
            self.side_effect = True
        self.generic_visit(node)
