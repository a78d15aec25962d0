"""Effect sizes with their 95 % intervals, and the verdict words REPORT.md gives a claim from its parts.

An :class:`Effect` is one part of a seed claim as a number: a point estimate, its interval, its unit, the
sign the claim predicts (``expect``) and whether the verdict counts it (a control, a suspect white-box
number or a second protocol is shown beside the counted parts, not counted). Every claim of
analysis.seed_claims exposes its effects (``Claim.effects``); the verdict and the forest plot
(analysis.forest_figure) read the same ones.

The intervals, each chosen so that it excludes 0 exactly when analysis.verdicts' test of the same
numbers finds a difference:

- :func:`welch_interval`: difference of two means over seeds (Welch, 95 %; excludes 0 iff
  Welch's t-test at 5 % rejects);
- :func:`proportion_interval`: two proportions on n test images, +- two standard errors
  (analysis.verdicts.compare_two's rule);
- :func:`slope_interval`: least-squares slope over per-seed values, 95 % t-interval (reported, not
  judged);
- :func:`wilson_interval`: one proportion on n test images, its 95 % Wilson score interval (an
  accuracy's error bar: analysis.size_series).

:func:`status` names a part: "reproduced" (the interval excludes 0 on the predicted side), "reversed"
(on the other), "no effect" (it includes 0 and excludes every effect larger than the part's ``margin``),
"inconclusive" (includes 0 and effects beyond the margin; "within noise" where a part has no margin).
A part whose claim predicts no effect (``expect`` 0: "T does not matter") is "reproduced" when its whole
interval lies within +- its margin (an equivalence test: a difference that is significant but smaller
than the margin is no effect either), "effect found" when the interval excludes 0 and reaches beyond the
margin, "inconclusive" otherwise.
:func:`verdict_of` turns named parts into the claim's verdict and, for "partly", names them; :func:`from_effects`
makes the claim of a list of effects.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from scipy import stats

# Below this many percentage points an ASR difference counts as no effect, when its whole 95 % interval
# lies within +- it: about the seeds' spread of a converged sweep point (BACKGROUND.md, section 1:
# 1.3-2.9 points sd over 3 seeds at 60,000 training images), so smaller effects are not claimed either way.
NO_EFFECT_POINTS = 5.0
# The same for a difference in relative change (a gain, or a layer's change over the input's: analysis.damping),
# in units of the input's change: a tenth of the gains measured at eps 0.1 (0.6-0.7), below the 0.09 by which
# one model's gain moved between its first two converged seeds.
NO_EFFECT_RATIO = 0.05


class Claim(NamedTuple):
    """One row of REPORT.md's "Seed claims": what the seed says, the verdict (reproduced / partly / not
    reproduced / no effect), the numbers behind it; its ``effects`` (those of the verdict's parts and those
    shown beside them, for the forest plot), which parts hold and which not when it is "partly"
    (``parts``), and what the reader must not miss (``flags``: a disagreement of FGSM and the worst case,
    gradient obfuscation)."""
    statement: str
    verdict: str
    numbers: str
    effects: tuple = ()
    parts: str = ""
    flags: tuple = ()


class Effect(NamedTuple):
    """One part of a claim as a number: ``estimate`` and its interval [``low``, ``high``] in ``unit``
    (percentage points for proportions); ``expect`` the sign the claim predicts (0: no effect, judged against
    the margin); ``counted`` whether the verdict counts it; ``margin``: below it an effect counts as none
    (None: no such test); ``how``: the interval's method, ``note``: why it is shown, not counted."""
    name: str
    estimate: float
    low: float
    high: float
    unit: str
    expect: int = 1
    counted: bool = True
    margin: float | None = None
    how: str = ""
    note: str = ""
    unless_reversed: bool = False   # the claim is that something does not happen (gain, fall short): it holds
    #                                 unless the interval lies wholly on the wrong side




