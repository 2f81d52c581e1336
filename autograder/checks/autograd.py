"""Chapter 1 (autograd): the primitive operations of Value, and backward.

An op check builds nodes with the learner's class, applies the operator and reads the new node's
.data, ._children and ._local_grads (never backward). check_backward builds its graphs with the
constructor Value(data, children, local_grads) alone. So a wrong op never costs backward's points,
and a wrong backward never costs an op's.
"""

import contextlib
import math
import operator
import types
from typing import Callable, NamedTuple

import microgpt

from .core import (
    about,
    backpropagate,
    call,
    case_rng,
    close,
    expect_returned,
    fail,
    graded,
    is_node,
    is_number,
    kind,
    show,
    show_pair,
    topological_order,
)

PRIMITIVES = ("__add__", "__mul__", "__pow__", "log", "exp", "relu")
WRAP_NUMBERS = (
    "A plain number (an int such as 4 or a float such as 0.5) must be wrapped first: "
    "other = other if isinstance(other, Value) else Value(other)."
)


class Case(NamedTuple):
    """One operation to try on nodes a (and b) with data xs. derived names the derived operator
    used (e.g. '__rsub__'), which is checked only if the class provides it."""

    expr: str
    f: Callable
    xs: tuple
    derived: str = None
    derivative: bool = True  # relu's derivative at 0 is a convention, so it is not checked there


@contextlib.contextmanager
def _reference_primitives(cls, keep):
    """Give cls the reference's primitive operations, all but `keep` (the one under check), so that
    a derived operator such as a - b = a + (-b) is checked without depending on the learner's
    mul."""
    saved = {name: cls.__dict__.get(name) for name in PRIMITIVES if name != keep}
    try:
        for name in saved:
            ref = getattr(microgpt.Value, name)
            setattr(
                cls,
                name,
                types.FunctionType(ref.__code__, {"Value": cls, "math": math}, ref.__name__),
            )
        yield
    finally:
        for name, mine in saved.items():
            if mine is None:
                delattr(cls, name)
            else:
                setattr(cls, name, mine)


def _expect_new_node(out, inputs, shown):
    """out must be a new Value whose nodes record numbers as local gradients, one per Value
    child."""
    expect_returned(out, shown)
    if is_number(out):
        fail(
            about(
                shown,
                f" returned the number {show(out)}; expected a new Value node: return Value(data, "
                "children, local_grads).",
            )
        )
    if not is_node(out):
        fail(about(shown, f" returned {kind(out)}; expected a new Value node."))
    if any(out is x for x in inputs):
        fail(
            about(
                shown,
                " returned its input itself: return a new Value and leave the inputs unchanged.",
            )
        )
    for field in ("_children", "_local_grads"):
        if not isinstance(getattr(out, field), (tuple, list)):
            fail(
                about(
                    shown,
                    f" built a node whose {field} is {kind(getattr(out, field))}; "
                    "expected a tuple with one entry per child: write (self,) "
                    "with a trailing comma, since (self) is just self.",
                )
            )
    for node in topological_order(out):
        if any(node is x for x in inputs):
            continue
        children, local_grads = tuple(node._children), tuple(node._local_grads)
        if len(children) != len(local_grads):
            fail(
                about(
                    shown,
                    f" built a node with {len(children)} children but {len(local_grads)} local "
                    "gradient(s): record one local gradient per child, in the same order.",
                )
            )
        for child in children:
            if not is_node(child):
                fail(
                    about(
                        shown,
                        f" built a node whose child is {kind(child)}: children are the Value "
                        "nodes the result was computed from, e.g. (self, other), not their data.",
                    )
                )
        for local_grad in local_grads:
            if not is_number(local_grad):
                fail(
                    about(
                        shown,
                        f" built a node whose local gradient is {kind(local_grad)}: "
                        "local gradients are plain numbers (e.g. other.data, not other).",
                    )
                )
    if not is_number(out.data):
        fail(
            about(
                shown, f" returned a Value whose data is {kind(out.data)}; data must be a number."
            )
        )


def _parts(node):
    """(data, grad, children, local gradients) of a node: what an operation must leave as it was."""
    return node.data, node.grad, tuple(node._children), tuple(node._local_grads)


