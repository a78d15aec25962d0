"""Sharmin et al.'s sweep claims, judged on the effect sizes of each series (analysis.sweep_effects).

- :func:`leak_claim`: more leak gives more robustness (SNN leak 1 -> 0.8, Brian2 tau_exc long -> short);
- :func:`discretization_claim`: fewer time steps (presentation time) and coarser pre-quantized inputs give
  more robustness (the CNN on quantized images is the control, shown and not counted);
- :func:`converted_claim` (Sharmin et al. 2020): a converted SNN's robustness does not depend on its time
  steps (first to last of summary["converted_timesteps"]: the ends' difference within the no-effect margin)
  but does on the input pre-quantization (fewer levels, lower ASR), white-box only;
- :func:`encoding_claim`: the Poisson encoder alone gives robustness: the same surrogate SNN at T 8 has a
  lower white-box ASR with Poisson input than with direct input (transfer shown, not counted).

A series' counted parts are its deciding white-box measure (the ensemble's or the suite's worst case when
the points carry it, else FGSM) and its transfer ASR, each by the difference between the series' ends with
its 95 % interval; the verdict (analysis.effects.verdict_of) is "reproduced" when every part is, "no effect"
when every interval excludes effects larger than analysis.effects.NO_EFFECT_POINTS, "partly" (the parts
named) when some are reproduced, else "not reproduced". :func:`leak_series` and :func:`timestep_series`
give the series to REPORT.md's effect tables too, so table and claim print the same numbers.
"""
from __future__ import annotations

from analysis.defaults import REF, REF_CONVERTED_T
from analysis.effects import Claim, verdict_of
from analysis.saved_results import FULL, adv, converted_points, encoding_points, pct, points_of, quant_points, \
    redraw
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


# --- the converted SNN and the input encoding (issue 28, item 6 (a) and (c)) ----------------------
WHITE_ONLY = "shown, not counted (the claim is white-box)"


def converted_series(timestep_sweep: dict) -> list[tuple[str, list[dict], SeriesEffects]]:
    """("T" or "levels", points, effects) of the converted SNN's series with two points or more: its time steps
    at 256 levels (the claim predicts no effect) and its pre-quantization levels at summary["converted_T"]
    (fewest levels first, the ASR rising), each white-box only."""
    n, out = timestep_sweep["settings"]["n_test"], []
    at = timestep_sweep.get("converted_T", REF_CONVERTED_T)
    for key, label, expect, listed in (("T", "converted SNN T", 0, "all:"),
                                       ("levels", f"converted SNN (T {at}) levels", None, "by levels")):
        pts = converted_points(timestep_sweep, key)
        if len(pts) >= 2:
            out.append((key, pts, series_effects(pts, key, label, n, lo_first=True, listed=listed, expect=expect,
                                                 ref_pts=converted_points(timestep_sweep, key, "reference"),
                                                 transfer=WHITE_ONLY)))
    return out


def clean_text(pts: list[dict]) -> str:
    return f"clean {pct(pts[0]['eval']['clean_accuracy'])}% -> {pct(pts[-1]['eval']['clean_accuracy'])}%"


def converted_claim(timestep_sweep: dict) -> Claim | None:
    """Sharmin et al. 2020: a converted SNN's white-box robustness (the deciding measure: the worst case where
    the points carry it, else the stronger of FGSM and BPDA) does not change from its fewest time steps to its
    most (reproduced when the ends' difference lies within the no-effect margin, "effect found" when it differs
    beyond it) but does with the input pre-quantization (fewer levels, lower ASR). A series not measured is a
    part "not measured"; None without either."""
    series = converted_series(timestep_sweep)
    if not series:
        return None
    texts, parts, effects, flags = [], [], [], []
    for key, pts, s in series:
        t, p, e, f = gathered([s])
        texts, parts, effects, flags = texts + t + [clean_text(pts)], parts + p, effects + e, flags + f
    missing = [("converted SNN T", "not measured"), ("converted SNN levels", "not measured")]
    parts += [m for key, m in zip(("T", "levels"), missing) if key not in {k for k, _, _ in series}]
    return judged("A converted SNN's robustness depends on the input pre-quantization, not on its time steps "
                  "(Sharmin et al. 2020)", texts, parts, effects, flags)


def encoding_series(timestep_sweep: dict) -> tuple[list[dict], SeriesEffects] | None:
    """(points, effects) of the surrogate SNN at T 8 with direct input and with Poisson input (in that order:
    the ASR falls), white-box only; None without both."""
    def by_name(p):   # a Poisson job carries no "encoding" key
        return {**p, "job": {**p["job"], "encoding": p["job"].get("encoding", "poisson")}}
    order = ["direct", "poisson"]
    pts, ref = ([by_name(p) for p in encoding_points(timestep_sweep, protocol)] for protocol in ("swept", "reference"))
    pts = sorted((p for p in pts if p["job"]["encoding"] in order), key=lambda p: order.index(p["job"]["encoding"]))
    if [p["job"]["encoding"] for p in pts] != order:
        return None
    n = timestep_sweep["settings"]["n_test"]
    return pts, series_effects(pts, "encoding", f"SNN T {pts[0]['job']['T']} input", n, lo_first=False, ref_pts=ref,
                               transfer=WHITE_ONLY)


def encoding_claim(timestep_sweep: dict) -> Claim | None:
    """The Poisson encoder alone gives robustness: the same surrogate SNN at T 8 has a lower white-box ASR (the
    deciding measure of analysis.sweep_effects) with Poisson input than with direct input, Welch over seeds;
    the transfer ASR shown beside it. None without both points."""
    found = encoding_series(timestep_sweep)
    if not found:
        return None
    pts, series = found
    texts, parts, effects, flags = gathered([series])
    floor = redraw(pts[1]["eval"])
    texts += [clean_text(pts)] + ([f"Poisson's redraw floor {floor}% (a fresh draw alone flips that share of its "
                                   "correct answers; direct input is deterministic, with none) is in its ASR"]
                                  if floor != "-" else [])
    return judged("The Poisson encoder alone gives robustness: direct input is less robust (the same SNN)",
                  texts, parts, effects, flags)
