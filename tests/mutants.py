"""Learner-like code for the check tests: the Value classes and namespaces the notebooks give
learners, and the generic unfinished or careless submissions every check must reject (each chapter's
test module holds its own plausible mistakes)."""

import inspect
import math
import random
import textwrap

import microgpt
import pytest


def notebook_value_class(**methods):
    """A Value class made from the reference's source, as a notebook's given cell defines it (so it
    is not microgpt.Value), with some methods replaced: chapter 1's learner-written primitives."""
    namespace = {"math": math}
    exec(inspect.getsource(microgpt.autograd.Value), namespace)
    cls = namespace["Value"]
    for name, method in methods.items():
        setattr(cls, name, method)
    return cls


def notebook(source, **names):
    """The globals of a notebook in which names were defined and then source was run."""
    namespace = {"math": math, "random": random, **names}
    exec(textwrap.dedent(source), namespace)
    return namespace


def given(*pieces):
    """The source of reference pieces, as a chapter's given cell holds it."""
    return "".join(inspect.getsource(piece) + "\n\n" for piece in pieces)


def rejection(check, *args):
    """The message of the AssertionError that check(*args) must raise."""
    with pytest.raises(AssertionError) as info:
        check(*args)
    return str(info.value)


def stub(*args, **kwargs):
    raise NotImplementedError()


def returns_none(*args, **kwargs):
    return None


def drop_last(fn):
    """fn with the last item of its result missing."""
    return lambda *args, **kwargs: fn(*args, **kwargs)[:-1]


def as_floats(fn):
    """fn returning the data of its Values: numbers where Values are needed."""
    return lambda *args, **kwargs: [x.data for x in fn(*args, **kwargs)]


def stub_mistake(piece):
    return [(stub, f"{piece} raised NotImplementedError: replace the stub with your code")]


def none_mistake(piece):
    return [(returns_none, "returned None: did you forget return?")]


def vector_mistakes(piece):
    """A list one item short and plain floats instead of Values, made from the reference piece."""
    reference = getattr(microgpt, piece)
    return [
        (drop_last(reference), "returned a list of"),
        (as_floats(reference), "returned plain numbers"),
    ]


def case_tables(cases, *generic):
    """(alternatives, mistakes) rows for pytest.mark.parametrize.

    cases: piece -> (check, correct implementations, [(mistake, phrase its message must contain)]);
    each generic(piece) adds (mistake, phrase) pairs that apply to every piece."""
    alternatives = [(piece, fn) for piece, (_, fns, _) in cases.items() for fn in fns]
    mistakes = [
        (piece, fn, phrase) for piece, (_, _, pairs) in cases.items() for fn, phrase in pairs
    ]
    mistakes += [
        (piece, fn, phrase) for piece in cases for make in generic for fn, phrase in make(piece)
    ]
    return alternatives, mistakes
