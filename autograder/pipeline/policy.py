"""What a learner's solution code may do before it is confirmed: a static check of its syntax tree.

The learner's code is the text of a piece's solution regions. It may use the language freely
(classes, closures, comprehensions, dunder METHODS defined on its own classes, single-underscore
attributes such as node._children) and import only what the chapter teaches: math, random and
whatever the instructor's solution cells of that chapter import. It may not reach the interpreter's
internals (dunder attributes other than the arithmetic and container protocol, frames,
exec/eval/compile/open/__import__/globals/ locals/vars, getattr with a name that is not a plain
literal), the module system (sys, importlib, builtins, inspect, gc, os, ...), the reference or the
check library (any mention of microgpt, autograder or course_tools), or change what other code
relies on (assigning to attributes of modules or builtins, `global`). A violation costs the piece
its points and is flagged by name.
"""

from __future__ import annotations

import ast
import builtins
import re

TAUGHT_MODULES = frozenset({"math", "random"})
# never importable by solution code, even when an instructor cell imports them
DANGEROUS_MODULES = frozenset(
    {
        "sys",
        "os",
        "posix",
        "nt",
        "inspect",
        "gc",
        "importlib",
        "builtins",
        "__builtin__",
        "ctypes",
        "types",
        "io",
        "subprocess",
        "socket",
        "pickle",
        "marshal",
        "shelve",
        "threading",
        "_thread",
        "multiprocessing",
        "signal",
        "shutil",
        "pathlib",
        "runpy",
        "code",
        "codeop",
        "atexit",
        "traceback",
        "weakref",
        "operator",
        "functools",
        "unittest",
        "pdb",
        "tempfile",
        "glob",
        "resource",
        "asyncio",
        "concurrent",
        "site",
        "sysconfig",
        "zipimport",
        "pkgutil",
        "linecache",
        "tokenize",
        "dis",
        "ast",
        "faulthandler",
        "mmap",
        "fcntl",
        "select",
        "selectors",
        "http",
        "urllib",
        "ssl",
        "IPython",
        "ipykernel",
        "nbformat",
        "nbgrader",
    }
)
FORBIDDEN_CALLS = frozenset(
    {
        "exec",
        "eval",
        "compile",
        "open",
        "__import__",
        "globals",
        "locals",
        "vars",
        "breakpoint",
        "input",
        "exit",
        "quit",
        "setattr",
        "delattr",
        "help",
        "memoryview",
        "copyright",
        "credits",
        "license",
    }
)
# dunders solution code may define and use: the arithmetic, comparison-free numeric and container
# protocol
PROTOCOL_DUNDERS = frozenset(
    f"__{name}__"
    for name in (
        "init",
        "repr",
        "str",
        "add",
        "radd",
        "iadd",
        "sub",
        "rsub",
        "isub",
        "mul",
        "rmul",
        "imul",
        "truediv",
        "rtruediv",
        "itruediv",
        "floordiv",
        "rfloordiv",
        "pow",
        "rpow",
        "neg",
        "pos",
        "abs",
        "len",
        "iter",
        "next",
        "getitem",
        "contains",
        "float",
        "int",
        "round",
        "slots",
    )
)
FRAME_ATTRIBUTES = frozenset(
    {
        "gi_frame",
        "gi_code",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
        "co_code",
        "co_consts",
        "mro",
    }
)
PRIVATE_NAMES = ("microgpt", "autograder", "course_tools")
DUNDER = re.compile(r"__\w+__")


def allowed_modules(source_cells: list[str]) -> frozenset[str]:
    """math, random and the top-level modules the instructor's solution cells import, minus
    dangerous ones."""
    found = set(TAUGHT_MODULES)
    for source in source_cells:
        found |= imported_modules(source)
    return frozenset(found - DANGEROUS_MODULES)


