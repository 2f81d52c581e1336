"""The judge's wire: the plain data that passes between the trusted judge and the sandboxed worker
running a learner's code. Stdlib only: the worker imports it inside the sandbox, beside worker.py.

What crosses, and how:
- None, bools, ints, floats and strings by value; tuples by value, item by item;
- lists, dicts, Value nodes (anything with data, _children and _local_grads) and random.Random by
  value *with identity*: each gets a wire id, so an object stays one object on both sides, and a
  message carries the state of every such object reachable from its values that changed since the
  other side last saw it (a list appended to in the worker is appended to in the judge);
- everything else (functions, classes, other objects) stays where it lives and crosses as a
  handle; the other side can call it, and (the worker's handles only) read and set its attributes.

Messages are JSON lines: a request {"q": n, "op": ..., "a": [...], "k": {...}, "S": state} and its
reply {"r": n, "ok": value, "S": state} or {"r": n, "err": [type, message, frames], "S": state}.
While a side waits for its reply it serves the other side's requests, so calls nest both ways (a
learner's function calls back into the judge, whose code calls the learner's operators).

Nothing here trusts the other side: a malformed message is a WireError, sizes are capped, and the
judge serves only calls of what it handed over and public attributes of its objects
(Endpoint.serve).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import select
import time

MAX_MESSAGE_BYTES = 64 << 20  # one message; more is a WireError
MAX_TEXT = 4_000  # an error's message
MAX_ITEMS_BY_VALUE = 1_000_000  # a range or set crosses as a tuple of its items up to this size


class WireError(BaseException):
    """The other side sent what the protocol does not allow. A BaseException, like WorkerGone: a
    check's `except Exception` must not turn a broken wire into an ordinary failure message."""


class WorkerGone(BaseException):
    """The other side stopped answering (ended, killed, or past the deadline). A BaseException so
    that no `except Exception` in a check or in learner code can swallow it."""


def is_node(x) -> bool:
    return hasattr(x, "_children") and hasattr(x, "_local_grads") and hasattr(x, "data")


def plain_number(x):
    """x as a plain int or float if it is a number of a subclass (bool stays bool), else x."""
    if type(x) in (bool, int, float):
        return x
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x)
    return x


