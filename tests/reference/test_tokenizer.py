"""Character vocabulary with BOS, encode and decode."""

from hypothesis import given, strategies as st
from microgpt import bos_id, build_vocab, decode, encode, vocab_size


def test_vocabulary_is_sorted_unique_characters_then_bos():
    chars = build_vocab(["emma", "ava", "zoe"])
    assert chars == ["a", "e", "m", "o", "v", "z"]
    assert bos_id(chars) == 6 and vocab_size(chars) == 7


def test_encode_wraps_ids_in_bos():
    chars = build_vocab(["emma", "ava"])
    assert encode("ava", chars) == [4, 0, 3, 0, 4]
    assert encode("", chars) == [4, 4]


def test_decode_drops_bos():
    chars = build_vocab(["emma", "ava"])
    assert decode([4, 1, 2, 2, 0, 4], chars) == "emma"


@given(
    st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12),
        min_size=1,
        max_size=20,
    )
)
def test_decode_inverts_encode(docs):
    chars = build_vocab(docs)
    for doc in docs:
        assert decode(encode(doc, chars), chars) == doc


def test_names_vocabulary_has_27_tokens(names):
    chars = build_vocab(names)
    assert "".join(chars) == "abcdefghijklmnopqrstuvwxyz"
    assert vocab_size(chars) == 27