def _expect_same_parts(
    node, was, name, shown, advice, fields=("data", "grad", "_children", "_local_grads")
):
    """node's parts must still be was (compared field by field, children by identity)."""
    for field, old, new in zip(("data", "grad", "_children", "_local_grads"), was, _parts(node)):
        if field not in fields:
            continue
        same = (
            len(old) == len(new) and all(a is b for a, b in zip(old, new))
            if field == "_children"
            else old == new or (old != old and new != new)
        )
        if not same:
            fail(
                about(shown, f" changed {name}.{field} from {show(old)} to {show(new)}: {advice}.")
            )


def _check_op(piece, cls, primitive, cases, rule, hints=()):
    """Run every case with the learner's class and with the reference's; compare the new node's data
    and the derivatives of the result with respect to a and b, read from its recorded local
    gradients."""
    for case in cases:
        if case.derived and not hasattr(cls, case.derived):
            continue
        shown = f"{piece}: {case.expr} with " + " and ".join(
            f"{n} = Value({x!r})" for n, x in zip("ab", case.xs)
        )
        nodes = [cls(x) for x in case.xs]
        before = [_parts(node) for node in nodes]
        with _reference_primitives(cls, primitive) if case.derived else contextlib.nullcontext():
            out = call(case.f, nodes, shown, piece, hints)
        ref_nodes = [microgpt.Value(x) for x in case.xs]
        ref = case.f(*ref_nodes)
        _expect_new_node(out, nodes, shown)
        for name, node, was in zip("ab", nodes, before):
            _expect_same_parts(
                node,
                was,
                name,
                shown,
                "leave the inputs unchanged (an operation only builds a "
                "new node; backward alone sets grad)",
            )
        if not close(out.data, ref.data):
            got, expected = show_pair(out.data, ref.data)
            fail(about(shown, f" gave a Value with data {got}; expected {expected}."))
        if not case.derivative:
            continue
        reached = backpropagate([out], [1.0])
        backpropagate([ref], [1.0])
        for name, node, ref_node in zip("ab", nodes, ref_nodes):
            if id(node) not in reached:
                fail(
                    about(
                        shown,
                        f": the result does not record {name} among its children, "
                        "so backward could never reach it: children are the "
                        "Values the result was computed from, e.g. (self, other).",
                    )
                )
            if not close(node.grad, ref_node.grad):
                got, expected = show_pair(node.grad, ref_node.grad)
                fail(
                    about(
                        shown,
                        f" records the local gradients {show(tuple(out._local_grads))}, which make "
                        f"d(result)/d{name} = {got}; expected {expected}: {rule}.",
                    )
                )


def _random_pairs(rng, low, high, n=8):
    return [(rng.uniform(low, high), rng.uniform(low, high)) for _ in range(n)]


@graded
def check_value_add(Value):
    """a + b: data a.data + b.data, local gradients 1 and 1, on fixed and random pairs (ints,
    floats, zeros of both signs, huge and tiny), a node added to itself, an int or a float on either
    side; and a - b, a - 2, 2 - a where the class provides them; a and b left unchanged."""
    rng = case_rng("value_add")
    pairs = [
        (2.0, -3.5),
        (0.0, 0.0),
        (3, 4),
        (1e-8, -1.25),
        (-0.0, 0.0),
        (1e300, -3e299),
        (7, -2.5),
    ]
    pairs += _random_pairs(rng, -10, 10)
    cases = [Case("a + b", operator.add, xs) for xs in pairs] + [
        Case("a + a", lambda a: a + a, (1.5,)),
        Case("a + 4", lambda a: a + 4, (2.0,)),
        Case("a + 0.5", lambda a: a + 0.5, (2.0,)),
        Case("4 + a", lambda a: 4 + a, (2.0,), "__radd__"),
        Case("0.25 + a", lambda a: 0.25 + a, (2.0,), "__radd__"),
        Case("a - b", operator.sub, (5.0, 1.5), "__sub__"),
        Case("a - 2", lambda a: a - 2, (5.0,), "__sub__"),
        Case("2 - a", lambda a: 2 - a, (5.0,), "__rsub__"),
    ]
    _check_op(
        "value_add",
        Value,
        "__add__",
        cases,
        "d(a + b)/da = 1 and d(a + b)/db = 1",
        [(AttributeError, WRAP_NUMBERS)],
    )


