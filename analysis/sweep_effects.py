"""Effect sizes of a sweep series: the difference between its two ends and its slope, per measure.

A series (SNN leak, Brian2 tau_exc, SNN T, Brian2 presentation time, quantization levels) runs from the
end the claim calls less robust to the other, or the reverse (``lo_first``); :func:`series_effects` gives,
for each measure its points carry, the ends' difference of the ASR (last - first; Welch over seeds, or two
standard errors on one seed) and the least-squares slope over the per-seed values against the series'
regressor (:data:`SERIES`: 1 - leak, -log2 tau_exc, log2 T, log2 presentation ms, log2 levels, each
increasing from first to last), both with 95 % intervals (analysis.effects).

Which measure decides the white-box part: the surrogate ensemble's worst case per example when both ends
carry it (``eval["ensemble"]``, issue 28: an effect must survive several backward functions), else the own
worst case over the attack suite (``eval["worst_case"]``), else, for a converted SNN (deltas "fgsm" through
its own surrogate and "bpda" through the CNN it came from), the stronger of its FGSM and BPDA ASR per seed,
else FGSM (the saved results before the suite).
The others are shown beside it, not counted, and :func:`series_effects` says where FGSM and the deciding
worst case disagree and where an effect of the own surrogate vanishes under the ensemble (gradient
obfuscation). The transfer ASR is the black-box part, counted too unless the claim judges white-box only.
Points crafted at the reference setting (``craft_at``) give a further part, shown only. A series may be of a
category (the input encoding): then it has no slope. A claim that predicts no effect of the series (``expect``
0, analysis.effects.status) is judged by the ends' difference against the no-effect margin.
"""
from __future__ import annotations

import math
from typing import Callable, NamedTuple

from analysis.effects import NO_EFFECT_POINTS, Effect, interval_text, proportion_interval, scaled, \
    slope_interval, status, welch_interval
from analysis.saved_results import PROTOCOLS, adv, number_at, pct, reference_series, seed_points, seed_values
from analysis.verdicts import suspect


def stronger(ev: dict) -> float:
    """The higher of FGSM's ASR through the own surrogate and through the source CNN (BPDA; a converted SNN's),
    nan unless the point has both."""
    a, b = adv(ev, "fgsm", "attack_success_rate"), adv(ev, "bpda", "attack_success_rate")
    return math.nan if math.isnan(a) or math.isnan(b) else max(a, b)


# measure -> (label, eval -> ASR); the labels are those REPORT.md's texts use
MEASURES = {"fgsm": ("fgsm ASR", lambda ev: adv(ev, "fgsm", "attack_success_rate")),
            "transfer": ("transfer ASR", lambda ev: adv(ev, "transfer", "attack_success_rate")),
            "worst": ("worst-case ASR", number_at("worst_case", "attack_success_rate")),
            "ensemble": ("ensemble worst-case ASR", number_at("ensemble", "worst_case", "attack_success_rate")),
            "bpda": ("bpda ASR", lambda ev: adv(ev, "bpda", "attack_success_rate")),
            "fgsm|bpda": ("stronger of fgsm and bpda ASR", stronger)}
NOUNS = {"worst": "worst case", "ensemble": "surrogate ensemble's worst case"}


class Series(NamedTuple):
    """A swept variable: its job key, the slope's regressor (increasing from the series' first point to its
    last as the claims list them; None: a category, no slope) and the slope's unit."""
    key: str
    x: Callable[[float], float] | None
    per: str


SERIES = {"leak": Series("leak", lambda v: (1 - v) / 0.1, "per 0.1 more leak (1 - leak)"),
          "tau_exc_ms": Series("tau_exc_ms", lambda v: -math.log2(v), "per halving of tau_exc"),
          "T": Series("T", math.log2, "per doubling of T"),
          "present_ms": Series("present_ms", math.log2, "per doubling of the presentation time"),
          "levels": Series("levels", math.log2, "per doubling of the levels"),
          "encoding": Series("encoding", None, "")}


def show(v) -> str:
    """A setting in a sentence: a number as %g, a category as it is."""
    return format(v, "g") if isinstance(v, (int, float)) else str(v)


