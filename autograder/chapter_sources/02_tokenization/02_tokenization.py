# %% [markdown]
# # Chapter 2 · Names as numbers: the dataset and character tokenization
#
# A GPT learns one skill: given the beginning of a piece of text, say what comes next. Before it can learn
# anything, two practical questions need answers: **what text** does it learn from, and **how does text become
# numbers** it can compute with? This chapter answers both.
#
# **Goals.** By the end of this chapter you will
#
# - load the 32,033<!-- claim: len(docs) --> names the model learns from, and know what they look like: how many, how long, which letters;
# - build the **vocabulary**, the list of characters the model can read and write;
# - understand the special **BOS** token, which marks where a name begins and where it ends;
# - turn a name into a list of token ids (`encode`) and turn token ids back into text (`decode`).
#
# **Time:** about 40 minutes.
#
# **Graded exercises: 4 points in total.**
#
# | Exercise | What it does | Points |
# |---|---|---|
# | `build_vocab(docs)` | the sorted list of distinct characters | 1 |
# | `encode(doc, chars)` | a name → token ids, wrapped in BOS | 2 |
# | `decode(ids, chars)` | token ids → a name, BOS left out | 1 |

# %% [markdown] passage=how_to_work

# %% fetch

# %%
from course_tools import expect_equal, show  # the course's checks; they also make errors readable

# %% [markdown]
# ## 1 · The dataset: 32,033 names
#
# Large language models learn from trillions of words of books, web pages and code. We learn from a list of
# first names. That sounds like a toy, but it keeps everything that matters:
#
# - **Names have structure a model can discover.** Vowels and consonants alternate, some endings are very
#   common (*-a*, *-n*, *-lyn*), some letter pairs almost never appear (*qx*). A model that has learned these
#   patterns can invent new names that *sound* right, and you can judge them by eye.
# - **Names are short.** Our model runs in pure Python, one number at a time, which is thousands of times slower
#   than a GPU. Short documents make training take minutes instead of days.
#
# Each name is one **document**: a self-contained piece of text, independent of the others. The model always
# reads one document at a time, and inside a document it predicts each character from the characters before it.
# A web page or a book chapter plays exactly the same role for a large model.
#
# The loader is given. `read_docs` reads a text file and returns its non-empty lines, with surrounding whitespace
# stripped: one document per line. If the file is missing or is not text, it raises a `DataError` that says what
# is wrong.
#
# The names come from the file `names.txt` of Andrej Karpathy's *makemore* project, and a copy ships with this
# notebook, in its folder. The next cell makes sure it is the right file: it compares the file's **SHA-256**
# fingerprint, computed by `sha256_of`, with the one written in the code, `NAMES_SHA256`. If the file is missing,
# `download_names` fetches it from `NAMES_URL` (this needs an internet connection) and keeps it only if its
# fingerprint matches.

# %% given=microgpt.data:NAMES_URL,NAMES_SHA256,DATA_ENV,DataError,sha256_of,download_names,read_docs

# %%
import urllib.request  # download_names fetches with it
from pathlib import Path

names_file = Path("names.txt")  # in this notebook's folder
if not names_file.exists():
    download_names(names_file)
elif sha256_of(names_file) != NAMES_SHA256:
    raise DataError(f"{names_file} is not makemore's names.txt (its SHA-256 differs): "
                    f"delete it and run this cell again to download a fresh copy")
docs = read_docs(names_file)
expect_equal("number of names", len(docs), 32033)
print(f"{len(docs):,} documents")
print("the first ten:", docs[:10])
print("the last five:", docs[-5:])

# %% [markdown]
# The file is far from random: it opens with very common names (emma, olivia, ava) and ends with a run of almost
# 2,000<!-- claim: 1900 <= len(docs) - next(i for i in range(len(docs) - 1, 0, -1) if docs[i - 1] > docs[i]) < 2000 --> rare ones in alphabetical order, from aabir to zzyzx. If the model saw the names in this order, it would
# spend all of a short training run on one corner of the data. (Our training loop, in chapter 7, takes one document per step
# and 1,000 steps, so it only ever sees 1,000 of the 32,033<!-- claim: len(docs) --> names.) So the training script **shuffles** the
# documents once, before training starts.
#
# It shuffles with a *seeded* random number generator, `random.Random(42)`. A seeded generator produces the same
# sequence of "random" numbers every time, so the shuffle, and everything that follows from it, is the same on
# every run and on every computer. The same generator goes on to draw the model's initial weights and, at the
# end, the sampled names: one seed makes the whole run reproducible.

