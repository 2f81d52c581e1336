"""Character-level tokenizer with one special token, BOS.

The vocabulary is the sorted list of distinct characters in the documents;
character chars[i] has token id i, and BOS (beginning of sequence, which also
marks the end) has id len(chars). The vocabulary size is len(chars) + 1.
"""


def build_vocab(docs):
    """Sorted list (Python's default order: by code point) of the distinct characters of docs (a
    list of strings), each a one-character string; every character counts, spaces and punctuation
    too."""
    return sorted(set("".join(docs)))


def bos_id(chars):
    """Token id of BOS: one past the last character's id."""
    return len(chars)


def vocab_size(chars):
    """Number of token ids: every character plus BOS."""
    return len(chars) + 1


def encode(doc, chars):
    """Token ids (ints) of one document wrapped in BOS: [BOS, id(c0), ..., id(cn-1), BOS], with
    id(c) = chars.index(c). Every character of doc must be in chars."""
    bos = bos_id(chars)
    return [bos] + [chars.index(c) for c in doc] + [bos]


def decode(ids, chars):
    """The string spelled by token ids (chars[i] for each id i), every BOS token left out wherever
    it is."""
    bos = bos_id(chars)
    return "".join(chars[i] for i in ids if i != bos)