class Endpoint:
    """One side of the wire. side 'judge' numbers its objects 0, 2, 4, ...; 'worker' 1, 3, 5, ...

    make_node(wire id) -> a new, empty node for an incoming node record; make_object(class name,
    fields) -> the worker's object for a judge's dataclass (a GPTConfig); remote(wire_id, callable)
    -> the local stand-in for one of the other side's handles; serve(op, args, kwargs) -> the answer
    to one of the other side's requests (raise to answer with an error)."""

    def __init__(
        self, side, read_fd, write_fd, make_node, remote, serve, deadline=None, make_object=None
    ):
        self.side, self.read_fd, self.write_fd = side, read_fd, write_fd
        self.make_object = make_object
        self.make_node, self.remote, self.serve = make_node, remote, serve
        self.deadline = deadline  # time.monotonic() past which a wait raises WorkerGone
        self.objects = {}  # wire id -> local object (kept alive: ids stay unique)
        self.ids = {}  # id(local object) -> wire id
        self.known = {}  # wire id -> the state record both sides last agreed on
        self.proxies = {}  # the other side's wire id -> local stand-in
        self.handed = set()  # wire ids of the callables this side handed over
        self.dirty = set()  # Mirrors whose state this side changed (the judge's)
        self.filling = False  # True while applying the other side's state
        self.counter = 0 if side == "judge" else 1
        self.requests = 0
        self.buffer = b""

    # ------------------------------------------------------------------ encoding

    def wire_id(self, x) -> int:
        key = id(x)
        if key not in self.ids:
            self.ids[key] = self.counter
            self.objects[self.counter] = x
            self.counter += 2
        return self.ids[key]

    def encode(self, values, deep=False):
        """(tokens for values, the state records to send): every list, dict, node and generator
        reachable from values whose state differs from what the other side last saw. The judge's
        images of worker nodes (Mirrors) are not walked: those it changed are in self.dirty.

        The worker sends a node's history lazily: a child the judge has not seen crosses as its wire
        id alone, and the judge asks for it ("state", deep=True: the whole history below) when its
        code first reads it. The judge sends everything: learner code walks what it gets."""
        pending, seen, state = [], set(), {}
        side_is_worker = self.side == "worker"

        def token(x, child=False):
            kind = type(x)
            if kind is float or kind is int or kind is str or x is None or kind is bool:
                return x
            if kind is tuple:
                return {"T": [token(item, child) for item in x]}
            if kind is list:
                tag = "L"
            elif kind is dict:
                tag = "D"
            elif kind is Mirror:
                return {"N": x._wire}
            elif kind is Remote:
                return {"H": x._wire, "c": int(x._callable)}
            elif kind is random.Random:
                tag = "R"
            elif isinstance(x, (bool, int, float)):  # a subclass: the number it is
                return plain_number(x)
            elif kind in (range, set, frozenset) and len(x) <= MAX_ITEMS_BY_VALUE:
                return {"T": [token(item) for item in x]}  # rng.choices(range(n), ...): the items
            elif not isinstance(x, type) and not callable(x) and safe_is_node(x):
                tag = "N"
            elif not side_is_worker and dataclasses.is_dataclass(x) and not isinstance(x, type):
                # a configuration (GPTConfig): by value, as the worker's class of that name
                return {
                    "O": [
                        kind.__name__,
                        {f.name: token(getattr(x, f.name)) for f in dataclasses.fields(x)},
                    ]
                }
            else:
                owner = getattr(x, "__self__", None) if side_is_worker else None
                if owner is not None and safe_is_node(owner):
                    # a node's bound method (out.backward): the node's state crosses with it
                    token(owner)
                wire = self.wire_id(x)
                if callable(x):
                    self.handed.add(wire)
                return {"H": wire, "c": int(callable(x))}
            if (
                child
                and side_is_worker
                and tag == "N"
                and (self.ids.get(id(x)) in self.known) == deep
            ):
                # lazy: a child the judge has not seen crosses when it asks for it; deep (it asks):
                # a child it holds is not walked again, nothing ran since the last answer
                return {tag: self.wire_id(x)}
            wire = self.wire_id(x)
            if wire not in seen:
                seen.add(wire)
                pending.append((wire, tag, x))
            return {tag: wire}

        def record_of(tag, x):
            if tag == "L":
                return ["L", [token(item) for item in list(x)]]
            if tag == "D":
                return ["D", [[token(k), token(v)] for k, v in list(x.items())]]
            if tag == "R":
                return ["R", json.loads(json.dumps(x.getstate()))]
            # a node's class crosses from the worker only: the judge's classes (the reference's
            # Value) are never handed to learner code, which could call their methods
            cls = x._class if isinstance(x, Mirror) else type(x) if side_is_worker else None
            return [
                "N",
                token(getattr(x, "data", None)),
                token(getattr(x, "grad", None)),
                token(getattr(x, "_children", ()), True),
                token(getattr(x, "_local_grads", ())),
                token(cls),
            ]

        tokens = [token(v) for v in values]
        for mirror in list(self.dirty):
            pending.append((mirror._wire, "N", mirror))
        self.dirty.clear()
        while pending:
            wire, tag, x = pending.pop()
            record = record_of(tag, x)
            if self.known.get(wire) != record:
                state[str(wire)] = record
                self.known[wire] = record
        return tokens, state

    # ------------------------------------------------------------------ decoding

    def decode(self, tokens, state):
        """Local values for tokens, after applying state (create, then fill, so cycles work)."""
        try:
            return self.apply(tokens, state)
        except WireError:
            raise
        except Exception as error:  # anything a malformed message makes the code below raise
            raise WireError(f"a malformed message ({type(error).__name__})") from None

    def apply(self, tokens, state):
        if not isinstance(state, dict):
            raise WireError("state is not a mapping")
        records = {}
        for key, record in state.items():
            wire = int(key)
            if not (isinstance(record, list) and record and record[0] in ("L", "D", "N", "R")):
                raise WireError(f"bad record for {wire}")
            if wire not in self.objects:
                if wire % 2 == self.counter % 2:
                    raise WireError(f"object {wire} was never sent")
                new = {"L": list, "D": dict, "N": lambda: self.make_node(wire), "R": random.Random}[
                    record[0]
                ]()
                self.objects[wire] = new
                self.ids[id(new)] = wire
            records[wire] = record
        self.filling = True
        try:
            for wire, record in records.items():
                self.fill(self.objects[wire], record)
                self.known[wire] = record
        finally:
            self.filling = False
        return [self.value(t) for t in tokens]

    def fill(self, obj, record):
        kind = record[0]
        if kind == "L" and type(obj) is list and len(record) == 2 and isinstance(record[1], list):
            obj[:] = [self.value(t) for t in record[1]]
        elif kind == "D" and type(obj) is dict and len(record) == 2 and isinstance(record[1], list):
            items = [(self.value(k), self.value(v)) for k, v in record[1]]
            obj.clear()
            obj.update(items)
        elif kind == "R" and type(obj) is random.Random and len(record) == 2:
            version, internal, gauss = record[1]
            obj.setstate((version, tuple(internal), gauss))
        elif kind == "N" and len(record) == 6 and not isinstance(obj, (list, dict, random.Random)):
            data, grad, children, local_grads, cls = (self.value(t) for t in record[1:])
            set_node(obj, data, grad, children, local_grads, cls)
        else:
            raise WireError(f"record {kind} does not fit a {type(obj).__name__}")

    def value(self, t):
        if t is None or type(t) in (bool, int, float, str):
            return t
        if type(t) is not dict or len(t) not in (1, 2):
            raise WireError("bad token")
        (tag, wire), *rest = t.items()
        if tag == "T" and isinstance(wire, list):
            return tuple(self.value(item) for item in wire)
        if tag == "O" and self.side == "worker" and isinstance(wire, list) and len(wire) == 2:
            return self.make_object(
                wire[0], {key: self.value(item) for key, item in wire[1].items()}
            )
        if type(wire) is not int:
            raise WireError("bad wire id")
        if tag in ("L", "D", "N", "R"):
            if wire not in self.objects:
                if not (tag == "N" and self.side == "judge" and wire % 2 == 1):
                    raise WireError(f"object {wire} is unknown")
                # its state is asked for when read
                self.objects[wire] = placeholder = self.make_node(wire)
                self.ids[id(placeholder)] = wire
            return self.objects[wire]
        if tag == "H":
            if wire % 2 == self.counter % 2:  # one of ours coming back
                if wire not in self.objects:
                    raise WireError(f"handle {wire} is unknown")
                return self.objects[wire]
            if wire not in self.proxies:
                self.proxies[wire] = self.remote(wire, bool(rest and rest[0][1]))
            return self.proxies[wire]
        raise WireError(f"bad tag {tag!r}")

    # ------------------------------------------------------------------ messages

    def send(self, message):
        data = json.dumps(message, allow_nan=True, separators=(",", ":")).encode() + b"\n"
        view = memoryview(data)
        while view:
            try:
                written = os.write(self.write_fd, view)
            except OSError as error:
                raise WorkerGone(f"the other side stopped reading ({error.strerror})") from None
            view = view[written:]

    def receive(self):
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_MESSAGE_BYTES:
                raise WireError("a message larger than the limit")
            wait = None if self.deadline is None else self.deadline - time.monotonic()
            if wait is not None and wait <= 0:
                raise WorkerGone("time is up")
            ready, _, _ = select.select([self.read_fd], [], [], wait)
            if not ready:
                raise WorkerGone("time is up")
            chunk = os.read(self.read_fd, 1 << 20)
            if not chunk:
                raise WorkerGone("the other side ended")
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            raise WireError("a message that is not JSON") from None
        if type(message) is not dict:
            raise WireError("a message that is not an object")
        return message

    def request(self, op, args=(), kwargs=None):
        """Ask the other side; serve its requests meanwhile; the answer, or its error raised
        here."""
        self.requests += 1
        number = self.requests if self.side == "judge" else -self.requests
        keys = list((kwargs or {}).keys())
        tokens, state = self.encode([*args, *(kwargs or {}).values()])
        self.send(
            {
                "q": number,
                "op": op,
                "a": tokens[: len(args)],
                "k": dict(zip(keys, tokens[len(args) :])),
                "S": state,
            }
        )
        while True:
            message = self.receive()
            if "q" in message:
                self.answer(message)
                continue
            if message.get("r") != number:
                raise WireError("an answer to a question not asked")
            if "err" in message:
                self.decode([], message.get("S", {}))
                raise remote_error(message["err"])
            return self.decode([message.get("ok")], message.get("S", {}))[0]

    def answer(self, message):
        """Serve one request of the other side and send the reply (errors become replies)."""
        number = message.get("q")
        try:
            args = message.get("a", [])
            kwargs = message.get("k", {})
            if not (
                isinstance(args, list)
                and isinstance(kwargs, dict)
                and isinstance(message.get("op"), str)
            ):
                raise WireError("a malformed request")
            values = self.decode([*args, *kwargs.values()], message.get("S", {}))
            # the judge reads a node's history
            deep = message["op"] == "state" and self.side == "worker"
            result = (
                None
                if deep
                else self.serve(
                    message["op"], values[: len(args)], dict(zip(kwargs, values[len(args) :]))
                )
            )
            tokens, state = self.encode([result, *values], deep=deep)
            reply = {"r": number, "ok": tokens[0], "S": state}
        except WorkerGone:
            raise
        except BaseException as error:  # the learner's code may raise anything, SystemExit included
            frames = error_frames(error)
            try:
                _, state = self.encode(list(values)) if "values" in locals() else ([], {})
            except Exception:
                state = {}
            reply = {
                "r": number,
                "err": [type(error).__name__, error_text(error), frames],
                "S": state,
            }
        self.send(reply)

    def serve_forever(self):
        """The worker's loop: answer requests until the judge closes the wire."""
        while True:
            try:
                message = self.receive()
            except WorkerGone:
                return
            if "q" in message:
                self.answer(message)