class Part(NamedTuple):
    """One measure of a series between its ``ends`` ("SNN leak 1 -> 0.8"): the ends' difference (``effect``),
    the slope, the sentence REPORT.md prints, and the part's name and status for the verdict (None: shown
    beside the counted parts only)."""
    measure: str
    protocol: str
    ends: str
    values: tuple[float, float]   # the measure at the two ends (means over seeds)
    per: str                      # the slope's unit after "points"
    effect: Effect
    slope: Effect
    text: str
    verdict_part: tuple[str, str] | None


class SeriesEffects(NamedTuple):
    label: str
    parts: list[Part]
    flags: list[str]


def has(pts: list[dict], measure: str) -> bool:
    """Whether every seed of each of the points carries ``measure``."""
    get = MEASURES[measure][1]
    return all(not math.isnan(get(q["eval"])) for p in pts for q in seed_points(p))


def deciding(first: dict, last: dict) -> str:
    """The white-box measure that decides: the strongest both ends carry."""
    return next((m for m in ("ensemble", "worst", "fgsm|bpda") if has([first, last], m)), "fgsm")


def end_effect(first: dict, last: dict, measure: str, name: str, lo_first: bool, counted: bool = True,
               note: str = "", expect: int | None = None) -> Effect:
    """Last minus first of ``measure``'s ASR in points: over the seeds (Welch) when both ends have several,
    else two standard errors of two proportions (an ASR counts the clean-correct images). The claim predicts
    a rise (``lo_first``) or a fall, or, ``expect`` 0, no effect."""
    get = MEASURES[measure][1]
    sa, sb = seed_values(first, get), seed_values(last, get)
    if min(len(sa), len(sb)) >= 2:   # training noise is in the seeds' spread: the interval rests on it
        d, how = welch_interval(sb, sa), f"Welch, {len(sa)} and {len(sb)} seeds"
    else:
        a, b = get(first["eval"]), get(last["eval"])
        na, nb = (p["job"]["n_test"] * p["eval"]["clean_accuracy"] for p in (first, last))
        d, how = proportion_interval(b, a, nb, na), "two standard errors"
    expect = (1 if lo_first else -1) if expect is None else expect
    return Effect(name, *scaled(d, 100), "ASR points", expect, counted, NO_EFFECT_POINTS, how, note)


def slope_effect(pts: list[dict], series: Series, measure: str, name: str, lo_first: bool) -> Effect:
    """The least-squares slope of the per-seed ASR (points) on the series' regressor, over the points with
    the measure (nan for a series of categories)."""
    get = MEASURES[measure][1]
    if series.x is None:
        return Effect(name, math.nan, math.nan, math.nan, "ASR points", 1 if lo_first else -1, False, None)
    xy = [(series.x(p["job"][series.key]), 100 * v) for p in pts if has([p], measure)
          for v in seed_values(p, get)]
    fit = slope_interval([x for x, _ in xy], [y for _, y in xy])
    return Effect(name, *fit, f"ASR points {series.per}", 1 if lo_first else -1, False, None, "least squares")


def listing(pts: list[dict], key: str, measure: str) -> str:
    """Every point's ASR, not only the endpoints the verdict compares."""
    get = MEASURES[measure][1]
    return ", ".join(f"{show(p['job'][key])}: {pct(get(p['eval']))}%" for p in pts if has([p], measure))


def part(pts: list[dict], series: Series, label: str, measure: str, lo_first: bool, listed: str, n: int,
         role: str = "counted", crafted_at: float | str | None = None, expect: int | None = None) -> Part:
    """``measure`` of the series ``pts`` (first to last): its effect, slope and sentence. ``role``: "counted"
    (a part of the verdict), or why it is shown only; ``crafted_at``: the reference setting the points'
    attacks were crafted at (the reference protocol), None for the swept protocol; ``expect``: 0 when the
    claim predicts no effect."""
    first, last, key = pts[0], pts[-1], series.key
    mlabel, get = MEASURES[measure]
    where = "" if crafted_at is None else f", crafted at {key} {show(crafted_at)}"
    ends = f"{label} {show(first['job'][key])} -> {show(last['job'][key])}"
    masked = measure in ("fgsm", "fgsm|bpda") and role == "counted" \
        and any(suspect(p["eval"], n, get(p["eval"])) for p in (first, last))
    counted = role == "counted" and not masked
    note = "white-box suspect, not counted" if masked else "" if counted else role
    effect = end_effect(first, last, measure, f"{ends}, {mlabel} difference{where}", lo_first, counted, note, expect)
    slope = slope_effect(pts, series, measure, f"{ends}, {mlabel} slope{where}", lo_first)
    k = [len(seed_points(p)) for p in (first, last)]
    means = f" (means of {k[0]} and {k[1]} seeds)" if min(k) >= 2 else ""
    said = "white-box suspect, not counted" if masked else status(effect) + ("" if counted else f"; {role}")
    sloped = "" if math.isnan(slope.estimate) else f", slope {interval_text(slope)} points {series.per}"
    text = (f"{ends}: {mlabel}{where} {pct(get(first['eval']))}% -> {pct(get(last['eval']))}%{means}, difference "
            f"{interval_text(effect)} points ({effect.how}){sloped} ({listed} {listing(pts, key, measure)}; {said})")
    verdict_part = (f"{ends} {mlabel}{where}", "white-box suspect" if masked else status(effect)) \
        if role == "counted" else None
    return Part(measure, "swept" if crafted_at is None else "reference", ends, (get(first["eval"]), get(last["eval"])),
                series.per, effect, slope, text, verdict_part)


