"""Sharmin et al.'s two sweep claims, judged on the effect sizes of each series (analysis.sweep_effects).

- :func:`leak_claim`: more leak gives more robustness (SNN leak 1 -> 0.8, Brian2 tau_exc long -> short);
- :func:`discretization_claim`: fewer time steps (presentation time) and coarser pre-quantized inputs give
  more robustness (the CNN on quantized images is the control, shown and not counted).

A series' counted parts are its deciding white-box measure (the ensemble's or the suite's worst case when
the points carry it, else FGSM) and its transfer ASR, each by the difference between the series' ends with
its 95 % interval; the verdict (analysis.effects.verdict_of) is "reproduced" when every part is, "no effect"
when every interval excludes effects larger than analysis.effects.NO_EFFECT_POINTS, "partly" (the parts
named) when some are reproduced, else "not reproduced". :func:`leak_series` and :func:`timestep_series`
give the series to REPORT.md's effect tables too, so table and claim print the same numbers.
"""
from __future__ import annotations

from analysis.defaults import REF
from analysis.effects import Claim, verdict_of
from analysis.saved_results import FULL, adv, pct, points_of, quant_points, redraw
from analysis.effects import status
from analysis.sweep_effects import SeriesEffects, series_effects
from analysis.sweep_figures import QUANT_MODELS
from analysis.verdicts import compare_two


def leak_points(leak_sweep: dict, protocol: str = "swept") -> tuple[list[dict], list[dict], list[dict]]:
    """The leak sweep's CNN, SNN (by leak) and Brian2 (by tau_exc) points on unquantized images; ``protocol``
    "reference": those crafted at the reference setting (no CNN)."""
    return (points_of(leak_sweep, "cnn", "levels", {"levels": FULL}, protocol),
            points_of(leak_sweep, "snn", "leak", {"levels": FULL}, protocol),
            points_of(leak_sweep, "bio", "tau_exc_ms", {"levels": FULL}, protocol))


def leak_series(leak_sweep: dict) -> list[tuple[list[dict], SeriesEffects]]:
    """(points from least leak to most, their effects) of the SNN and the Brian2 series with two points or more."""
    n = leak_sweep["settings"]["n_test"]
    (_, snn, bio), (_, snn_ref, bio_ref) = leak_points(leak_sweep), leak_points(leak_sweep, "reference")
    out = []
    for label, key, pts, ref in (("SNN leak", "leak", snn[::-1], snn_ref),   # IF first
                                 ("Brian2 tau_exc", "tau_exc_ms", bio[::-1], bio_ref)):   # longest tau first
        if len(pts) >= 2:
            out.append((pts, series_effects(pts, key, label, n, lo_first=False, ref_pts=ref)))
    return out


def gathered(results: list[SeriesEffects]) -> tuple[list[str], list[tuple[str, str]], list, list[str]]:
    """The sentences, the verdict's (name, status) parts, the effects and the flags of several series."""
    texts, parts, effects, flags = [], [], [], []
    for r in results:
        texts += [p.text for p in r.parts]
        parts += [p.verdict_part for p in r.parts if p.verdict_part]
        effects += [p.effect for p in r.parts if p.effect.estimate == p.effect.estimate]   # not nan
        flags += r.flags
    return texts, parts, effects, flags


def judged(statement: str, texts: list[str], parts: list, effects: list, flags: list) -> Claim | None:
    if not parts:
        return None
    word, named = verdict_of(parts)
    return Claim(statement, word, "; ".join(texts), tuple(effects), named, tuple(flags))


def leak_claim(leak_sweep: dict) -> Claim | None:
    """More leak gives more robustness: from the least leaky point to the most, the ASR falls (white-box and
    transfer, SNN leak and Brian2 tau_exc)."""
    n = leak_sweep["settings"]["n_test"]
    texts, parts, effects, flags = [], [], [], []
    for pts, series in leak_series(leak_sweep):
        t, p, e, f = gathered([series])
        texts += t + [f"clean {pct(pts[0]['eval']['clean_accuracy'])}% -> {pct(pts[-1]['eval']['clean_accuracy'])}%"]
        parts, effects, flags = parts + p, effects + e, flags + f
    bio = leak_points(leak_sweep)[2]
    if len(bio) >= 2:
        clean = [p["eval"]["clean_accuracy"] for p in bio]
        if compare_two(max(clean), min(clean), n):
            texts.append("caveat: the Brian2 networks differ in clean accuracy and dt shrinks with tau (the twin "
                         "integrates more steps), so their white-box ASR mixes leak with network and gradient "
                         "quality; the transfer ASR (the same d for all) is the fairer of the two")
    return judged("More leak gives more robustness", texts, parts, effects, flags)