# %%
import random

shuffled = list(docs)  # a copy: docs itself stays in file order
random.Random(42).shuffle(shuffled)
print("after shuffling with seed 42:", shuffled[:10])

again = list(docs)
random.Random(42).shuffle(again)
print("same seed, same order:", again == shuffled)

# %% [markdown]
# ### How long are the names?
#
# The model has a **context window** of `block_size = 16` positions: it can look at no more than 16 tokens at a
# time (chapter 4 gives it one learned vector per position, 16 in all). As you will see in section 3, a name of
# $n$ characters becomes $n + 2$ tokens and gives the model $n + 1$ things to predict, one from each token but
# the last. So a name fits the window when $n + 1 \le 16$, that is, when it has at most 15 characters.

# %% claims={"most names have 4 to 8": "sum(4 <= n <= 8 for n in lengths) > len(lengths) / 2", "the peak is at 6": "max(set(lengths), key=lengths.count)"}
import matplotlib.pyplot as plt

lengths = [len(doc) for doc in docs]
longest = max(lengths)
mean = sum(lengths) / len(lengths)
print(f"shortest {min(lengths)}, longest {longest}, mean {mean:.2f} characters")
print("the longest names:", [doc for doc in docs if len(doc) == longest])

fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
ax.hist(lengths, bins=[n - 0.5 for n in range(1, longest + 3)], color="tab:blue", edgecolor="white")
ax.axvline(15.5, color="tab:red", linestyle="--",
           label="block_size = 16: names up to 15 characters fit")
ax.set_xlabel("name length (characters)")
ax.set_ylabel("number of names")
ax.set_title(f"Lengths of the {len(docs):,} names")
ax.set_xticks(range(1, longest + 2))
ax.legend(loc="center right")
show("A histogram of name lengths: most names have 4 to 8 characters, the peak is at 6, and a "
     "dashed line at 15.5 shows that every name fits in block_size 16.")


# %% [markdown]
# Most names have 4 to 8 characters<!-- claim: sum(4 <= n <= 8 for n in lengths) > len(lengths) / 2 -->. The two<!-- claim: lengths.count(longest) == 2 --> longest have 15<!-- claim: longest -->: with a BOS token at each end they become 17<!-- claim: longest + 2 --> tokens,
# which means exactly 16<!-- claim: longest + 1 == 16 --> predictions, so even they fit the 16-position window. Nothing in this dataset is ever
# cut short. (On a dataset with longer documents, training would simply stop after the first `block_size`
# predictions of each document.)

# %% [markdown]
# ## 2 · Characters and the vocabulary
#
# A neural network computes with numbers, not letters. **Tokenization** bridges the gap: it cuts text into
# pieces called **tokens**, taken from a fixed list called the **vocabulary**, and replaces each token by its
# position in that list, its **token id**.
#
# How big should the pieces be? Large models use *subword* tokens: a vocabulary of 50,000 to 200,000 frequent
# chunks like `"the"`, `"ing"` or `" transform"`, learned from the data. That keeps sequences short, but it is a
# whole algorithm of its own. We take the simplest choice that works: **one token per character**. The
# vocabulary is tiny (26 letters), and the price, longer sequences, hardly matters for names of 6<!-- claim: mean ± 0.5 --> characters.
#
# The vocabulary is the list of **distinct characters** that occur in the documents, **sorted**. Formally, with
# $\mathcal{D}$ the set of documents,
#
# $$\texttt{chars} = \operatorname{sorted}\bigl(\{\, c \;:\; c \text{ occurs in some } d \in \mathcal{D} \,\}\bigr),
# \qquad \operatorname{id}(c) = \text{the index } i \text{ with } \texttt{chars}[i] = c .$$
#
# Why sort? A set has no reliable order, and the ids must never change: in chapter 4, token id $i$ will select
# row $i$ of a table of learned numbers, so a trained model only makes sense with the exact ids it was trained
# with. Sorting makes the vocabulary depend only on *which* characters occur, not on the order of the documents:
# shuffled or not, the same data always gives the same ids.
#
# **Worked example.** The documents `["emma", "ava", "bob"]` contain the characters e, m, a, v, b, o. Sorted:
#
# | id | 0 | 1 | 2 | 3 | 4 | 5 |
# |---|---|---|---|---|---|---|
# | character | a | b | e | m | o | v |
#
# ### Exercise 1: `build_vocab` (1 point)
#
# Return the sorted list of distinct characters. Python does most of the work: `"".join(docs)` glues all the
# documents into one string, `set(...)` keeps each character once, and `sorted(...)` returns a sorted **list**.