def series_effects(pts: list[dict], key: str, label: str, n: int, lo_first: bool, listed: str = "all:",
                   ref_pts: list[dict] = (), counted: bool = True, expect: int | None = None,
                   transfer: str = "counted") -> SeriesEffects:
    """Every measure's part of one series (``pts`` from first to last, as the claim reads it): the deciding
    white-box measure and the transfer ASR (counted unless ``counted`` is False: a control; ``transfer``: why
    it is shown only, where the claim judges white-box alone), the weaker white-box measures beside the
    deciding one, and the reference protocol's deciding measure; with the flags of FGSM disagreeing with the
    worst case and of an effect the ensemble removes. ``expect`` 0: the claim predicts no effect."""
    series, role = SERIES[key], "counted" if counted else "control, not counted"
    white = deciding(pts[0], pts[-1])
    parts = [part(pts, series, label, white, lo_first, listed, n, role=role, expect=expect)]
    beside = [m for m in ("fgsm", "bpda", "worst") if m != white and has([pts[0], pts[-1]], m)]
    parts += [part(pts, series, label, m, lo_first, listed, n, role=f"beside the {MEASURES[white][0]}", expect=expect)
              for m in beside]
    if has([pts[0], pts[-1]], "transfer"):
        parts.append(part(pts, series, label, "transfer", lo_first, listed, n,
                          role=role if transfer == "counted" else transfer, expect=expect))
    ref, at = reference_series(pts, ref_pts, key)
    if len(ref) >= 2 and ref[0]["job"][key] == pts[0]["job"][key] and ref[-1]["job"][key] == pts[-1]["job"][key]:
        parts.append(part(ref, series, label, deciding(ref[0], ref[-1]), lo_first, listed, n,
                          role=PROTOCOLS["reference"], crafted_at=at, expect=expect))
    return SeriesEffects(label, parts, flags(parts, white))


def flags(parts: list[Part], white: str) -> list[str]:
    """Where FGSM and the deciding worst case come to different verdicts, and where an effect present
    under the own surrogate vanishes under the surrogate ensemble (gradient obfuscation)."""
    swept = {p.measure: p for p in parts if p.protocol == "swept"}
    out, decider = [], swept[white]
    ends = decider.ends
    if white in NOUNS and "fgsm" in swept and status(swept["fgsm"].effect) != status(decider.effect):
        out.append(f"{ends}: FGSM and the {NOUNS[white]} disagree: fgsm ASR difference "
                   f"{interval_text(swept['fgsm'].effect)} points ({status(swept['fgsm'].effect)}), "
                   f"{MEASURES[white][0]} {interval_text(decider.effect)} ({status(decider.effect)}); the verdict "
                   f"follows the {NOUNS[white]}")
    own = swept.get("worst") or swept.get("fgsm")
    if white == "ensemble" and own and decider.effect.expect and status(own.effect) == "reproduced" \
            and status(decider.effect) != "reproduced":
        out.append(f"gradient obfuscation: {ends}: the effect under the own surrogate ({MEASURES[own.measure][0]} "
                   f"difference {interval_text(own.effect)} points, reproduced) vanishes under the surrogate "
                   f"ensemble ({interval_text(decider.effect)}, {status(decider.effect)})")
    return out