def timestep_points(timestep_sweep: dict, protocol: str = "swept") -> tuple[list[dict], list[dict]]:
    """The timestep sweep's SNN (by T) and Brian2 (by presentation ms) points on unquantized images."""
    return (points_of(timestep_sweep, "snn", "T", {"levels": FULL, "leak": timestep_sweep["leak"]}, protocol),
            points_of(timestep_sweep, "bio", "present_ms", {"levels": FULL, "tau_exc_ms": REF["tau_exc_ms"]},
                      protocol))


def timestep_series(timestep_sweep: dict) -> list[tuple[str, SeriesEffects]]:
    """(model kind, effects) of the time-step series (fewest steps first) and the quantization series
    (fewest levels first; the CNN's a control, not counted) with two points or more."""
    n = timestep_sweep["settings"]["n_test"]
    (snn, bio), (snn_ref, bio_ref) = timestep_points(timestep_sweep), timestep_points(timestep_sweep, "reference")
    out = [(kind, series_effects(pts, key, label, n, lo_first=True, ref_pts=ref))
           for kind, label, key, pts, ref in (("snn", "SNN T", "T", snn, snn_ref),
                                              ("bio", "Brian2 presentation ms", "present_ms", bio, bio_ref))
           if len(pts) >= 2]
    for kind in ("snn", "bio", "cnn"):
        pts = quant_points(timestep_sweep, kind)
        if len(pts) >= 2:
            label = f"{'control, ' if kind == 'cnn' else ''}{QUANT_MODELS[kind][1]} levels"
            out.append((kind, series_effects(pts, "levels", label, n, lo_first=True, listed="by levels",
                                             ref_pts=quant_points(timestep_sweep, kind, "reference"),
                                             counted=kind != "cnn")))
    return out


def discretization_claim(timestep_sweep: dict) -> Claim | None:
    """Poisson discretization: fewer time steps (shorter presentation) and coarser pre-quantized inputs give a
    lower ASR. The CNN on quantized images is the control (does quantization alone do it?) and does not count."""
    n = timestep_sweep["settings"]["n_test"]
    series = timestep_series(timestep_sweep)
    texts, parts, effects, flags = gathered([s for _, s in series])
    control = [s.parts[0] for kind, s in series if kind == "cnn"]   # its deciding white-box part
    if control and status(control[0].effect) == "reproduced":
        texts.append("the CNN control gains too: pre-quantization protects any network, spiking or not")
    texts += half_step_vulnerable(timestep_sweep, n)
    bio = timestep_points(timestep_sweep)[1]
    if len(bio) >= 2 and compare_two(bio[-1]["eval"]["clean_accuracy"], bio[0]["eval"]["clean_accuracy"], n) > 0:
        texts.append(f"caveat: the shorter Brian2 presentations also give a weaker, noisier network (clean "
                     f"{pct(bio[0]['eval']['clean_accuracy'])}% -> {pct(bio[-1]['eval']['clean_accuracy'])}%, "
                     f"redraw flips {redraw(bio[0]['eval'])}% -> {redraw(bio[-1]['eval'])}%)")
    return judged("Poisson discretization: fewer time steps and pre-quantized inputs give more robustness",
                  texts, parts, effects, flags)


def half_step_vulnerable(timestep_sweep: dict, n: int) -> list[str]:
    """Quantized models more vulnerable than unquantized ones at a level count where an eps step crosses half a
    level (rounding lets it jump a whole one): the worst such point against the unquantized one."""
    boundary = 1 + 1 / (2 * timestep_sweep["settings"]["eps"])
    out = []
    for kind in ("snn", "bio", "cnn"):
        pts = quant_points(timestep_sweep, kind)
        full = next((p for p in pts if p["job"]["levels"] >= FULL), None)
        mid = [p for p in pts if boundary < p["job"]["levels"] < FULL]
        if full and mid:
            worst = max(mid, key=lambda p: adv(p["eval"], "fgsm", "attack_success_rate"))
            a, b = (adv(p["eval"], "fgsm", "attack_success_rate") for p in (worst, full))
            if compare_two(a, b, n * worst["eval"]["clean_accuracy"], n * full["eval"]["clean_accuracy"]) > 0:
                out.append(f"{QUANT_MODELS[kind][1]} at {worst['job']['levels']} levels (half a step below eps) "
                           f"is more vulnerable than unquantized (fgsm ASR {pct(a)}% vs {pct(b)}%): rounding "
                           "lets an eps step jump a whole level")
    return out