# %% exercise=build_vocab
def build_vocab(docs):
    """The vocabulary: every distinct character of the documents, sorted.

    Args:
        docs: a list of strings, the documents, e.g. ["emma", "ava", "bob"].

    Returns:
        A list of one-character strings: each character that occurs in any
        document, exactly once, in increasing order (the order of Python's
        sorted). Character chars[i] gets token id i. An empty docs gives [].
        docs is left unchanged, and nothing is kept from one call to the next.

    Example:
        >>> build_vocab(["emma", "ava", "bob"])
        ['a', 'b', 'e', 'm', 'o', 'v']
    """
    ### BEGIN SOLUTION
    return sorted(set("".join(docs)))
    ### END SOLUTION


# %% tests=build_vocab points=1
from course_tools import expect_equal, unchanged

three_names = ["emma", "ava", "bob"]
with unchanged("docs", three_names):
    vocab = build_vocab(three_names)
expect_equal('build_vocab(["emma", "ava", "bob"])', vocab, ["a", "b", "e", "m", "o", "v"])
expect_equal('build_vocab(["cab", "bac"]), a new call: keep no state between calls',
             build_vocab(["cab", "bac"]), ["a", "b", "c"])
expect_equal('build_vocab(["Zoe", "al ex"]): every character, capitals and spaces too',
             build_vocab(["Zoe", "al ex"]), [" ", "Z", "a", "e", "l", "o", "x"])
expect_equal("build_vocab([])", build_vocab([]), [])
expect_equal('the type of build_vocab(["ab"])', type(build_vocab(["ab"])).__name__, "list")
expect_equal("the vocabulary of the 32,033 names", build_vocab(docs),
             list("abcdefghijklmnopqrstuvwxyz"))

### BEGIN HIDDEN TESTS
from autograder.checks import check_build_vocab
check_build_vocab(build_vocab)
### END HIDDEN TESTS

# %% [markdown]
# The names use exactly the 26 lowercase letters<!-- claim: chars == list("abcdefghijklmnopqrstuvwxyz") -->, nothing else: no capitals, spaces or accents. So the ids are
# easy to read: `a` is 0, `b` is 1, ..., `z` is 25.
#
# Not all letters are equally common. The chart counts every character of every name. A model that knew only
# these frequencies, and nothing about context, would already guess better than picking letters uniformly at
# random. The cell measures how much better with the **loss** that training will push down in chapter 7: the
# average of $-\ln p$, where $p$ is the probability a guess gives to the token that really comes next (it counts
# the end of each name as one more token, for a reason you will meet in the next section). Whatever the trained
# model achieves below the frequency-only number, it owes to reading the characters *before* the one it predicts.

# %% claims={"34,000": "counts[\"a\"] ± 500", "then e, n and i": "[c for c, n in counts.most_common(4)] == list(\"aeni\")", "q, x, f and w are the rarest": "sorted(c for c, n in counts.most_common()[-4:]) == sorted(\"qxfw\")"}
import math
from collections import Counter

chars = build_vocab(docs)
counts = Counter("".join(docs))
print("most common:", counts.most_common(5))
print("least common:", counts.most_common()[-3:])