@graded
def check_value_mul(Value):
    """a * b: data a.data * b.data, local gradients b.data and a.data, on fixed and random pairs
    (ints, floats, zeros of both signs, huge and tiny), a node times itself, an int or a float on
    either side; and -a where the class provides it; a and b left unchanged."""
    rng = case_rng("value_mul")
    pairs = [(2.0, -3.0), (0.0, 5.0), (3, 4), (1e3, 1e-3), (-0.0, 2.5), (1e150, -3e149), (6, 0.5)]
    pairs += _random_pairs(rng, -10, 10)
    cases = [Case("a * b", operator.mul, xs) for xs in pairs] + [
        Case("a * a", lambda a: a * a, (1.5,)),
        Case("a * 4", lambda a: a * 4, (2.0,)),
        Case("a * -1.5", lambda a: a * -1.5, (2.0,)),
        Case("4 * a", lambda a: 4 * a, (2.0,), "__rmul__"),
        Case("0.5 * a", lambda a: 0.5 * a, (3.0,), "__rmul__"),
        Case("-a", operator.neg, (2.5,), "__neg__"),
    ]
    _check_op(
        "value_mul",
        Value,
        "__mul__",
        cases,
        "d(a * b)/da = b.data and d(a * b)/db = a.data",
        [(AttributeError, WRAP_NUMBERS)],
    )


@graded
def check_value_pow(Value):
    """a ** n for a plain int or float n (positive, negative, fractional, 0, 1, 2.0, large): data
    a.data ** n, local gradient n * a.data ** (n - 1), also for a zero base (n >= 1) and negative
    bases with whole n; and a / b, a / 4, 3 / a where the class provides them."""
    rng = case_rng("value_pow")
    powers = [
        (2.0, 3),
        (-3.0, 2),
        (4.0, 0.5),
        (2.0, -1),
        (-2.0, 3),
        (1.5, 0),
        (5.0, 1),
        (2.5, -2.5),
    ]
    powers += [(0.0, 2), (0, 3), (0.0, 1), (-0.0, 3), (0.0, 2.5), (3.0, 2.0), (-2.0, 2.0), (2, 10)]
    powers += [(1.5, 40), (0.5, -20), (-1.1, 31), (10.0, 15), (1.0001, 5000)]
    powers += [(rng.uniform(0.1, 5), rng.choice([2, 3, -1, 0.5, -0.5, 1.5])) for _ in range(8)]
    cases = [Case(f"a ** {n!r}", lambda a, n=n: a**n, (x,)) for x, n in powers] + [
        Case("a / b", operator.truediv, (3.0, -1.5), "__truediv__"),
        Case("a / 4", lambda a: a / 4, (3.0,), "__truediv__"),
        Case("3 / a", lambda a: 3 / a, (1.5,), "__rtruediv__"),
    ]
    _check_op(
        "value_pow",
        Value,
        "__pow__",
        cases,
        "d(a ** n)/da = n * a.data ** (n - 1)",
        [
            (
                AttributeError,
                "The exponent is a plain number (as in a ** 2), not a Value: use it as it is.",
            ),
            (
                ZeroDivisionError,
                "a ** n must work when a.data is 0 (0 ** 2 is 0, with derivative 0): compute "
                "n * a.data ** (n - 1) as it stands, without dividing by a.data.",
            ),
            (
                TypeError,
                "The exponent may be any int or float (3, -1, 0.5, 2.0): "
                "compute self.data ** exponent with Python's ** operator.",
            ),
        ],
    )


@graded
def check_value_log(Value):
    """a.log() for positive a, from 1e-300 to 1e300, ints and floats: data math.log(a.data), local
    gradient 1 / a.data."""
    rng = case_rng("value_log")
    xs = [1.0, math.e, 0.5, 10.0, 1e-3, 123.4, 1e-300, 1e300, 2, 1] + [
        rng.uniform(0.01, 100) for _ in range(8)
    ]
    _check_op(
        "value_log",
        Value,
        "log",
        [Case("a.log()", lambda a: a.log(), (x,)) for x in xs],
        "d(log a)/da = 1 / a.data",
    )


@graded
def check_value_exp(Value):
    """a.exp(): data math.exp(a.data), local gradient math.exp(a.data), for a from -1000 (where exp
    underflows to 0) to 709 (near the largest float), ints and floats."""
    rng = case_rng("value_exp")
    xs = [0.0, 1.0, -2.0, 3.5, -20.0, 700.0, 709.0, -700.0, -1000.0, 2, -0.0] + [
        rng.uniform(-5, 5) for _ in range(8)
    ]
    _check_op(
        "value_exp",
        Value,
        "exp",
        [Case("a.exp()", lambda a: a.exp(), (x,)) for x in xs],
        "d(exp a)/da = exp(a.data)",
    )


