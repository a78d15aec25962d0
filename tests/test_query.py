"""ART's Square on a random model, decided on the mean of k draws (analysis.attacks.query), and its
Brian2 predict in analysis.attack, with fake models: no Brian2 compile."""
import types

import numpy as np
import pytest

from analysis.attacks.query import mean_draw_scores, shares, square_art


@pytest.fixture
def linear():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(784, 10))
    x = rng.random((32, 784))
    return w, x, (x @ w).argmax(1)


def test_the_mean_of_k_draws_varies_less_and_tiling_makes_one_call(linear):
    w, x, _ = linear
    rng = np.random.default_rng(1)
    calls = []

    def noisy(z):   # one draw per row: the linear scores plus fresh Gaussian noise
        calls.append(len(z))
        return z @ w + 10 * rng.normal(size=(len(z), 10))

    spread = {k: np.stack([mean_draw_scores(noisy, k)(x[:4]) for _ in range(40)]).std(0).mean() for k in (1, 16)}
    assert spread[16] < 0.4 * spread[1]          # ~ 1/sqrt(16) = 0.25
    calls.clear()
    mean_draw_scores(noisy, 5)(x[:3])
    assert calls == [15]                          # tiled: one call on 5 x 3 rows
    calls.clear()
    mean_draw_scores(noisy, 5, tile=False)(x[:3])
    assert calls == [3] * 5
    with pytest.raises(ValueError):
        mean_draw_scores(noisy, 0)


def test_shares_sum_to_one_and_a_silent_row_is_uniform():
    s = shares([[1.0, 3.0, 0.0], [0.0, 0.0, 0.0]])
    assert np.allclose(s, [[0.25, 0.75, 0.0], [1 / 3] * 3])
    mean = mean_draw_scores(lambda z: np.abs(z[:, :3]), 2, normalise=True)(np.random.default_rng(0).random((4, 5)))
    assert np.allclose(mean.sum(1), 1)


def test_square_art_fools_a_linear_model_inside_the_ball(linear):
    w, x, y = linear
    calls = []

    def model(z):
        calls.append(len(z))
        return z @ w

    res = square_art(model, x, y, eps=0.3, queries=20, seed=0)
    assert res.x_adv.shape == x.shape
    assert np.abs(res.x_adv - x).max() <= 0.3 + 1e-9 and res.x_adv.min() >= 0 and res.x_adv.max() <= 1
    assert res.accuracy < 0.2
    assert res.accuracy == ((res.x_adv @ w).argmax(1) == y).mean()
    # rows queried per image: 2 to start (clean, stripes), then at most 2 per iteration
    assert 0 < res.queries_mean <= 2 + 2 * 20
    assert sum(calls[:-1]) == res.queries_mean * len(x)   # the re-check is not counted
    # a smaller eps and more iterations: it keeps lowering accuracy, and the seed makes it repeatable
    few, many = (square_art(model, x, y, eps=0.05, queries=q, seed=0).accuracy for q in (2, 100))
    assert many < few
    assert square_art(model, x, y, eps=0.05, queries=30, seed=3).accuracy == \
        square_art(model, x, y, eps=0.05, queries=30, seed=3).accuracy
    assert np.array_equal(square_art(model, x, y, eps=0.0).x_adv, x)


def test_the_re_check_is_a_separate_call_on_fresh_draws(linear):
    w, x, y = linear
    rng = np.random.default_rng(2)
    calls = []

    def one_draw(z):
        calls.append(len(z))
        return z @ w + 5 * rng.normal(size=(len(z), 10))

    k = 3
    predict = mean_draw_scores(one_draw, k)
    seen = []
    recheck = lambda z: seen.append(len(calls)) or predict(z)  # noqa: E731
    res = square_art(predict, x, y, eps=0.1, queries=10, recheck=recheck, seed=0)
    # ART's calls came first; then one more call, of all images k times, whose scores are the result's
    assert seen == [len(calls) - 1] and calls[-1] == k * len(x)
    assert res.accuracy == (res.scores.argmax(1) == y).mean()
    again = predict(res.x_adv)                   # another call: other draws, other scores
    assert not np.allclose(again, res.scores)


def test_brian2_predict_runs_one_padded_tiled_brian2_call_per_query(linear):
    # analysis.attack's square-art on a fake victim: counts are the images' first 20 pixels plus noise
    from analysis.attack import padded_counts, square_art_on_victim

    _, x, _ = linear
    rng = np.random.default_rng(3)
    runs = []

    def counts(z, chunk_size=500):
        runs.append((len(z), chunk_size))
        return 10 * z[:, :20] + rng.poisson(1.0, size=(len(z), 20))

    victim = types.SimpleNamespace(counts=counts, assignments=np.arange(20) % 10, softmax=None)
    x, k = x[:6], 2
    y = (10 * x[:, :20]).reshape(6, 2, 10).mean(1).argmax(1)
    args = types.SimpleNamespace(query_draws=k, queries=5, readout="assignment", seed=0, no_progress=True)
    x_adv, mean_counts, extra = square_art_on_victim(victim, x, y, 0.2, args)
    assert {r for r in runs} == {(len(x) * k, len(x) * k)}    # every query: one run of one compiled size
    assert x_adv.shape == x.shape and mean_counts.shape == (6, 20)
    assert extra["query_draws"] == k and 0 < extra["queries_mean"] <= 2 + 2 * 5
    runs.clear()
    padded_counts(victim, x[:2], pad_to=5)
    assert runs == [(5, 5)]
    with pytest.raises(ValueError):
        padded_counts(victim, x, pad_to=5)