fig, ax = plt.subplots(figsize=(9, 3.5), layout="constrained")
ax.bar(chars, [counts[c] for c in chars], color="tab:blue")
ax.set_xlabel("character")
ax.set_ylabel("occurrences in all names")
ax.set_title("How often each character occurs")
show("A bar chart of how often each letter occurs in all names: a is the most common (about "
     "34,000), then e, n and i; q, x, f and w are the rarest.")

# the average loss of a model that only knows these frequencies
# (the end of a name counts as one more token)
token_counts = [counts[c] for c in chars] + [len(docs)]
total = sum(token_counts)
frequency_loss = -sum(n / total * math.log(n / total) for n in token_counts)
print(f"uniform guessing over 27 tokens: loss ln 27 = {math.log(27):.3f} per token")
print(f"guessing from frequencies only: loss {frequency_loss:.3f} per token")

# %% [markdown]
# ## 3 · One special token, BOS, for the start and the end
#
# The model predicts each token from the tokens before it. Two places need something extra:
#
# 1. **The start.** To predict the *first* letter of a name, what does the model look at? There is nothing before
#    it. It needs an input that means "a new name begins here".
# 2. **The end.** When the model *generates* a name, it writes one letter at a time. Who decides that the name is
#    finished? The model itself should: it must be able to predict "the name ends here" as if it were one more
#    character.
#
# One extra token solves both. We call it **BOS**, *beginning of sequence*, and put it at both ends of every name:
#
# $$\text{emma} \;\longrightarrow\; [\,\text{BOS},\ \text{e},\ \text{m},\ \text{m},\ \text{a},\ \text{BOS}\,].$$
#
# A single token can do both jobs because they never get in each other's way: the model only ever *reads* BOS at
# the start, and only ever *predicts* it after the last letter. Generation works the same way: start from BOS,
# sample one letter after another, and stop as soon as the model predicts BOS. (GPT-2 does much the same: one
# special token, `<|endoftext|>`, separates its documents.)
#
# BOS is not a character, so it gets the first id that no character uses: `len(chars)`, which is 26<!-- claim: bos_id(chars) --> for our
# names. The vocabulary size, the number of different token ids, is therefore `len(chars) + 1 = 27`<!-- claim: vocab_size(chars) -->. Two small
# helpers from the reference say this in code:

# %% given=microgpt.tokenizer:bos_id,vocab_size

# %%
print("BOS id:", bos_id(chars))
print("vocabulary size:", vocab_size(chars))


# %% [markdown]
# ### Encoding
#
# For a document $d = c_1 c_2 \dots c_n$ and $B = $ `bos_id(chars)`,
#
# $$\operatorname{encode}(d) = [\, B,\ \operatorname{id}(c_1),\ \operatorname{id}(c_2),\ \dots,\ \operatorname{id}(c_n),\ B \,],$$
#
# a list of $n + 2$ token ids. These tokens give the model $n + 1$ prediction problems: from the first token
# alone predict the second, from the first two predict the third, and so on, until from all but the last it
# predicts the closing BOS.
#
# **Worked example.** With the 26 letters as the vocabulary, e = 4, m = 12, a = 0 and BOS = 26, so
# `encode("emma", chars)` is `[26, 4, 12, 12, 0, 26]`, and the model learns five<!-- claim: len(encode("emma", chars)) - 1 == 5 --> predictions from it:
#
# | the model has read | it should predict |
# |---|---|
# | BOS | e |
# | BOS e | m |
# | BOS e m | m |
# | BOS e m m | a |
# | BOS e m m a | BOS (the name ends) |
#
# The first row is the same for every name: learning it means learning how names *start*. The last row is
# learning when they *stop*.
#
# ### Exercise 2: `encode` (2 points)
#
# `chars.index(c)` gives the id of character `c` (it searches the list, which is quick for 26 entries; a
# dictionary `{c: i}` would be the faster choice for a big vocabulary). Use `bos_id(chars)` for BOS.