@graded
def check_value_relu(Value):
    """a.relu(): data max(0, a.data), local gradient 1 if a.data > 0 else 0, for positive, negative,
    tiny and huge a, ints and floats, and at a = 0 and -0.0, where the chapter (as every
    deep-learning library) takes the slope to be 0."""
    rng = case_rng("value_relu")
    xs = [2.5, -1.5, 1e-9, -1e-9, 1000.0, 1.7e308, -1.7e308, 3, -2] + [
        rng.uniform(-3, 3) for _ in range(8)
    ]
    cases = [Case("a.relu()", lambda a: a.relu(), (x,)) for x in xs + [0.0, -0.0, 0]]
    _check_op(
        "value_relu",
        Value,
        "relu",
        cases,
        "d(relu a)/da = 1 if a.data > 0 else 0 (0 at a = 0 too, "
        "the chapter's convention: float(self.data > 0))",
    )


# --- backward ---

ACCUMULATE = (
    "A child used more than once must add up all its contributions: "
    "child.grad += local_grad * node.grad (not =)."
)

# Small graphs, each exposing one way backward can go wrong, in the order a learner meets them.
# A graph is a list of (name, data, children, local_grads); the last node is the output.
GRAPHS = [
    (
        "a single node",
        [("out", 3.0, (), ())],
        "backward starts at the output: set self.grad = 1 (d out/d out) before walking the graph.",
    ),
    (
        "a chain x -> y -> out",
        [("x", 2.0, (), ()), ("y", 0.5, ("x",), (3.0,)), ("out", 1.5, ("y",), (2.0,))],
        "Each node passes node.grad * local_grad to each of its children (the chain rule), "
        "starting from the output: walk the nodes in reverse topological order, output first.",
    ),
    (
        "a node used twice by one parent",
        [("a", 1.0, (), ()), ("out", 2.0, ("a", "a"), (2.0, 5.0))],
        ACCUMULATE,
    ),
    (
        "a diamond",
        [
            ("x", 1.0, (), ()),
            ("b", 2.0, ("x",), (5.0,)),
            ("c", 3.0, ("x",), (7.0,)),
            ("out", 4.0, ("b", "c"), (2.0, 3.0)),
        ],
        ACCUMULATE,
    ),
    (
        "a diamond whose shared node has a child",
        [
            ("w", 0.5, (), ()),
            ("x", 1.0, ("w",), (1.5,)),
            ("b", 2.0, ("x",), (5.0,)),
            ("c", 3.0, ("x",), (7.0,)),
            ("out", 4.0, ("b", "c"), (2.0, 3.0)),
        ],
        "Each node must appear once in the topological order (keep a set of "
        "visited nodes): a node listed twice passes its gradient on twice.",
    ),
    (
        "a graph where the order matters",
        [
            ("x", 1.0, (), ()),
            ("b", 2.0, ("x",), (3.0,)),
            ("a", 3.0, ("b",), (2.0,)),
            ("out", 4.0, ("b", "a"), (1.0, 1.0)),
        ],
        "Process the nodes in reverse topological order: a node may pass its gradient on "
        "only after every node that uses it has added its share. Build the order with a "
        "depth-first search that appends a node after its children, then walk it reversed.",
    ),
]
DEEP = 600  # deeper than the course's models (about 280 for one layer); a recursive sort still fits
PATHS = (
    "Every node's grad must be d(out)/d(node): the sum, over the paths from out "
    "down to the node, of the product of the local gradients along the path."
)
TOO_DEEP = (
    f"backward must handle graphs {DEEP} nodes deep (as deep as the course's models): "
    "recurse once per node when building the topological order, or use an explicit stack."
)


def _chain(rng, n):
    return [("n0", 1.0, (), ())] + [
        (f"n{i}", 1.0, (f"n{i - 1}",), (rng.uniform(0.9, 1.1),)) for i in range(1, n)
    ]


def _random_graph(rng, n=40, leaves=6):
    graph = []
    for i in range(n):
        children = (
            () if i < leaves else tuple(f"n{rng.randrange(i)}" for _ in range(rng.randint(1, 3)))
        )
        graph.append(
            (f"n{i}", rng.uniform(-2, 2), children, tuple(rng.uniform(-2, 2) for _ in children))
        )
    return graph


