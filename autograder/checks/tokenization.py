"""Chapter 2 (tokenization): build_vocab, encode, decode.

Vocabularies are built with the reference build_vocab, so encode and decode are checked alone. The
documents reach every character a string may hold (spaces, punctuation, digits, uppercase, accents,
characters outside the Basic Multilingual Plane), several vocabularies follow one another (no state
may survive a call), and the inputs must be left unchanged.
"""

import microgpt

from .core import about, call, case_rng, expect_returned, fail, graded, kind, show
from .guards import expect_unchanged, snapshots

DOCS = [
    ["emma", "olivia", "ava"],
    ["b", "a", "b"],
    ["anna-lee", "zoë", "o'neil", "mary jane", "ÉMILE"],
    ["Zed", "amy", "Émile", "bob"],
    [" lead", "trail ", "r2-d2!", "x"],
    ["a😀", "😀b", "e\u0301", "ñ"],
    [""],
    [],
]
ALPHABET = "abcdefghijklmnopqrstuvwxyz-' ABCZÉé.😀"
STATE = "keep no state between calls: build everything from this call's arguments."


def _random_docs(rng, n=5):
    return [
        [
            "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 8)))
            for _ in range(rng.randint(1, 6))
        ]
        for _ in range(n)
    ]


def _vocab_hint(got, expected, earlier):
    """Why got (a list of one-character strings) is not the vocabulary expected; earlier: the
    characters of the documents of the calls before this one."""
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    if extra and extra <= earlier:
        return f"{show(sorted(extra))} came from the documents of an earlier call: {STATE}"
    if missing:
        return (
            f"{show(sorted(missing))} missing: keep every character of every document, spaces, "
            "punctuation, digits and uppercase included (no strip, lower or filtering)."
        )
    if extra:
        return (
            f"{show(sorted(extra))} is in no document: take only the characters of the documents."
        )
    if len(got) > len(set(got)):
        return "Some characters appear more than once: keep each distinct character once (a set)."
    return (
        "The characters are right but not in order: sort them in Python's default "
        "order, sorted(...) with no key (by code point, so 'Z' < 'a' < 'É')."
    )


@graded
def check_build_vocab(fn):
    """build_vocab(docs) is the sorted list of the distinct characters of docs: on names, repeated
    characters, punctuation, spaces (also at the ends), digits, uppercase before lowercase, accents
    (composed and combining), emoji, empty documents, no documents, and random docs, one vocabulary
    after another; a list of one-character strings; docs left unchanged."""
    earlier = set()
    for docs in DOCS + _random_docs(case_rng("build_vocab")):
        shown = f"build_vocab({show(docs)})"
        before = snapshots({"docs": docs})
        got = call(fn, (docs,), shown, "build_vocab")
        expected = microgpt.build_vocab(docs)
        expect_returned(got, shown)
        if not isinstance(got, list):
            fail(
                about(
                    shown,
                    f" returned {kind(got)}; expected the list {show(expected)}: "
                    "return sorted(...) of the distinct characters, a list.",
                )
            )
        for i, item in enumerate(got):
            if not (isinstance(item, str) and len(item) == 1):
                fail(
                    about(
                        shown,
                        f" returned a list whose item {i} is {kind(item)}; expected "
                        f"one-character strings {show(expected)}: the distinct characters "
                        "of the documents joined together, not the documents or numbers.",
                    )
                )
        expect_unchanged(before, {"docs": docs}, shown)
        if got != expected:
            fail(
                about(
                    shown,
                    f" returned {show(got)}; expected {show(expected)}. "
                    f"{_vocab_hint(got, expected, earlier)}",
                )
            )
        earlier |= set(expected)


def _encode_cases(rng):
    """(doc, docs) pairs: the vocabulary changes between cases, so a lookup kept from an earlier
    call shows."""
    cases = [
        ("emma", DOCS[0]),
        ("", DOCS[0]),
        ("a", DOCS[0]),
        ("ava", DOCS[0]),
        ("vole", DOCS[0]),
        ("mole", ["mole", "vim"]),
        ("zoë", DOCS[2]),
        ("mary jane", DOCS[2]),
        ("ÉMILE", DOCS[2]),
        ("Zed", DOCS[3]),
        (" lead", DOCS[4]),
        ("trail ", DOCS[4]),
        ("r2-d2!", DOCS[4]),
        ("😀b", DOCS[5]),
        ("e\u0301", DOCS[5]),
    ]
    for docs in _random_docs(rng):
        chars = microgpt.build_vocab(docs)
        cases += [
            (rng.choice(docs), docs),
            ("".join(rng.choice(chars) for _ in range(5)) if chars else "", docs),
        ]
    return [(doc, microgpt.build_vocab(docs)) for doc, docs in cases]


def _encode_hint(got, doc, chars, earlier):
    bos = microgpt.bos_id(chars)
    ids = [chars.index(c) for c in doc]
    for old in earlier:
        if all(c in old for c in doc) and got == microgpt.encode(doc, old):
            return (
                f"Those are the ids in an earlier call's vocabulary {show(''.join(old))}: {STATE}"
            )
    if got in ([bos] + ids, ids + [bos]):
        return f"Put BOS (id {bos}) at both ends: [BOS] + ids + [BOS]."
    if got == ids:
        return f"Wrap the ids in BOS (id {bos} = len(chars)) at both ends."
    if len(got) == len(ids) + 2 and got[1:-1] != ids:
        return "Character chars[i] has id i: use chars.index(c)."
    if len(got) == len(ids) + 2:
        return f"BOS has id len(chars) = {bos}, one past the last character's id."
    return f"Return [BOS] + [chars.index(c) for c in doc] + [BOS], with BOS = len(chars) = {bos}."


