"""ART's Square attack on a random (Poisson) model, decided on the mean of k draws.

    predict = mean_draw_scores(one_draw_scores, k=4)     # numpy images in [0, 1] -> class scores
    res = square_art(predict, x, y, eps=0.1, queries=200)
    res.accuracy, res.queries_mean

Why: the hand-written :class:`analysis.attacks.Square` decides "fooled" and
"improved" from ONE Poisson draw of the Brian2 network, so an example that
looked fooled once is dropped though it is right again on the next draw; it
can neither find nor rule out gradient masking of the twin-crafted attacks.
Here ART's SquareAttack (adversarial-robustness-toolbox 1.20.1) runs
through a black-box estimator whose predict is the mean of ``k`` draws, so no
decision rests on one lucky draw; ART re-predicts every example each
iteration, so one that looked fooled but is not is attacked again; and the
returned images are scored once more with ``k`` fresh draws (a separate
call), which gives the reported accuracy, not ART's internal decision.

ART's Square wants a ``NeuralNetworkMixin`` estimator, which its plain
``BlackBoxClassifier`` is not; ``BlackBoxClassifierNeuralNetwork`` is the same
wrapper with it. Each ART iteration predicts all images, then the margin of
the still-robust ones twice (current and candidate); the current one is the
same images as the first call, so it is answered from that call's draws
(:class:`_Queries`): about 2 queries per robust image and iteration, 1 per
fooled one, counted in ``queries_mean``. ART tries one square (place and
sign) on all images of an iteration, not one per image as the paper does.

For Brian2 (analysis.attack) the scores are the readout's, not normalised
(``normalise``): an image often fires only neurons of its own class, and then
its share is 1 whatever the perturbation and the margin has no slope.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from art.attacks.evasion import SquareAttack
from art.estimators.classification import BlackBoxClassifierNeuralNetwork


def mean_draw_scores(score_fn, k: int, tile: bool = True, normalise: bool = False):
    """``x -> mean of score_fn over k draws``; ``score_fn`` makes one random draw per row per call.

    ``tile``: one call on the images tiled k times (one Brian2 run) instead of k calls; the rows of a
    call must be drawn independently, as the Brian2 network's are (its input spikes depend on the
    row index). ``normalise``: divide each row of the mean by its sum (non-negative scores, e.g.
    spike counts), a class-probability-like score; an all-zero row becomes uniform.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")

    def predict(x):
        x = np.asarray(x)
        if tile:
            s = np.asarray(score_fn(np.concatenate([x] * k)), dtype=np.float64).reshape(k, len(x), -1).mean(0)
        else:
            s = sum(np.asarray(score_fn(x), dtype=np.float64) for _ in range(k)) / k
        return shares(s) if normalise else s

    return predict


def shares(scores) -> np.ndarray:
    """Non-negative scores (e.g. class mean spike counts) divided by their row sums; all-zero rows uniform."""
    s = np.asarray(scores, dtype=np.float64)
    total = s.sum(axis=1, keepdims=True)
    return np.where(total > 0, s / np.where(total > 0, total, 1), 1.0 / s.shape[1])


class _Queries:
    """ART's predict_fn: counts the rows queried; a call whose rows all came in the previous call is
    answered from that call's draws (no query)."""

    def __init__(self, predict):
        self.predict, self.rows, self.calls, self._last = predict, 0, 0, {}

    def __call__(self, x):
        flat = x.reshape(len(x), -1)
        keys = [r.tobytes() for r in flat]
        if self._last and all(key in self._last for key in keys):
            return np.stack([self._last[key] for key in keys])
        scores = np.asarray(self.predict(flat.astype(np.float64)))
        self.calls, self.rows = self.calls + 1, self.rows + len(flat)
        self._last = dict(zip(keys, scores))
        return scores


@dataclasses.dataclass
class QueryResult:
    x_adv: np.ndarray         # (n, *shape) in [0, 1], within eps of x
    scores: np.ndarray        # (n, n_classes): the re-check's scores, fresh draws
    accuracy: float           # adversarial accuracy of the re-check
    queries_mean: float       # predict rows per image during the attack (each a mean of k draws)


def square_art(predict, x, y, eps: float, queries: int = 200, p_init: float = 0.8, n_classes: int = 10,
               image_shape=(28, 28), recheck=None, seed: int = 0, progress: bool = False) -> QueryResult:
    """ART's L-infinity Square for ``queries`` iterations (1 restart) on ``predict`` (flat images in
    [0, 1] -> (n, n_classes) scores, e.g. :func:`mean_draw_scores`); ``x`` (n, ...) in [0, 1], ``y``
    labels. ``recheck`` (default ``predict``) scores the result once more in its own call.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.min() < 0 or x.max() > 1:
        raise ValueError("attacks take images scaled to [0, 1]")
    y = np.asarray(y)
    n = len(x)
    recheck = recheck or predict
    if eps == 0:
        x_adv, q = x.copy(), None
    else:
        q = _Queries(predict)
        est = BlackBoxClassifierNeuralNetwork(q, input_shape=(1, *image_shape), nb_classes=n_classes,
                                              channels_first=True, clip_values=(0.0, 1.0))
        atk = SquareAttack(est, norm=np.inf, eps=float(eps), max_iter=int(queries), p_init=p_init, nb_restarts=1,
                           batch_size=n, verbose=progress)   # batch_size n: one predict call per ART predict
        state = np.random.get_state()   # ART draws from numpy's global generator
        np.random.seed(seed)
        try:
            x_adv = atk.generate(x.reshape(n, 1, *image_shape), y=y).reshape(x.shape).astype(np.float64)
        finally:
            np.random.set_state(state)
        # ART works in float32: put the result back inside the ball around the float64 x
        x_adv = np.clip(np.clip(x_adv, x - eps, x + eps), 0.0, 1.0)
    scores = np.asarray(recheck(x_adv.reshape(n, -1)))
    return QueryResult(x_adv=x_adv, scores=scores, accuracy=float((scores.argmax(1) == y).mean()),
                       queries_mean=q.rows / n if q else 0.0)
