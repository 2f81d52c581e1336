"""Learner-like code for the check tests: the Value classes and namespaces the notebooks give learners,
and the generic unfinished or careless submissions every check must reject (each chapter's test module
holds its own plausible mistakes)."""

import inspect
import math
import random
import textwrap

import pytest

import microgpt


def notebook_value_class(**methods):
    """A Value class made from the reference's source, as a notebook's given cell defines it (so it is
    not microgpt.Value), with some methods replaced: chapter 1's learner-written primitives."""
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
