"""What a piece must leave alone: a snapshot of its inputs before the call, and a check afterwards
that nothing in them changed (lists not grown, shrunk or refilled; Values not replaced; data and
grads as they were)."""

from typing import NamedTuple

from .core import about, fail, is_node, show

LEAVE_ALONE = (
    "Leave the inputs as they are: build new lists and "
    "new Values instead of changing the given ones."
)


class NodeState(NamedTuple):
    identity: int
    data: object
    grad: object


def snapshot(x, grads=True):
    """The state of x: each Value as its identity, data and grad (grad None when grads is False),
    lists, tuples and dicts item by item, anything else as it is."""
    if is_node(x):
        return NodeState(id(x), x.data, x.grad if grads else None)
    if isinstance(x, dict):
        return {key: snapshot(item, grads) for key, item in x.items()}
    if isinstance(x, (list, tuple)):
        return [snapshot(item, grads) for item in x]
    return x


def first_change(before, after, path):
    """A sentence saying how the snapshot after differs from before at path (the first change), or
    None."""
    if isinstance(before, NodeState):
        if not isinstance(after, NodeState) or after.identity != before.identity:
            return f"{path} was replaced by another object"
        if after.data != before.data:
            return f"{path}.data changed from {show(before.data)} to {show(after.data)}"
        if after.grad != before.grad:
            return f"{path}.grad changed from {show(before.grad)} to {show(after.grad)}"
        return None
    if isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            return f"the keys of {path} changed"
        return next(
            filter(
                None, (first_change(before[key], after[key], f"{path}[{key!r}]") for key in before)
            ),
            None,
        )
    if isinstance(before, list):
        if not isinstance(after, list) or len(after) != len(before):
            return (
                f"{path} had {len(before)} items and now has "
                f"{len(after) if isinstance(after, list) else '?'}"
            )
        return next(
            filter(
                None,
                (first_change(b, a, f"{path}[{i}]") for i, (b, a) in enumerate(zip(before, after))),
            ),
            None,
        )
    return None if after == before else f"{path} changed from {show(before)} to {show(after)}"


def expect_unchanged(before, inputs, shown, hint=LEAVE_ALONE, grads=True):
    """inputs (name -> object) must still match before = {name: snapshot(object)}."""
    for name, x in inputs.items():
        change = first_change(before[name], snapshot(x, grads), name)
        if change:
            fail(about(shown, f" changed its input: {change}. {hint}"))


def snapshots(inputs, grads=True):
    """{name: snapshot(object)} for the inputs (name -> object) of a call."""
    return {name: snapshot(x, grads) for name, x in inputs.items()}