def safe_is_node(x) -> bool:
    try:
        return is_node(x)
    except Exception:
        return False


def set_node(obj, data, grad, children, local_grads, cls):
    for name, value in (
        ("data", data),
        ("grad", grad),
        ("_children", children),
        ("_local_grads", local_grads),
    ):
        try:
            setattr(obj, name, value)
        except Exception:
            pass  # a learner's class that refuses an attribute: its own node keeps what it had
    if isinstance(obj, Mirror):
        obj._class = cls


def error_text(error) -> str:
    try:
        text = str(error)
    except Exception:
        text = ""
    if isinstance(error, SyntaxError):
        text = f"{error.msg} (line {error.lineno})"
    return text[:MAX_TEXT]


def error_frames(error) -> list:
    """[[cell name, line, function]] for the frames of error's traceback that ran notebook code
    (compiled with a name in <angle brackets>); the wire's and the worker's own frames are left
    out."""
    frames, tb = [], error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.startswith("<") and not code.co_filename.startswith("<frozen"):
            frames.append([code.co_filename, tb.tb_lineno, code.co_name])
        tb = tb.tb_next
    return frames[-20:]


# ------------------------------------------------------------------ errors from the other side


class RemoteError(Exception):
    """Mixed into the exception raised here for an error raised on the other side."""

    frames: list = []


