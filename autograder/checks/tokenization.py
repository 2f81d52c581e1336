"""Chapter 2 (tokenization): build_vocab, encode, decode.

Vocabularies are built with the reference build_vocab, so encode and decode are checked alone.
"""

import random

import microgpt

from .core import call, expect_returned, fail, kind, show

DOCS = [
    ["emma", "olivia", "ava"],
    ["b", "a", "b"],
    ["anna-lee", "zoë", "o'neil", "mary jane", "ÉMILE"],
    [""],
    [],
]
ALPHABET = "abcdefghijklmnopqrstuvwxyz-' ABC"


def _random_docs(rng, n=5):
    return [["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8))) for _ in range(rng.randint(1, 6))]
            for _ in range(n)]


def check_build_vocab(fn):
    """build_vocab(docs) is the sorted list of the distinct characters of docs: on names, repeated
    characters, punctuation and non-ASCII letters, empty documents, no documents, and random docs."""
    for docs in DOCS + _random_docs(random.Random("build_vocab")):
        shown = f"build_vocab({show(docs)})"
        got = call(fn, (docs,), shown, "build_vocab")
        expected = microgpt.build_vocab(docs)
        expect_returned(got, shown)
        if not isinstance(got, list):
            fail(f"{shown} returned {kind(got)}; expected the list {show(expected)}: return sorted(...) of the "
                 f"distinct characters, a list.")
        if got == expected:
            continue
        if sorted(got) == expected:
            hint = "The characters are right but not in order: sort them (sorted(...))."
        elif set(got) == set(expected):
            hint = "Some characters appear more than once: keep each distinct character once (a set)."
        else:
            hint = "Take the distinct characters of every document, sorted."
        fail(f"{shown} returned {show(got)}; expected {show(expected)}. {hint}")


def _encode_cases(rng):
    cases = [("emma", DOCS[0]), ("", DOCS[0]), ("a", DOCS[0]), ("ava", DOCS[0]), ("zoë", DOCS[2]),
             ("mary jane", DOCS[2])]
    for docs in _random_docs(rng):
        chars = microgpt.build_vocab(docs)
        cases += [(rng.choice(docs), docs), ("".join(rng.choice(chars) for _ in range(5)) if chars else "", docs)]
    return [(doc, microgpt.build_vocab(docs)) for doc, docs in cases]


def _encode_hint(got, doc, chars):
    bos = microgpt.bos_id(chars)
    ids = [chars.index(c) for c in doc]
    if got in ([bos] + ids, ids + [bos]):
        return f"Put BOS (id {bos}) at both ends: [BOS] + ids + [BOS]."
    if got == ids:
        return f"Wrap the ids in BOS (id {bos} = len(chars)) at both ends."
    if len(got) == len(ids) + 2 and got[1:-1] != ids:
        return "Character chars[i] has id i: use chars.index(c)."
    if len(got) == len(ids) + 2:
        return f"BOS has id len(chars) = {bos}, one past the last character's id."
    return f"Return [BOS] + [chars.index(c) for c in doc] + [BOS], with BOS = len(chars) = {bos}."


def check_encode(fn):
    """encode(doc, chars) is [BOS] + [chars.index(c) for c in doc] + [BOS] with BOS = len(chars): on
    names, the empty document, one character, punctuation, and random documents."""
    for doc, chars in _encode_cases(random.Random("encode")):
        shown = f"encode({doc!r}, chars={show(''.join(chars))})"
        got = call(fn, (doc, chars), shown, "encode")
        expected = microgpt.encode(doc, chars)
        expect_returned(got, shown)
        if not isinstance(got, list):
            fail(f"{shown} returned {kind(got)}; expected the list of token ids {show(expected)}.")
        if got != expected:
            fail(f"{shown} returned {show(got)}; expected {show(expected)}. {_encode_hint(got, doc, chars)}")


def _decode_cases(rng):
    chars = microgpt.build_vocab(DOCS[0])
    bos = microgpt.bos_id(chars)
    cases = [microgpt.encode("emma", chars), [bos, bos], [0, 1], [bos, 0, bos, 1, bos], [bos], []]
    cases += [[rng.choice(range(bos + 1)) for _ in range(rng.randint(0, 10))] for _ in range(8)]
    return [(ids, chars) for ids in cases]


def check_decode(fn):
    """decode(ids, chars) spells the ids with chars, leaving out every BOS token wherever it is: on an
    encoded name, BOS alone, no BOS, BOS in the middle, no ids, and random ids."""
    for ids, chars in _decode_cases(random.Random("decode")):
        bos = microgpt.bos_id(chars)
        shown = f"decode({show(ids)}, chars={show(''.join(chars))})"
        leave_out_bos = (f"Spell each id i as chars[i] and leave out every BOS token (id len(chars) = {bos}), "
                         f"wherever it is.")
        got = call(fn, (ids, chars), shown, "decode", [(IndexError, leave_out_bos)])
        expected = microgpt.decode(ids, chars)
        expect_returned(got, shown)
        if isinstance(got, list):
            fail(f"{shown} returned the list {show(got)}; expected the string {expected!r}: join the characters "
                 f"(''.join(...)).")
        if not isinstance(got, str):
            fail(f"{shown} returned {kind(got)}; expected the string {expected!r}.")
        if got != expected:
            fail(f"{shown} returned {got!r}; expected {expected!r}. {leave_out_bos}")
