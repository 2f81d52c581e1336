"""The judge's worker: runs a learner's notebook code inside the sandbox and answers the judge.

    python worker.py FOLDER     (requests on stdin, answers on stdout, one JSON line each: wire.py)

It holds nothing secret: the public cells of a chapter, the learner's code, and the chapter's files
(course_tools.py, data) in FOLDER, its working folder. Stdlib only, beside wire.py. The judge asks
it to run cells, to look up names, and to call what they name; everything it answers is plain data,
which the judge checks. Learner code here can change this program too: it can then only answer with
other data.
"""

from __future__ import annotations

import keyword
import operator
import os
import sys
import types

from wire import Endpoint, Remote

OPERATORS = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": operator.truediv,
    "pow": operator.pow,
    "neg": operator.neg,
    "radd": lambda a, b: b + a,
    "rsub": lambda a, b: b - a,
    "rmul": lambda a, b: b * a,
    "rtruediv": lambda a, b: b / a,
    "rpow": lambda a, b: b**a,
}


def build(cls, x):
    """A new cls node for every number in x (nested lists and dicts), fresh containers."""
    if type(x) is dict:
        return {key: build(cls, item) for key, item in x.items()}
    if type(x) in (list, tuple):
        return [build(cls, item) for item in x]
    return cls(x)


OPERATORS["build"] = build


class JudgeObject:
    """An object the judge handed over (a stand-in random generator): its attributes are asked of
    the judge."""

    def __init__(self, endpoint, wire):
        self.__dict__["_remote"] = Remote(endpoint, wire, False)

    def __getattr__(self, name):
        # the judge answers public attributes only; Python's probes stay here
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.__dict__["_remote"], name)


def judge_handle(endpoint, wire, is_callable):
    """The local stand-in for a judge's handle: a plain function (so it works as a method too) or an
    object."""
    if not is_callable:
        return JudgeObject(endpoint, wire)
    remote = Remote(endpoint, wire, True)

    def call_judge(*args, **kwargs):
        return remote(*args, **kwargs)

    return call_judge


def stand_in(name, function):
    """function (the local handle of the judge's stand-in for an exercise of the notebook) renamed
    after that exercise, its code compiled as if from '<stand-in NAME>' (the same closure): an error
    raised in the stand-in (the reference's code, in the judge) then shows a frame of its own, told
    apart from one raised in the learner's cell that called it
    (checks.core.where_raised_in_worker)."""
    if not (
        isinstance(function, types.FunctionType)
        and name.isidentifier()
        and not keyword.iskeyword(name)
    ):
        return function
    code = function.__code__.replace(
        co_filename=f"<stand-in {name}>", co_name=name, co_qualname=name
    )
    return types.FunctionType(
        code, function.__globals__, name, function.__defaults__, function.__closure__
    )


def main():
    protocol_in, protocol_out = os.dup(0), os.dup(1)
    null = os.open(os.devnull, os.O_RDWR)
    # the learner's prints and input() go nowhere: the channel stays the judge's
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    sys.stdout = sys.stderr = open(os.devnull, "w")
    os.chdir(sys.argv[1])  # the chapter's files (course_tools.py, data), read-only
    sys.path[0] = os.getcwd()  # like a notebook: the chapter's files import by bare name
    namespace = {"__name__": "__main__"}

    def make_node(wire):
        cls = namespace.get("Value")
        if not isinstance(cls, type):
            raise TypeError("the notebook defines no Value class for the judge's nodes")
        return cls.__new__(cls)

    def make_object(name, fields):
        """The notebook's own class of that name (its GPTConfig), or a plain namespace of the
        fields."""
        cls = namespace.get(name)
        if isinstance(cls, type):
            try:
                return cls(**fields)
            except Exception:
                pass
        return types.SimpleNamespace(**fields)

    def serve(op, args, kwargs):
        if op == "run":
            source, name = args
            exec(compile(source, name, "exec"), namespace)
            return None
        if op == "lookup":
            if args[0] not in namespace:
                raise NameError(f"name {args[0]!r} is not defined")
            return namespace[args[0]]
        if op == "bind":
            namespace[args[0]] = stand_in(args[0], args[1])
            return None
        if op == "call":
            return args[0](*args[1:], **kwargs)
        if op == "getattr":
            return getattr(args[0], args[1])
        if op == "setattr":
            setattr(args[0], args[1], args[2])
            return None
        if op == "delattr":
            delattr(args[0], args[1])
            return None
        if op == "op":
            return OPERATORS[args[0]](*args[1:])
        raise ValueError(f"unknown request {op!r}")

    endpoint = Endpoint(
        "worker",
        protocol_in,
        protocol_out,
        make_node,
        lambda wire, is_callable: judge_handle(endpoint, wire, is_callable),
        serve,
        make_object=make_object,
    )
    endpoint.serve_forever()
    os._exit(0)


if __name__ == "__main__":
    main()