def _build(cls, graph):
    """The graph's nodes by name, made with the constructor only."""
    nodes = {}
    for name, x, children, local_grads in graph:
        nodes[name] = cls(x, tuple(nodes[c] for c in children), local_grads)
    return nodes


def _describe(graph):
    parts = []
    for name, x, children, local_grads in graph:
        names = "(" + ", ".join(children) + ("," if len(children) == 1 else "") + ")"
        parts.append(
            f"{name} = Value({x!r}, {names}, {local_grads!r})"
            if children
            else f"{name} = Value({x!r})"
        )
    return "; ".join(parts)


SECOND_CALL = (
    "A second out.backward() on the same graph runs the same loop again on the grads the "
    "first call left (nothing is reset): self.grad = 1, then each node, output first, passes "
    "node.grad * local_grad to its children with +=. Do not zero grads inside backward (that "
    "is the training loop's job) and keep no state between calls: build the order and the "
    "visited set anew in each call (no global list, no mutable default argument)."
)
# Two graphs sharing the leaf x: out1 = f(y, x) with y = g(x, w), and out2 = h(v, x) with v = k(x).
SHARED = [
    ("x", 2.0, (), ()),
    ("w", -1.0, (), ()),
    ("y", 0.5, ("x", "w"), (3.0, 1.5)),
    ("out1", 1.0, ("y", "x"), (2.0, 1.0)),
    ("v", 4.0, ("x",), (-2.0,)),
    ("out2", 3.0, ("v", "x"), (0.5, 4.0)),
]
SHARED_HINT = (
    "out2.backward() must add d(out2)/dx to what out1.backward() left in x.grad, and "
    "leave alone the nodes out2 does not depend on (w, y, out1). Do not reset grads "
    "inside backward, and keep no state between calls: build the order and the "
    "visited set anew in each call (no global list, no mutable default argument)."
)


def _expect_grads(got, ref, shown, graph, hint):
    """Every node of got has the grad of the same node of ref."""
    for name, node in got.items():
        if not close(node.grad, ref[name].grad):
            text_got, text_expected = show_pair(node.grad, ref[name].grad)
            where = f" (the graph: {_describe(graph)})" if len(graph) <= 6 else ""
            fail(
                about(
                    shown,
                    f" left {name}.grad = {text_got}; expected {text_expected}{where}. {hint}",
                )
            )


def _backward(node, shown):
    call(lambda: node.backward(), (), shown, "backward", [(RecursionError, TOO_DEEP)])


@graded
def check_backward(Value):
    """out.backward() sets every node's grad to d(out)/d(node): on a single node, a chain, a node
    used twice, diamonds, a graph where the processing order matters, a chain of 600 nodes and
    random graphs, all built with Value(data, children, local_grads) and compared with the
    reference's backward; the graph (data, children, local gradients) left unchanged; a second call
    on the same graph, and a second graph sharing a leaf, accumulating exactly as the reference
    does."""
    rng = case_rng("backward")
    graphs = GRAPHS + [(f"a chain of {DEEP} nodes", _chain(rng, DEEP), PATHS)]
    graphs += [
        (f"a random graph of 40 nodes (#{k + 1})", _random_graph(rng), PATHS) for k in range(4)
    ]
    built = []
    for description, graph, hint in graphs:
        got, ref = _build(Value, graph), _build(microgpt.Value, graph)
        before = {name: _parts(node) for name, node in got.items()}
        output = graph[-1][0]
        shown = f"backward: out.backward() on {description}"
        _backward(got[output], shown)
        ref[output].backward()
        _expect_grads(got, ref, shown, graph, hint)
        for name, node in got.items():
            _expect_same_parts(
                node,
                before[name],
                name,
                shown,
                "backward only sets grads; leave the graph as it "
                "is, so that a second backward still works",
                ("data", "_children", "_local_grads"),
            )
        built.append((description, graph, got, ref))
    got, ref = _build(Value, SHARED), _build(microgpt.Value, SHARED)
    shown = "backward: out1.backward() then out2.backward() on two graphs sharing the leaf x"
    for output in ("out1", "out2"):
        _backward(got[output], shown)
        ref[output].backward()
    _expect_grads(got, ref, shown, SHARED, SHARED_HINT)
    for description, graph, got, ref in built:  # now call backward again on each
        output = graph[-1][0]
        shown = f"backward: out.backward() called a second time on {description}"
        _backward(got[output], shown)
        ref[output].backward()
        _expect_grads(got, ref, shown, graph, SECOND_CALL)