ERROR_CLASSES = {}
NOT_RAISED_AS_IS = (StopIteration, StopAsyncIteration, GeneratorExit)


def remote_error(err):
    """An exception of the same built-in type (so `except ZeroDivisionError` still works) that is
    also a RemoteError carrying the frames; any other type becomes a RemoteError of that name."""
    import builtins

    if not (
        isinstance(err, list)
        and len(err) == 3
        and isinstance(err[0], str)
        and isinstance(err[1], str)
    ):
        raise WireError("a malformed error")
    name, text, frames = err[0][:100], err[1][:MAX_TEXT], err[2] if isinstance(err[2], list) else []
    base = getattr(builtins, name, None)
    if not (isinstance(base, type) and issubclass(base, Exception)) or issubclass(
        base, NOT_RAISED_AS_IS
    ):
        base = Exception
    if name not in ERROR_CLASSES:
        try:
            ERROR_CLASSES[name] = type(
                name if name.isidentifier() else "Error", (base, RemoteError), {}
            )
            ERROR_CLASSES[name](text)
        except Exception:  # a built-in whose constructor wants other arguments (UnicodeDecodeError)
            ERROR_CLASSES[name] = type(name if name.isidentifier() else "Error", (RemoteError,), {})
    error = ERROR_CLASSES[name](text)
    error.frames = [f for f in frames if isinstance(f, list) and len(f) == 3][:20]
    return error