@graded
def check_encode(fn):
    """encode(doc, chars) is [BOS] + [chars.index(c) for c in doc] + [BOS] with BOS = len(chars): on
    names, the empty document, one character, the vocabulary's last character, spaces (also at the
    ends), punctuation, digits, uppercase, accents, emoji, random documents, with the vocabulary
    changing from call to call; a list of ints; chars left unchanged."""
    earlier = []
    for doc, chars in _encode_cases(case_rng("encode")):
        shown = f"encode({doc!r}, chars={show(''.join(chars))})"
        before = snapshots({"chars": chars})
        got = call(fn, (doc, chars), shown, "encode")
        expected = microgpt.encode(doc, chars)
        expect_returned(got, shown)
        if not isinstance(got, list):
            fail(
                about(
                    shown,
                    f" returned {kind(got)}; expected the list of token ids {show(expected)}.",
                )
            )
        for i, item in enumerate(got):
            if type(item) is not int:
                fail(
                    about(
                        shown,
                        f" returned a list whose item {i} is {kind(item)}; token ids are ints "
                        f"({show(expected)}): chars.index(c) and len(chars) are ints already.",
                    )
                )
        expect_unchanged(before, {"chars": chars}, shown)
        if got != expected:
            fail(
                about(
                    shown,
                    f" returned {show(got)}; expected {show(expected)}. "
                    f"{_encode_hint(got, doc, chars, earlier)}",
                )
            )
        if chars not in earlier:
            earlier.append(chars)


def _decode_cases(rng):
    """(ids, chars) pairs: BOS anywhere or nowhere, characters of every kind, several
    vocabularies."""
    chars = microgpt.build_vocab(DOCS[0])
    bos = microgpt.bos_id(chars)
    cases = [
        microgpt.encode("emma", chars),
        [bos, bos],
        [0, 1],
        [bos, 0, bos, 1, bos],
        [bos],
        [],
        [len(chars) - 1],
    ]
    cases = [(ids, chars) for ids in cases]
    cases += [
        (microgpt.encode(doc, microgpt.build_vocab(docs)), microgpt.build_vocab(docs))
        for doc, docs in [
            ("mole", ["mole", "vim"]),
            ("mary jane", DOCS[2]),
            ("ÉMILE", DOCS[2]),
            (" lead", DOCS[4]),
            ("trail ", DOCS[4]),
            ("r2-d2!", DOCS[4]),
            ("😀b", DOCS[5]),
        ]
    ]
    cases += [
        ([rng.choice(range(bos + 1)) for _ in range(rng.randint(0, 10))], chars) for _ in range(8)
    ]
    return cases


def _decode_hint(got, ids, chars, earlier):
    for old in earlier:
        if all(i <= len(old) for i in ids) and got == microgpt.decode(ids, old):
            return f"That is the text in an earlier call's vocabulary {show(''.join(old))}: {STATE}"
    if got.strip() == got and microgpt.decode(ids, chars).strip() == got:
        return "Keep every character, spaces at the ends included: do not strip the text."
    return (
        "Spell each id i as chars[i] and leave out every BOS token "
        f"(id len(chars) = {microgpt.bos_id(chars)}), wherever it is."
    )


@graded
def check_decode(fn):
    """decode(ids, chars) spells the ids with chars, leaving out every BOS token wherever it is: on
    an encoded name, BOS alone, no BOS, BOS in the middle, no ids, the last character, spaces at the
    ends, punctuation, uppercase, accents, emoji and random ids, with the vocabulary changing from
    call to call; a string; ids and chars left unchanged."""
    earlier = []
    for ids, chars in _decode_cases(case_rng("decode")):
        bos = microgpt.bos_id(chars)
        shown = f"decode({show(ids)}, chars={show(''.join(chars))})"
        leave_out_bos = (
            f"Spell each id i as chars[i] and leave out every BOS token (id len(chars) = {bos}), "
            f"wherever it is."
        )
        before = snapshots({"ids": ids, "chars": chars})
        got = call(fn, (ids, chars), shown, "decode", [(IndexError, leave_out_bos)])
        expected = microgpt.decode(ids, chars)
        expect_returned(got, shown)
        if isinstance(got, list):
            fail(
                about(
                    shown,
                    f" returned the list {show(got)}; expected the string {expected!r}: join the "
                    "characters (''.join(...)).",
                )
            )
        if not isinstance(got, str):
            fail(about(shown, f" returned {kind(got)}; expected the string {expected!r}."))
        expect_unchanged(before, {"ids": ids, "chars": chars}, shown)
        if got != expected:
            fail(
                about(
                    shown,
                    f" returned {got!r}; expected {expected!r}. "
                    f"{_decode_hint(got, ids, chars, earlier)}",
                )
            )
        if chars not in earlier:
            earlier.append(chars)
