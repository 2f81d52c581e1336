"""Reading a trained model: attention maps, held-out loss, nearest neighbours and the 2-D projection
of the embeddings, on small seeded models and on the shipped checkpoint."""

import math
import random

import microgpt
import pytest
from microgpt import (
    GPTConfig,
    Value,
    attention_maps,
    checkpoint,
    cosine_similarity,
    document_loss,
    encode,
    mean_loss,
    nearest_neighbours,
    pca_2d,
    principal_components,
)

from conftest import PROJECT

SHIPPED = checkpoint.load(PROJECT / "data" / "microgpt-names-1000.json")


def small_model(**kwargs):
    config = GPTConfig(vocab_size=6, n_embd=8, n_head=2, block_size=4, **kwargs)
    return config, microgpt.init_params(config, random.Random(3), std=0.5), list("abcde")


@pytest.mark.parametrize("kwargs", [{}, {"n_layer": 2, "norm": "layernorm", "activation": "gelu"}])
def test_attention_maps_have_one_row_per_position_of_length_t_plus_1(kwargs):
    config, state_dict, chars = small_model(**kwargs)
    for doc, n in [("", 1), ("ab", 3), ("abcde", 4)]:  # at most block_size positions
        maps = attention_maps(doc, state_dict, config, chars)
        assert len(maps) == config.n_layer and all(len(layer) == config.n_head for layer in maps)
        for head in (head for layer in maps for head in layer):
            assert [len(row) for row in head] == list(range(1, n + 1))
            assert all(
                math.isclose(sum(row), 1, rel_tol=1e-12) and all(type(w) is float for w in row)
                for row in head
            )


def test_attention_maps_are_the_weights_gpt_computes():
    # the last layer's weights, recomputed by hand from the keys gpt leaves in the cache and the
    # query
    config, state_dict, chars = small_model()
    tokens = encode("abca", chars)
    keys, values = microgpt.empty_kv_cache(config)
    expected = [[], []]
    for t in range(config.block_size):
        x = microgpt.rmsnorm(
            [e + p for e, p in zip(state_dict["wte"][tokens[t]], state_dict["wpe"][t])]
        )
        q = microgpt.linear(microgpt.rmsnorm(x), state_dict["layer0.attn_wq"])
        microgpt.gpt(tokens[t], t, keys, values, state_dict, config)
        for h in range(2):
            s = slice(4 * h, 4 * h + 4)
            expected[h].append(
                [w.data for w in microgpt.attention_weights(q[s], [k[s] for k in keys[0]])]
            )
    assert attention_maps("abca", state_dict, config, chars) == [expected]


def test_attention_maps_leave_the_model_unchanged():
    config, state_dict, chars = small_model()
    before = [(p.data, p.grad) for p in microgpt.parameters(state_dict)]
    attention_maps("abc", state_dict, config, chars)
    assert [(p.data, p.grad) for p in microgpt.parameters(state_dict)] == before


def test_mean_loss_weighs_every_document_alike():
    config, state_dict, chars = small_model()
    docs = ["a", "abcde", "cab"]
    losses = [document_loss(encode(doc, chars), state_dict, config).data for doc in docs]
    assert mean_loss(docs, state_dict, config, chars) == sum(losses) / 3


def test_held_out_names_cost_the_trained_model_less_than_chance():
    held_out = ["kevin", "laura", "marcus", "nina"]
    assert (
        mean_loss(held_out, SHIPPED.state_dict, SHIPPED.config, SHIPPED.chars) < math.log(27) - 0.5
    )


def test_cosine_similarity_is_the_angle_not_the_length():
    assert cosine_similarity([1.0, 0.0], [3.0, 0.0]) == 1.0
    assert cosine_similarity([1.0, 0.0], [0.0, 2.0]) == 0.0
    assert cosine_similarity([1.0, 1.0], [-2.0, -2.0]) == pytest.approx(-1.0)


def test_nearest_neighbours_sort_by_similarity_then_id_and_leave_out_the_token():
    rows = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.1], [0.0, 1.0], [-1.0, 0.0]]
    embeddings = [[Value(x) for x in row] for row in rows]
    assert [j for j, _ in nearest_neighbours(1, embeddings, k=4)] == [3, 2, 0, 4]
    got = nearest_neighbours(0, embeddings, k=2)
    assert got == [(2, cosine_similarity(rows[0], rows[2])), (1, 0.0)]  # ties: 1 before 3
    assert len(nearest_neighbours(0, embeddings, k=10)) == 4
    assert all(type(j) is int and type(s) is float for j, s in got)


def test_the_trained_model_puts_vowels_next_to_a():
    neighbours = [
        SHIPPED.chars[j] for j, _ in nearest_neighbours(0, SHIPPED.state_dict["wte"], k=3)
    ]
    assert set(neighbours) <= set("eiouy")


def test_principal_components_of_an_ellipse_are_its_axes_with_positive_largest_entry():
    rng = random.Random(0)
    # points spread 3 along (1, 1)/sqrt2 and 1 along (1, -1)/sqrt2, in 3-D with no spread on z
    rows = []
    for _ in range(400):
        a, b = rng.gauss(0, 3), rng.gauss(0, 1)
        rows.append([(a + b) / math.sqrt(2) + 5, (a - b) / math.sqrt(2) - 2, 0.0])
    first, second = principal_components(rows, 2)
    s = 1 / math.sqrt(2)
    assert first == pytest.approx([s, s, 0.0], abs=0.05) and second == pytest.approx(
        [s, -s, 0.0], abs=0.05
    )
    assert (
        math.isclose(sum(x * x for x in first), 1)
        and abs(sum(a * b for a, b in zip(first, second))) < 1e-9
    )
    flipped = principal_components([[-x for x in row] for row in rows], 2)
    assert flipped[0] == pytest.approx(first, abs=1e-9)  # the sign convention decides, not the data
    assert flipped[1] == pytest.approx(second, abs=1e-9)


def test_principal_components_refuse_rows_without_enough_spread():
    with pytest.raises(ValueError, match="fewer than 2 directions"):
        principal_components([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]], 2)


def test_pca_2d_is_deterministic_and_centred():
    points = pca_2d(SHIPPED.state_dict["wte"])
    assert len(points) == 27 and points == pca_2d(SHIPPED.state_dict["wte"])
    assert abs(sum(x for x, _ in points)) < 1e-9 and abs(sum(y for _, y in points)) < 1e-9
    variances = [sum(p[i] ** 2 for p in points) for i in (0, 1)]
    assert variances[0] >= variances[1] > 0
