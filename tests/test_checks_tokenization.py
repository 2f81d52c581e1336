"""Chapter 2 checks: build_vocab, encode and decode accept correct implementations and reject
plausible mistakes with a message that points at the cause."""

import pytest

import microgpt
from autograder.checks import check_build_vocab, check_decode, check_encode
from mutants import case_tables, none_mistake, rejection, stub_mistake


def build_vocab_loop(docs):
    chars = []
    for doc in docs:
        for c in doc:
            if c not in chars:
                chars.append(c)
    chars.sort()
    return chars


def build_vocab_set_union(docs):
    return sorted(set().union(*docs))


def vocab_first_seen(docs):
    return list(dict.fromkeys("".join(docs)))


def vocab_with_duplicates(docs):
    return sorted("".join(docs))


def vocab_as_set(docs):
    return set("".join(docs))


def vocab_as_string(docs):
    return "".join(sorted(set("".join(docs))))


def vocab_with_bos_marker(docs):
    return sorted(set("".join(docs))) + ["<BOS>"]


def encode_lookup(doc, chars):
    ids = {c: i for i, c in enumerate(chars)}
    bos = len(chars)
    return [bos, *(ids[c] for c in doc), bos]


def encode_without_bos(doc, chars):
    return [chars.index(c) for c in doc]


def encode_bos_at_start(doc, chars):
    return [len(chars)] + [chars.index(c) for c in doc]


def encode_bos_zero(doc, chars):
    return [0] + [chars.index(c) for c in doc] + [0]


def encode_ids_from_one(doc, chars):
    return [len(chars)] + [chars.index(c) + 1 for c in doc] + [len(chars)]


def encode_tuple(doc, chars):
    return tuple(microgpt.encode(doc, chars))


def decode_loop(ids, chars):
    text = ""
    for i in ids:
        if i < len(chars):
            text += chars[i]
    return text


def decode_keeps_bos(ids, chars):
    return "".join(chars[i] for i in ids)


def decode_strips_ends(ids, chars):
    return "".join(chars[i] for i in ids[1:-1])


def decode_list(ids, chars):
    return [chars[i] for i in ids if i != len(chars)]


def decode_stops_at_bos(ids, chars):
    text = ""
    for i in ids[1:]:
        if i == len(chars):
            break
        text += chars[i]
    return text


CASES = {
    "build_vocab": (check_build_vocab, [microgpt.build_vocab, build_vocab_loop, build_vocab_set_union], [
        (vocab_first_seen, "not in order"),
        (vocab_with_duplicates, "more than once"),
        (vocab_as_set, "expected the list"),
        (vocab_as_string, "expected the list"),
        (vocab_with_bos_marker, "distinct characters of every document"),
    ]),
    "encode": (check_encode, [microgpt.encode, encode_lookup], [
        (encode_without_bos, "Wrap the ids in BOS"),
        (encode_bos_at_start, "at both ends"),
        (encode_bos_zero, "BOS has id len(chars)"),
        (encode_ids_from_one, "chars.index(c)"),
        (encode_tuple, "expected the list of token ids"),
    ]),
    "decode": (check_decode, [microgpt.decode, decode_loop], [
        (decode_keeps_bos, "leave out every BOS token"),
        (decode_strips_ends, "leave out every BOS token"),
        (decode_list, "join the characters"),
        (decode_stops_at_bos, "wherever it is"),
    ]),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake, none_mistake)


@pytest.mark.parametrize("piece, fn", ALTERNATIVES, ids=[f"{p}-{fn.__name__}" for p, fn in ALTERNATIVES])
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize("piece, fn, phrase", MISTAKES, ids=[f"{p}-{fn.__name__}" for p, fn, _ in MISTAKES])
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)
