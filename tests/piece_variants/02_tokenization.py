"""Chapter 02_tokenization: correct code written differently, and mistakes its visible tests must
name (test_visible_contracts)."""

from visible_tests import Variant

CORRECT = [
    Variant(
        "build_vocab",
        "a loop over the documents",
        """
seen = set()
for doc in docs:
    seen.update(doc)
return sorted(seen)
""",
    ),
    Variant(
        "encode",
        "a lookup table built in the call",
        """
stoi = {c: i for i, c in enumerate(chars)}
ids = [len(chars)]
for c in doc:
    ids.append(stoi[c])
ids.append(len(chars))
return ids
""",
    ),
    Variant(
        "decode",
        "a loop that skips BOS",
        """
text = ""
for i in ids:
    if i == len(chars):
        continue
    text += chars[i]
return text
""",
    ),
]

MISTAKES = [
    Variant(
        "build_vocab",
        "a string instead of a list",
        """
return "".join(sorted(set("".join(docs))))
""",
        says="expected a list",
    ),
    Variant(
        "build_vocab",
        "lower case only",
        """
return sorted(set("".join(docs).lower()))
""",
        says="every character",
    ),
    Variant(
        "build_vocab",
        "letters only (isalpha)",
        """
return sorted(set(c for doc in docs for c in doc if c.isalpha()))
""",
        says="every character",
    ),
    Variant(
        "build_vocab",
        "sorts the documents in place",
        """
docs.sort()
return sorted(set("".join(docs)))
""",
        says="you changed docs in place",
    ),
    Variant(
        "build_vocab",
        "characters kept from an earlier call",
        """
seen = globals().setdefault("vocab_seen", set())
seen.update("".join(docs))
return sorted(seen)
""",
        says="no state",
    ),
    Variant(
        "encode",
        "BOS written as 26",
        """
return [26] + [chars.index(c) for c in doc] + [26]
""",
        says="item [0] is 26; expected 6",
    ),
    Variant(
        "encode",
        "ids counted from 1",
        """
bos = len(chars)
return [bos] + [chars.index(c) + 1 for c in doc] + [bos]
""",
        says="item [1] is 5; expected 4",
    ),
    Variant(
        "encode",
        "ids from the alphabet, ord(c) - ord('a')",
        """
return [len(chars)] + [ord(c) - ord("a") for c in doc] + [len(chars)]
""",
        says="item [2] is 14; expected 4",
    ),
    Variant(
        "encode",
        "BOS at the start only",
        """
return [len(chars)] + [chars.index(c) for c in doc]
""",
        says="has 5 items; expected 6",
    ),
    Variant(
        "encode",
        "BOS added to the vocabulary in place",
        """
chars.append("<BOS>")
return [chars.index("<BOS>")] + [chars.index(c) for c in doc] + [chars.index("<BOS>")]
""",
        says="you changed chars in place",
    ),
    Variant(
        "encode",
        "a lookup table kept from the first call",
        """
stoi = globals().setdefault("encode_table", {c: i for i, c in enumerate(chars)})
return [len(chars)] + [stoi[c] for c in doc] + [len(chars)]
""",
        says="no state",
    ),
    Variant(
        "decode",
        "drops the first and last id instead of every BOS",
        """
return "".join(chars[i] for i in ids[1:-1])
""",
        says="leave out every BOS",
    ),
    Variant(
        "decode",
        "BOS written as 26",
        """
return "".join(chars[i] for i in ids if i != 26)
""",
        says="leave out every BOS",
    ),
    Variant(
        "decode",
        "removes BOS from ids in place",
        """
while len(chars) in ids:
    ids.remove(len(chars))
return "".join(chars[i] for i in ids)
""",
        says="you changed ids in place",
    ),
    Variant(
        "decode",
        "strips the text",
        """
return "".join(chars[i] for i in ids if i != len(chars)).strip()
""",
        says="spaces are characters too",
    ),
    Variant(
        "decode",
        "a list of characters instead of a string",
        """
return [chars[i] for i in ids if i != len(chars)]
""",
        says="expected 'emma'",
    ),
]