# ------------------------------------------------------------------ stand-ins for the other side's
# objects

LOCAL_ONLY = {
    "__deepcopy__",
    "__copy__",
    "__reduce__",
    "__reduce_ex__",
    "__getstate__",
    "__setstate__",
    "__length_hint__",
    "__fspath__",
    "__index__",
    "__float__",
    "__int__",
    "__len__",
    "__iter__",
}


class Remote:
    """One of the other side's objects that stays there (a function, a class, an object): calling
    it, or reading and setting its attributes, asks the other side."""

    __slots__ = ("_endpoint", "_wire", "_callable")
    # what a check swaps in a function's globals: nothing here (the worker has no reference)
    __globals__ = {}

    def __init__(self, endpoint, wire, is_callable):
        object.__setattr__(self, "_endpoint", endpoint)
        object.__setattr__(self, "_wire", wire)
        object.__setattr__(self, "_callable", is_callable)

    def __call__(self, *args, **kwargs):
        return self._endpoint.request("call", [self, *args], kwargs)

    def __getattr__(self, name):
        if name in LOCAL_ONLY:  # what Python's own machinery (copy, pickle, len) probes for
            raise AttributeError(name)
        return self._endpoint.request("getattr", [self, name])

    def __setattr__(self, name, value):
        self._endpoint.request("setattr", [self, name, value])

    def __delattr__(self, name):
        self._endpoint.request("delattr", [self, name])

    def build_values(self, x):
        """as_values(x, this class) in the worker: numbers in nested lists and dicts, each a new
        node."""
        return self._endpoint.request("op", ["build", self, x])

    def __instancecheck__(self, obj):
        """isinstance(node, cls) for a node that came from the other side and a class that lives
        there."""
        if isinstance(obj, Mirror) and not obj._filled:
            obj.data  # an empty node: its class comes with its state
        return isinstance(obj, Mirror) and obj._class is self

    def __repr__(self):
        return f"<the learner's object {self._wire}>"


def _operator(name):
    def method(self, *other):
        return self._endpoint.request("op", [name, self, *other])

    method.__name__ = f"__{name}__"
    return method


def mirror_field(slot):
    """A Mirror's field: reading it first fills an empty node from the worker; a change is sent
    later."""

    def read(self):
        if not self._filled:
            self._endpoint.request("state", [self])
        return object.__getattribute__(self, slot)

    def write(self, value):
        endpoint = self._endpoint
        if endpoint.filling:
            object.__setattr__(self, "_filled", True)
        elif not self._filled:
            endpoint.request("state", [self])  # never send fields the judge has not seen
        object.__setattr__(self, slot, value)
        if not endpoint.filling:
            endpoint.dirty.add(self)

    return property(read, write)


class Mirror:
    """The judge's copy of a node that lives in the worker: data, grad, _children and _local_grads
    as plain values (kept in step by the wire), operators and methods asked of the worker. A node
    first seen as a child arrives empty; reading any of its fields asks the worker for its
    history."""

    __slots__ = (
        "_data",
        "_grad",
        "_children_",
        "_local_grads_",
        "_class",
        "_endpoint",
        "_wire",
        "_filled",
        "__weakref__",
    )

    def __init__(self, endpoint, wire):
        for name, value in (
            ("_endpoint", endpoint),
            ("_wire", wire),
            ("_data", None),
            ("_grad", None),
            ("_children_", ()),
            ("_local_grads_", ()),
            ("_class", None),
            ("_filled", False),
        ):
            object.__setattr__(self, name, value)

    data, grad = mirror_field("_data"), mirror_field("_grad")
    _children, _local_grads = mirror_field("_children_"), mirror_field("_local_grads_")

    # methods: log, exp, relu, backward, ... (a bound method of the worker's)
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._endpoint.request("getattr", [self, name])

    def __repr__(self):
        return f"Value(data={self.data!r})"

    __hash__ = object.__hash__


for _name in (
    "add",
    "radd",
    "sub",
    "rsub",
    "mul",
    "rmul",
    "truediv",
    "rtruediv",
    "pow",
    "rpow",
    "neg",
):
    setattr(Mirror, f"__{_name}__", _operator(_name))