def imported_modules(source: str) -> set[str]:
    """Top-level names of the modules a piece of code imports ('a.b' -> 'a'); unparsable code:
    none."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def module_aliases(sources: list[str]) -> set[str]:
    """Names that code binds to modules with `import x` / `import x as y` (attribute writes on them
    are changes to modules)."""
    names = set(TAUGHT_MODULES)
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    return names


def docstrings(tree) -> set[int]:
    """ids of the Constant nodes that are docstrings (free text, exempt from the string rules)."""
    found = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.body
        ):
            first = node.body[0]
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                found.add(id(first.value))
    return found


def violations(
    code: str, learner_lines: set[int] | None, allowed: frozenset[str], modules: set[str]
) -> list[str]:
    """Reasons ("line 3: imports os (allowed: math, random)") the learner's part of `code` breaks
    the policy. learner_lines: 1-based lines of `code` written by the learner (None: all of it);
    allowed: importable top-level modules; modules: names bound to modules in the notebook. Code
    that does not parse has no violations (running it reports the SyntaxError)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    skip = docstrings(tree)
    found = []

    def mine(node) -> bool:
        return learner_lines is None or getattr(node, "lineno", None) in learner_lines

    def add(node, reason):
        found.append(f"line {node.lineno}: {reason}")

    def name_rules(node, name: str, what: str):
        lowered = name.lower()
        if any(private in lowered for private in PRIVATE_NAMES):
            add(node, f"{what} {name!r} reaches the reference or the check library")

    for node in ast.walk(tree):
        if not mine(node):
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for name in names:
                top = name.split(".")[0]
                if getattr(node, "level", 0):
                    add(node, "relative import")
                elif top not in allowed:
                    add(node, f"imports {name} (allowed: {', '.join(sorted(allowed))})")
            for alias in node.names:
                name_rules(node, alias.name, "imports")
        elif isinstance(node, ast.Name):
            if node.id in FORBIDDEN_CALLS:
                add(node, f"uses {node.id}")
            elif DUNDER.fullmatch(node.id) and node.id != "__slots__":
                add(node, f"uses the interpreter name {node.id}")
            elif node.id == "getattr" and not literal_getattr(tree, node):
                add(node, "uses getattr with a name that is not a plain literal")
            name_rules(node, node.id, "uses")
        elif isinstance(node, ast.Attribute):
            if DUNDER.fullmatch(node.attr) and node.attr not in PROTOCOL_DUNDERS:
                add(node, f"reaches the interpreter internal .{node.attr}")
            elif node.attr in FRAME_ATTRIBUTES:
                add(node, f"reaches the interpreter internal .{node.attr}")
            name_rules(node, node.attr, "uses")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if DUNDER.fullmatch(node.name) and node.name not in PROTOCOL_DUNDERS:
                add(
                    node,
                    f"defines {node.name} (allowed dunder methods: "
                    "the arithmetic and container protocol)",
                )
            name_rules(node, node.name, "defines")
        elif isinstance(node, ast.Global):
            add(
                node,
                f"declares global {', '.join(node.names)} (solution "
                "code may not rebind the notebook's names)",
            )
        elif (
            isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
        ):
            if DUNDER.search(node.value):
                add(node, f"the string {short(node.value)} names an interpreter internal")
            name_rules(node, node.value, "the string")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                for part in ast.walk(target):
                    base = attribute_base(part)
                    if base is not None and (base in modules or hasattr(builtins, base)):
                        add(
                            node,
                            f"changes {ast.unparse(part)} (an attribute "
                            f"of the module or builtin {base})",
                        )
    return sorted(set(found), key=lambda text: (int(text.split(":")[0].split()[1]), text))


def attribute_base(node) -> str | None:
    """For `a.b.c` (as an assignment target) the leftmost name 'a'; else None."""
    if not isinstance(node, ast.Attribute):
        return None
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def literal_getattr(tree, name_node) -> bool:
    """True if this `getattr` Name is called as getattr(obj, "plain_name"[, default])."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.func is name_node:
            return (
                2 <= len(node.args) <= 3
                and isinstance(node.args[1], ast.Constant)
                and isinstance(node.args[1].value, str)
                and not DUNDER.search(node.args[1].value)
            )
    return False


def short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
