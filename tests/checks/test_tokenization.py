"""Chapter 2 checks: build_vocab, encode and decode accept correct implementations and reject
plausible mistakes with a message that points at the cause."""

import microgpt
import pytest
from hypothesis import given, settings, strategies as st

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


def build_vocab_dict_keys(docs):
    seen = {}
    for doc in docs:
        for c in doc:
            seen[c] = True
    return sorted(seen)


def vocab_of_documents(docs):
    return sorted(set(docs))


def vocab_of_code_points(docs):
    return sorted({ord(c) for doc in docs for c in doc})


def vocab_case_insensitive(docs):
    return sorted(set("".join(docs)), key=str.lower)


def vocab_stripped(docs):
    return sorted(set("".join(doc.strip() for doc in docs)))


def vocab_letters_only(docs):
    return sorted({c for doc in docs for c in doc if c.isalpha() or c in " -'"})


def vocab_sorts_docs_in_place(docs):
    docs.sort()
    return sorted(set("".join(docs)))


SEEN = set()


def vocab_remembers_earlier_calls(docs):
    SEEN.update("".join(docs))
    return sorted(SEEN)


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


def encode_enumerate(doc, chars):
    ids = []
    for c in doc:
        for i, ch in enumerate(chars):
            if ch == c:
                ids.append(i)
    return [len(chars), *ids, len(chars)]


def encode_from_alphabet(doc, chars):
    return [len(chars)] + [ord(c) - ord("a") for c in doc] + [len(chars)]


def encode_float_bos(doc, chars):
    bos = len(chars) / 1
    return [bos] + [chars.index(c) for c in doc] + [bos]


def encode_bool_free_ints(doc, chars):
    return [int(i) for i in microgpt.encode(doc, chars)]


def encode_appends_bos_to_chars(doc, chars):
    if "<BOS>" not in chars:
        chars.append("<BOS>")
    bos = chars.index("<BOS>")
    return [bos] + [chars.index(c) for c in doc] + [bos]


LOOKUP = {}


def encode_cached_lookup(doc, chars):
    if not LOOKUP:
        LOOKUP.update({c: i for i, c in enumerate(chars)})
        LOOKUP["BOS"] = len(chars)
    return [LOOKUP["BOS"]] + [LOOKUP[c] for c in doc] + [LOOKUP["BOS"]]


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


def decode_lookup(ids, chars):
    itos = dict(enumerate(chars))
    return "".join(itos.get(i, "") for i in ids)


def decode_stripped(ids, chars):
    return "".join(chars[i] for i in ids if i != len(chars)).strip()


def decode_removes_bos_in_place(ids, chars):
    while len(chars) in ids:
        ids.remove(len(chars))
    return "".join(chars[i] for i in ids)


ITOS = {}


def decode_cached_lookup(ids, chars):
    if not ITOS:
        ITOS.update(enumerate(chars))
    return "".join(ITOS[i] for i in ids if i in ITOS)


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
    "build_vocab": (
        check_build_vocab,
        [microgpt.build_vocab, build_vocab_loop, build_vocab_set_union, build_vocab_dict_keys],
        [
            (vocab_first_seen, "not in order"),
            (vocab_with_duplicates, "more than once"),
            (vocab_as_set, "expected the list"),
            (vocab_as_string, "expected the list"),
            (vocab_with_bos_marker, "item 7 is a str '<BOS>'; expected one-character strings"),
            (vocab_of_documents, "item 0 is a str 'ava'; expected one-character strings"),
            (vocab_of_code_points, "item 0 is the number 97; expected one-character strings"),
            (vocab_case_insensitive, "by code point, so 'Z' < 'a' < 'É'"),
            (vocab_stripped, "[' '] missing: keep every character of every document"),
            (vocab_letters_only, "['!', '2'] missing"),
            (vocab_sorts_docs_in_place, "changed its input: docs[0] changed from 'emma' to 'ava'"),
            (
                vocab_remembers_earlier_calls,
                "came from the documents of an earlier call: keep no state between calls",
            ),
        ],
    ),
    "encode": (
        check_encode,
        [microgpt.encode, encode_lookup, encode_enumerate, encode_bool_free_ints],
        [
            (encode_without_bos, "Wrap the ids in BOS"),
            (encode_bos_at_start, "at both ends"),
            (encode_bos_zero, "BOS has id len(chars)"),
            (encode_ids_from_one, "chars.index(c)"),
            (encode_tuple, "expected the list of token ids"),
            (encode_from_alphabet, "Character chars[i] has id i: use chars.index(c)."),
            (encode_float_bos, "item 0 is the number 7.0; token ids are ints"),
            (encode_appends_bos_to_chars, "changed its input: chars had 7 items and now has 8"),
            (
                encode_cached_lookup,
                "Those are the ids in an earlier call's vocabulary 'aeilmov': keep no state",
            ),
        ],
    ),
    "decode": (
        check_decode,
        [microgpt.decode, decode_loop, decode_lookup],
        [
            (decode_keeps_bos, "leave out every BOS token"),
            (decode_strips_ends, "leave out every BOS token"),
            (decode_list, "join the characters"),
            (decode_stops_at_bos, "wherever it is"),
            (decode_stripped, "spaces at the ends included: do not strip the text"),
            (decode_removes_bos_in_place, "changed its input: ids had 6 items and now has 4"),
            (
                decode_cached_lookup,
                "That is the text in an earlier call's vocabulary 'aeilmov': keep no state",
            ),
        ],
    ),
}
ALTERNATIVES, MISTAKES = case_tables(CASES, stub_mistake, none_mistake)


@pytest.mark.parametrize(
    "piece, fn", ALTERNATIVES, ids=[f"{p}-{fn.__name__}" for p, fn in ALTERNATIVES]
)
def test_checks_pass_correct_implementations(piece, fn):
    assert CASES[piece][0](fn) is None


@pytest.mark.parametrize(
    "piece, fn, phrase", MISTAKES, ids=[f"{p}-{fn.__name__}" for p, fn, _ in MISTAKES]
)
def test_checks_reject_mistakes(piece, fn, phrase):
    message = rejection(CASES[piece][0], fn)
    assert phrase in message
    assert message.startswith(piece)


@settings(max_examples=25, deadline=None)
@given(index=st.integers(0, 100), as_float=st.booleans())
def test_encode_check_rejects_any_id_that_is_not_an_int(index, as_float):
    def one_id_not_an_int(doc, chars):
        ids = microgpt.encode(doc, chars)
        i = index % len(ids)
        ids[i] = float(ids[i]) if as_float else str(ids[i])
        return ids

    assert "token ids are ints" in rejection(check_encode, one_id_not_an_int)


@settings(max_examples=25, deadline=None)
@given(shift=st.integers(0, 1000))
def test_build_vocab_check_rejects_any_rotated_order(shift):
    def rotated(docs):
        chars = microgpt.build_vocab(docs)
        if len(chars) < 2:
            return chars
        k = 1 + shift % (len(chars) - 1)
        return chars[k:] + chars[:k]

    assert "not in order" in rejection(check_build_vocab, rotated)