def welch_interval(a: list[float], b: list[float]) -> tuple[float, float, float]:
    """mean(a) - mean(b) and its 95 % Welch interval (Welch-Satterthwaite degrees of freedom); with no
    spread at all the interval is the difference itself (analysis.verdicts.welch's rule)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = float(a.mean() - b.mean())
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    se = math.sqrt(va + vb)
    if se == 0:
        return d, d, d
    df = se ** 4 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
    half = float(stats.t.ppf(0.975, df) * se)
    return d, d - half, d + half


def proportion_interval(a: float, b: float, n: float, m: float | None = None) -> tuple[float, float, float]:
    """a - b for proportions on n and m (default n) images, +- two standard errors of the difference."""
    m = n if m is None else m
    se = math.sqrt(max(a * (1 - a), 1e-6) / n + max(b * (1 - b), 1e-6) / m)
    return a - b, a - b - 2 * se, a - b + 2 * se


def wilson_interval(p: float, n: float, z: float = 1.959964) -> tuple[float, float]:
    """The 95 % Wilson score interval of a proportion ``p`` measured on ``n`` images (binomial); it stays in
    [0, 1] and is not empty at p = 0 or 1, unlike p +- two standard errors. nan with no images."""
    if not n or p is None or math.isnan(p):
        return math.nan, math.nan
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def slope_interval(x: list[float], y: list[float]) -> tuple[float, float, float]:
    """Least-squares slope of y on x and its 95 % t-interval; the interval is nan with fewer than three
    values or all x alike, the slope too in the latter case."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    sxx = float(((x - x.mean()) ** 2).sum())
    if len(x) < 2 or sxx == 0:
        return math.nan, math.nan, math.nan
    slope = float(((x - x.mean()) * (y - y.mean())).sum() / sxx)
    if len(x) < 3:
        return slope, math.nan, math.nan
    resid = y - y.mean() - slope * (x - x.mean())
    half = float(stats.t.ppf(0.975, len(x) - 2) * math.sqrt((resid ** 2).sum() / (len(x) - 2) / sxx))
    return slope, slope - half, slope + half


def scaled(interval: tuple[float, float, float], k: float) -> tuple[float, float, float]:
    return tuple(k * v for v in interval)


def sign_of(e: Effect) -> int:
    """+1 if the interval excludes 0 on the side the claim predicts, -1 on the other, 0 if it includes 0."""
    side = 1 if e.low > 0 else -1 if e.high < 0 else 0
    return side * e.expect


def status(e: Effect) -> str:
    if e.expect == 0:   # the claim is that there is no effect: within the margin it holds
        if e.margin is not None and -e.margin <= e.low and e.high <= e.margin:
            return "reproduced"
        if e.low > 0 or e.high < 0:
            return "effect found"
        return "inconclusive" if e.margin is not None else "within noise"
    s = sign_of(e)
    if e.unless_reversed:
        return "reversed" if s < 0 else "reproduced"
    if s:
        return "reproduced" if s > 0 else "reversed"
    if e.margin is None:
        return "within noise"
    return "no effect" if -e.margin <= e.low and e.high <= e.margin else "inconclusive"


STATUS_OF_SIGN = {1: "reproduced", -1: "reversed", 0: "within noise"}


def verdict_of(parts: list[tuple[str, str]]) -> tuple[str, str]:
    """(verdict, the parts named) of a claim from its counted parts, (name, status) each: "reproduced" when
    every part is; "no effect" when every part is; "inconclusive" when every part's interval holds 0 and
    effects beyond its margin too; "partly" when some parts are reproduced and others not,
    then naming which; "not reproduced" else. The naming is empty unless the verdict is "partly"."""
    statuses = [s for _, s in parts]
    if statuses and all(s == "reproduced" for s in statuses):
        return "reproduced", ""
    if statuses and all(s == "no effect" for s in statuses):
        return "no effect", ""
    if statuses and all(s == "inconclusive" for s in statuses):   # intervals too wide to tell either way
        return "inconclusive", ""
    if "reproduced" in statuses:
        return "partly", name_parts(parts)
    return "not reproduced", ""


def from_effects(statement: str, effects: list[Effect], numbers: str) -> Claim:
    """A claim whose verdict is that of its effects' statuses, its parts named when "partly"."""
    word, named = verdict_of([(e.name, status(e)) for e in effects if e.counted])
    return Claim(statement, word, numbers, tuple(effects), named)


def name_parts(parts: list[tuple[str, str]]) -> str:
    """Which parts of a "partly" claim are reproduced and which not (with their status)."""
    held = [n for n, s in parts if s == "reproduced"]
    rest = [f"{n} ({s})" for n, s in parts if s != "reproduced"]
    return f"reproduced for {', '.join(held)}; not for {', '.join(rest)}"


def finite(effects) -> list[Effect]:
    """The effects with a number (a missing measurement gives none)."""
    return [e for e in effects if not math.isnan(e.estimate)]


def interval_text(e: Effect, fmt: str = "+.1f") -> str:
    """"-11.3 [-25.0, +2.4]" in the effect's unit."""
    lo, hi = ("-" if math.isnan(v) else format(v, fmt) for v in (e.low, e.high))
    return f"{format(e.estimate, fmt)} [{lo}, {hi}]"
