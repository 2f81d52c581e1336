"""Claims: the numbers a chapter's text states about its outputs, checked by every build.

In Markdown, an HTML comment right after a number says what the number must match; it is evaluated
in the executed notebook's namespace, after the last cell (rendered Markdown hides the comment):

    the loss ends near 2.3<!-- claim: final_loss ± 0.1 -->      |final_loss - 2.3| <= 0.1
    a table of 32,033<!-- claim: len(docs) --> names            len(docs) printed as "32033"
    the loss on 'emma' is 3.4955<!-- claim: loss.data -->        loss.data printed with 4 decimals
    between steps 5 and 6<!-- claim: 5 <= crossing <= 6 -->      a condition: must be True

A number claim compares the number written right before the comment (commas, `**`, `$`, `%` and a
leading minus allowed) with the expression's value: within `± tol` when given, otherwise equal when
printed with as many decimals as the text writes. A condition (a comparison, `and`, ...) must be
True. In code cells, every `>>>` example of a docstring is run as a doctest in the same namespace
(whitespace normalised), and a number in other code text (a picture's alt text, a docstring's prose)
is claimed in the cell's metadata, which learners do not see: `# %% claims={"about 0.84":
"max(probs) ± 0.01"}`, the text as it stands in the code. Besides the notebook's names, a claim may
use json, math, sys and reference("model") (a module of the reference package microgpt), for a
number another chapter shows.

The builder writes what it found beside the source (claims.json: each claim and the value it had);
`--check` re-checks the stated numbers against those values and reports claims changed since that
build.
"""

from __future__ import annotations

import ast
import doctest
import json
import math
import re

CLAIM_RE = re.compile(r"<!--\s*claim:(.*?)-->", re.DOTALL)
# the number right before a claim comment: optional minus, digits with thousands commas, decimals;
# then closing markup (bold, code, LaTeX, percent, a closing bracket) and spaces
NUMBER_BEFORE_RE = re.compile(r"([-−]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?[*_`$%)\]\s]*$")
TOL_RE = re.compile(r"^(.*?)\s*(?:±|\+-|\+/-)\s*([0-9.eE+-]+)\s*$", re.DOTALL)
MARKER = "__course_claims__ "


class ClaimError(Exception):
    """A malformed claim (message starts with file:line)."""


def find(nb, cell_lines, where):
    """The claims and doctests of a built notebook, in order.

    cell_lines[i] is the source line of cell i's `# %%` header; where names the source file.
    Each claim is a dict: line, states (the number as written, or None), expr, tol (or None);
    each doctest: line, name, docstring."""
    claims, doctests = [], []
    for index, (cell, header) in enumerate(zip(nb.cells, cell_lines)):
        if cell.cell_type == "markdown":
            for match in CLAIM_RE.finditer(cell.source):
                line = header + 1 + cell.source.count("\n", 0, match.start())
                claims.append(
                    _parse_claim(
                        cell.source[: match.start()], match.group(1), f"{where}:{line}", line
                    )
                )
        elif cell.cell_type == "code":
            claims += _code_claims(cell, header, where)
            if ">>>" in cell.source and not cell.metadata.get("fetch"):
                doctests += _docstrings(cell.source, header, index)
    return claims, doctests


def _code_claims(cell, header, where):
    """The claims of a code cell's metadata, `# %% claims={"about 0.84": "EXPRESSION", ...}`: each
    about text of its code, as it stands there."""
    entries = cell.metadata.get("claims", {})
    if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
        raise ClaimError(
            f"{where}:{header}: claims maps text of the cell's code to an expression: "
            f'claims={{"about 0.84": "max(probs) ± 0.01"}}'
        )
    found = []
    for text, body in entries.items():
        if text not in cell.source:
            raise ClaimError(
                f"{where}:{header}: the claim about {text!r} names text its cell does not hold"
            )
        line = header + 1 + cell.source[: cell.source.index(text)].count("\n")
        found.append(_parse_claim(text, body, f"{where}:{line}", line))
    return found