# %% exercise=encode
def encode(doc, chars):
    """Token ids of one document, wrapped in BOS at both ends.

    Args:
        doc: a string, e.g. "emma". Every character of doc must be in chars.
        chars: the vocabulary from build_vocab (a sorted list of characters).

    Returns:
        A list of len(doc) + 2 ints: [BOS, id(doc[0]), ..., id(doc[-1]), BOS],
        where id(c) is the index of c in chars and BOS = bos_id(chars) = len(chars).
        chars is left unchanged, and nothing is kept from one call to the next
        (each call may bring another vocabulary).

    Example (chars = the 26 letters "a" to "z", so BOS = 26):
        >>> encode("emma", chars)
        [26, 4, 12, 12, 0, 26]
        >>> encode("", chars)
        [26, 26]
    """
    ### BEGIN SOLUTION
    bos = bos_id(chars)
    return [bos] + [chars.index(c) for c in doc] + [bos]
    ### END SOLUTION


# %% tests=encode points=2
from course_tools import check_shape, expect_equal, unchanged

letters = list("abcdefghijklmnopqrstuvwxyz")  # the names' vocabulary, written out: BOS = 26
with unchanged("chars", letters):
    emma = encode("emma", letters)
expect_equal('encode("emma", letters)', emma, [26, 4, 12, 12, 0, 26])
expect_equal('encode("zoe", letters)', encode("zoe", letters), [26, 25, 14, 4, 26])
expect_equal('encode("", letters)', encode("", letters), [26, 26])
small = ["a", "b", "e", "m", "o", "v"]  # the worked example's vocabulary: BOS = 6
expect_equal('encode("bob", small), small = ["a", "b", "e", "m", "o", "v"]: BOS is len(chars) = 6, '
             'and no state is kept from the calls with letters',
             encode("bob", small), [6, 1, 4, 1, 6])
fifteen_letters = encode("muhammadibrahim", letters)
check_shape('encode("muhammadibrahim", letters), a name of 15 letters', fifteen_letters, (17,))

### BEGIN HIDDEN TESTS
from autograder.checks import check_encode
check_encode(encode)
### END HIDDEN TESTS

# %% [markdown]
# Here is what a few names from the shuffled list look like to the model, together with the prediction problems
# the first of them creates. Every row pairs a context with the token that follows it.

# %%
for name in shuffled[:4]:
    print(f"{name:>10} -> {encode(name, chars)}")

tokens = encode(shuffled[0], chars)
show = lambda i: "BOS" if i == bos_id(chars) else chars[i]
print(f"\nthe {len(tokens) - 1} predictions in {shuffled[0]!r}:")
for t in range(len(tokens) - 1):
    context = " ".join(show(i) for i in tokens[: t + 1])
    print(f"  after {context:<22} predict {show(tokens[t + 1])}")


# %% [markdown]
# ## 4 · Decoding: from token ids back to text
#
# When the model generates, it produces token ids; to read them we need the way back. `decode` maps every id to
# its character and joins them, leaving BOS out because it is not a character:
#
# $$\operatorname{decode}([t_1, \dots, t_k]) = \text{the characters } \texttt{chars}[t_j] \text{ for every } t_j \ne B,
# \text{ joined in order}.$$
#
# Decoding undoes encoding: $\operatorname{decode}(\operatorname{encode}(d)) = d$ for every document. The other
# direction does not hold in general: `encode(decode([7, 26, 8]))` is `[26, 7, 8, 26]`<!-- claim: encode(decode([7, 26, 8], chars), chars) == [26, 7, 8, 26] -->, because decoding forgets
# where the BOS tokens were.
#
# **Worked example.** `decode([26, 4, 12, 12, 0, 26], chars)`: drop the two 26s, then 4, 12, 12, 0 spell
# e, m, m, a, so the result is `"emma"`.
#
# ### Exercise 3: `decode` (1 point)