def _parse_claim(before, body, at, line):
    body = " ".join(body.split())
    expr, tol = body, None
    match = TOL_RE.match(body)
    if match:
        expr, tol_text = match.group(1), match.group(2)
        try:
            tol = float(tol_text)
        except ValueError:
            raise ClaimError(f"{at}: the tolerance after ± is a number, got {tol_text!r}") from None
    if not expr:
        raise ClaimError(
            f"{at}: an empty claim (write <!-- claim: EXPRESSION --> right after the number)"
        )
    try:
        ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ClaimError(
            f"{at}: the claim {expr!r} is not a Python expression ({exc.msg})"
        ) from None
    number = NUMBER_BEFORE_RE.search(before)
    states = None
    if number:
        states = (
            ("-" if number.group(1) else "")
            + number.group(2).replace(",", "")
            + (number.group(3) or "")
        )
    return {"line": line, "states": states, "expr": expr, "tol": tol}


def _docstrings(source, header, index):
    """The docstrings of a code cell holding `>>>` examples: (line of the docstring, name, text)."""
    lines = ["" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n")]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)):
            doc = ast.get_docstring(node, clean=False)
            if doc and ">>>" in doc:
                start = node.body[0].lineno  # the line the docstring opens on
                found.append(
                    {
                        "line": header + start,
                        "name": getattr(node, "name", f"cell {index}"),
                        "docstring": doc,
                    }
                )
    return found


# --------------------------------------------------------------------------- in the kernel

KERNEL_CODE = r'''
def _course_claims(claims, doctests, marker):
    """Evaluate each claim and run each doctest in the notebook's namespace; print the results as
    JSON."""
    import ast
    import doctest
    import importlib
    import json
    import math
    import numbers
    import sys

    namespace = dict(globals())
    # beside the notebook's names (which win): json, math, sys, and the reference, for what another
    # chapter shows
    def reference(module=""):
        return importlib.import_module("microgpt" + (f".{module}" if module else ""))

    for name, value in (("json", json), ("math", math), ("sys", sys), ("reference", reference)):
        namespace.setdefault(name, value)

    def plain(value):
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, numbers.Integral):
            return int(value)
        if isinstance(value, numbers.Real):
            return float(f"{float(value):.12g}")
        return repr(value)[:200]

    def evaluate(expr):
        try:
            value = plain(eval(expr, dict(namespace)))
        except Exception as error:
            return {"error": f"{type(error).__name__}: {error}"}
        tree = ast.parse(expr, mode="eval").body
        parts = {}
        if value is False:  # name the values that made a condition false
            operands = [tree.left, *tree.comparators] if isinstance(tree, ast.Compare) else \
                list(tree.values) if isinstance(tree, ast.BoolOp) else []
            for node in operands:
                if not isinstance(node, ast.Constant):
                    text = ast.unparse(node)
                    try:
                        parts[text] = plain(eval(text, dict(namespace)))
                    except Exception as error:
                        parts[text] = f"{type(error).__name__}: {error}"
        return {"value": value, "parts": parts}

    class Runner(doctest.DocTestRunner):
        def report_failure(self, out, test, example, got):
            self.failed_examples.append({"line": example.lineno, "source": example.source.strip(),
                                         "want": example.want.strip(), "got": got.strip()})

        def report_unexpected_exception(self, out, test, example, exc_info):
            self.failed_examples.append({"line": example.lineno, "source": example.source.strip(),
                                         "want": example.want.strip(),
                                         "got": f"{exc_info[0].__name__}: {exc_info[1]}"})

    tests = []
    for item in doctests:
        test = doctest.DocTestParser().get_doctest(item["docstring"], dict(namespace), item["name"],
                                                   None, 0)
        runner = Runner(optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
        runner.failed_examples = []
        runner.run(test, out=lambda text: None, clear_globs=True)
        examples = [{"source": e.source.strip(), "want": e.want.strip()} for e in test.examples]
        tests.append({"examples": examples, "failed": runner.failed_examples})
    print(marker + json.dumps({"claims": [evaluate(c["expr"]) for c in claims], "doctests": tests}))
'''


def kernel_code(claims, doctests):
    """The code of the cell the builder runs after the last one (and then removes)."""
    arguments = (
        [{"expr": c["expr"]} for c in claims],
        [{"name": d["name"], "docstring": d["docstring"]} for d in doctests],
        MARKER,
    )
    return f"{KERNEL_CODE}\n_course_claims{arguments!r}\ndel _course_claims\n"


def kernel_results(cell):
    """The results the claims cell printed."""
    text = "".join(
        o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"
    )
    for line in text.splitlines():
        if line.startswith(MARKER):
            return json.loads(line[len(MARKER) :])
    raise ClaimError(f"the claims cell printed no results: {text[-300:]!r}")


# --------------------------------------------------------------------------- checking


def describe(claim):
    comment = claim["expr"] + (f" ± {claim['tol']:g}" if claim["tol"] is not None else "")
    return (
        f"{claim['states']!r} " if claim["states"] is not None else ""
    ) + f"<!-- claim: {comment} -->"


def problem(claim, result):
    """Why the claim is false given its result ({value, parts} or {error}), or None when it
    holds."""
    if "error" in result:
        return f"the claim {describe(claim)} cannot be evaluated: {result['error']}"
    value = result["value"]
    if isinstance(value, bool):
        if value:
            return None
        parts = ", ".join(f"{k} = {v}" for k, v in result.get("parts", {}).items())
        return f"the claim {describe(claim)} is false" + (f": {parts}" if parts else "")
    if not isinstance(value, (int, float)):
        return (
            f"the claim {describe(claim)} is {value}: a claim "
            "is a number or a condition (True or False)"
        )
    if claim["states"] is None:
        return (
            f"the claim {describe(claim)} is a number ({value}) but no number comes right before it"
        )
    stated = float(claim["states"])
    if claim["tol"] is not None:
        holds = abs(value - stated) <= claim["tol"] * (1 + 1e-9) + 1e-12
        wanted = f"within ± {claim['tol']:g} of {claim['states']}"
    else:
        decimals = len(claim["states"].partition(".")[2])
        holds = math.isfinite(value) and _fixed(value, decimals) == _fixed(stated, decimals)
        wanted = f"{claim['states']} when printed with {decimals} decimals"
    return (
        None
        if holds
        else f"the claim {describe(claim)} is false: the value is {value:.10g}, not {wanted}"
    )


def _fixed(value, decimals):
    text = f"{value:.{decimals}f}"
    # -0.0 is 0.0
    return "0" + text[2:] if text.startswith("-0") and not text.strip("-0.") else text


def doctest_problems(test, result):
    """One line per failed example of a docstring."""
    return [
        (
            test["line"] + failed["line"],
            f"the docstring example `{failed['source']}` of {test['name']} "
            f"gives {failed['got']!r}, not {failed['want']!r}",
        )
        for failed in result["failed"]
    ]


def record(claims, doctests, results):
    """What claims.json holds: each claim as written with the value it had, each doctest example."""
    entries = [
        {"states": c["states"], "claim": c["expr"], "tol": c["tol"], "value": r.get("value")}
        for c, r in zip(claims, results["claims"])
    ]
    entries += [
        {"doctest": e["source"], "expects": e["want"]}
        for r in results["doctests"]
        for e in r["examples"]
    ]
    # a line each
    return "[\n" + ",\n".join(json.dumps(e, ensure_ascii=False) for e in entries) + "\n]\n"


def check_record(claims, doctests, recorded, where):
    """Why a chapter's claims (from its source) are not those claims.json recorded, or are false for
    the recorded values (list of lines)."""
    examples = []
    for d in doctests:
        examples += [
            {"doctest": e.source.strip(), "expects": e.want.strip()}
            for e in doctest.DocTestParser().get_examples(d["docstring"])
        ]
    entries = [e for e in recorded if "claim" in e]
    problems = []
    # keyed by expression: a stated number or tolerance edited since (in JupyterLab, say) is checked
    # here
    if [c["expr"] for c in claims] != [e["claim"] for e in entries]:
        problems.append(f"{where}: its claims changed since the last build (rebuild to check them)")
    else:
        for c, e in zip(claims, entries):
            why = problem(c, {"value": e["value"], "parts": {}})
            if why:
                problems.append(f"{where}:{c['line']}: {why}")
    if examples != [e for e in recorded if "doctest" in e]:
        problems.append(
            f"{where}: its docstring examples changed since the last build (rebuild to run them)"
        )
    return problems