# %% exercise=decode
def decode(ids, chars):
    """The string spelled by a list of token ids; BOS tokens are left out.

    Args:
        ids: a list of ints, each in range(len(chars) + 1). BOS = bos_id(chars)
            may appear anywhere, any number of times (or not at all).
        chars: the vocabulary from build_vocab.

    Returns:
        A string: chars[i] for every id i that is not BOS, joined in order.
        An empty list, or only BOS tokens, gives "". ids and chars are left
        unchanged, and nothing is kept from one call to the next.

    Example (chars = the 26 letters "a" to "z", so BOS = 26):
        >>> decode([26, 4, 12, 12, 0, 26], chars)
        'emma'
        >>> decode([7, 26, 8], chars)
        'hi'
    """
    ### BEGIN SOLUTION
    bos = bos_id(chars)
    return "".join(chars[i] for i in ids if i != bos)
    ### END SOLUTION


# %% tests=decode points=1
from course_tools import expect_equal, explain_errors, unchanged


def decoded(ids, chars):
    """decode(ids, chars); an IndexError (an id with no character) is told as its likely cause."""
    bos = (f"no character has id {len(chars)}, BOS: leave out every BOS token, id len(chars), "
           f"wherever it is")
    with explain_errors(f"decode({ids}, chars)", IndexError=bos):
        return decode(ids, chars)


letters = list("abcdefghijklmnopqrstuvwxyz")  # BOS = 26
emma_ids = [26, 4, 12, 12, 0, 26]
with unchanged("ids", emma_ids), unchanged("chars", letters):
    emma = decoded(emma_ids, letters)
expect_equal("decode([26, 4, 12, 12, 0, 26], letters)", emma, "emma")
expect_equal("decode([7, 26, 8], letters)", decoded([7, 26, 8], letters), "hi")
expect_equal("decode([4, 12, 12, 0], letters)", decoded([4, 12, 12, 0], letters), "emma")
expect_equal("decode([26, 26], letters)", decoded([26, 26], letters), "")
expect_equal("decode([], letters)", decoded([], letters), "")
expect_equal('decode([0, 1, 0], [" ", "a"]): spaces are characters too',
             decoded([0, 1, 0], [" ", "a"]), " a ")
small = ["a", "b", "e", "m", "o", "v"]  # BOS = 6
expect_equal('decode([6, 1, 4, 1, 6], small), small = ["a", "b", "e", "m", "o", "v"]: BOS is '
             'len(chars) = 6, and no state is kept from the calls with letters',
             decoded([6, 1, 4, 1, 6], small), "bob")
# every name, encoded here without your encode: [BOS] + ids + [BOS]
encoded = [[26] + [letters.index(c) for c in name] + [26] for name in docs]
expect_equal("every name, encoded and decoded", [decoded(ids, letters) for ids in encoded], docs)

### BEGIN HIDDEN TESTS
from autograder.checks import check_decode
check_decode(decode)
### END HIDDEN TESTS

# %% [markdown]
# ## Recap
#
# - The data is **32,033<!-- claim: len(docs) --> names**, one **document** per line. Training shuffles them once with the seeded
#   generator `random.Random(42)`, so every run sees them in the same order.
# - The **vocabulary** is the sorted list of distinct characters: the 26<!-- claim: len(chars) --> letters, with ids 0 to 25. Sorting keeps
#   the ids fixed whatever the order of the data.
# - **BOS** (id 26<!-- claim: bos_id(chars) -->) marks both the start of a name, giving the model something to predict the first letter from,
#   and its end, so the model can say when a name is finished. That makes 27<!-- claim: vocab_size(chars) --> token ids.
# - `encode` turns a name of $n$ letters into $n + 2$ token ids and so into $n + 1$ prediction problems; `decode`
#   turns ids back into text and drops BOS. The longest names (15<!-- claim: longest --> letters) give exactly 16<!-- claim: longest + 1 --> predictions: every
#   name fits the context window of `block_size = 16`.
#
# ## What comes next
#
# A token id is still just an integer, and the size of an integer means nothing: `z` (25) is not "more" than `a`
# (0). In chapter 4 every id will pick its own row of learned numbers, an *embedding*, and the model computes with
# those vectors. Chapter 3 first builds the three operations the model computes with: **linear layers** that mix
# a vector's entries, **softmax** that turns 27 scores, one per token id, into the probabilities of the next
# token, and **RMSNorm** that keeps vectors at a steady size.
