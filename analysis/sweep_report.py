"""REPORT.md's sweep sections (2: leak, 3: time steps and quantization): a row per point, an effect table per
section, the figures, and the two sweep claims (analysis.sweep_claims).

A point's row shows the worst case over the attack suite and over the surrogate ensemble when some point of
the table carries them, and the protocol when some point was crafted at the reference setting; a table
of points measured as before the suite (FGSM alone, one protocol) is as it was. The effect table prints
the series' parts of analysis.sweep_claims (leak_series, timestep_series), the numbers the claims judge.
Layout only, for analysis.report.
"""
from __future__ import annotations

import math

from analysis import captions
from analysis.effects import NO_EFFECT_POINTS, interval_text, status
from analysis.saved_results import PROTOCOLS, adv, changes, last_hidden, main_delta, num, number_at, pct, \
    quant_points, redraw, seed_points, spread, stage_ratio, value_of
from analysis.sweep_claims import discretization_claim, leak_claim, leak_points, leak_series, timestep_points, \
    timestep_series
from analysis.sweep_effects import has
from analysis.sweep_figures import QUANT_MODELS


def pct_pm(p: dict, get) -> str:
    """A point's percentage, as mean +- 95 % half-width over its seeds when it has several."""
    v = get(p["eval"])
    if len(seed_points(p)) < 2 or v is None or (isinstance(v, float) and math.isnan(v)):
        return pct(v)
    return f"{pct(v)} ± {100 * spread(p, get):.1f}"


SWEEP_HEAD = ["model", "clean %", "redraw flip %", "FGSM adv %", "FGSM ASR %", "transfer adv %", "transfer ASR %", "random adv %",
              "last hidden / input change", "output / input change", "input-spike change", "input-spike noise floor"]
# the suite's columns, after FGSM's, when a point of the table carries them: (head, eval key path, measure)
SUITE_COLUMNS = {"worst": [("worst-case adv %", ("worst_case", "adv_accuracy")),
                           ("worst-case ASR %", ("worst_case", "attack_success_rate"))],
                 "ensemble": [("ensemble worst-case adv %", ("ensemble", "worst_case", "adv_accuracy")),
                              ("ensemble worst-case ASR %", ("ensemble", "worst_case", "attack_success_rate"))]}


def suite_of(pts: list[dict]) -> list[str]:
    """The suite's measures some point of ``pts`` carries."""
    return [m for m in SUITE_COLUMNS if any(has([p], m) for p in pts)]


def sweep_rows(pts: list[dict], label, suite=(), protocol: str | None = None) -> list[list[str]]:
    """One row of SWEEP_HEAD per sweep point, named by ``label(job)``, with the columns of the ``suite``
    measures after FGSM's and, when ``protocol`` is given, the protocol after the model."""
    rows = []
    for p in pts:
        e = p["eval"]
        floor = (e.get("noise_floor") or {}).get("input spikes")
        on = lambda d, k="adv_accuracy": lambda ev: adv(ev, d, k)  # noqa: E731
        k = len(seed_points(p))
        worst = [pct_pm(p, number_at(*path)) for m in suite for _, path in SUITE_COLUMNS[m]]
        rows.append([label(p["job"]) + (f" ({k} seeds)" if k > 1 else "")] + ([protocol] if protocol else [])
                    + [pct_pm(p, lambda ev: ev["clean_accuracy"]), redraw(e), pct_pm(p, on("fgsm")),
                       pct_pm(p, on("fgsm", "attack_success_rate"))] + worst
                    + [pct_pm(p, on("transfer")), pct_pm(p, on("transfer", "attack_success_rate")),
                       pct_pm(p, on("random")), num(stage_ratio(e, last_hidden(e))), num(stage_ratio(e, "output")),
                       num(changes(e, main_delta(e))[e["stages"].index("input spikes")]) if "input spikes" in e[
                           "stages"] else "-", num(value_of(floor))])
    return rows


def points_table(page, groups: list[tuple[list[dict], object, str]], sentence: str) -> None:
    """A table of the points of ``groups`` ((points, label, protocol) each, protocol "swept" or
    "reference"), with the suite's columns and the protocol column when some point needs them."""
    pts = [p for g, _, _ in groups for p in g]
    suite = suite_of(pts)
    two = any(proto == "reference" and g for g, _, proto in groups)
    head = SWEEP_HEAD[:1] + (["protocol"] if two else []) + SWEEP_HEAD[1:5] \
        + [h for m in suite for h, _ in SUITE_COLUMNS[m]] + SWEEP_HEAD[5:]
    rows = [r for g, label, proto in groups
            for r in sweep_rows(g, label, suite, PROTOCOLS[proto] if two else None)]
    if two:
        sentence += (" 'Crafted at the reference setting, scored at the swept one': the white-box attacks of the "
                     "model trained at the reference setting, applied to the swept model (Sharmin 2020's released "
                     "code); transfer and random rows are the same d in both protocols.")
    if suite:
        sentence += (" Worst case: per example over the attack suite (FGSM, PGD, APGD-CE, APGD-DLR; Brian2: FGSM and "
                     "PGD through each twin); ensemble: over the surrogate ensemble too (series ends and reference).")
    page.table(head, rows, sentence)


def effects_table(page, series) -> None:
    """Each series' parts (analysis.sweep_effects.Part): ends, difference and slope with their intervals, and
    what the verdict makes of it."""
    rows = []
    for s in series:
        for part in s.parts:
            e, sl = part.effect, part.slope
            if math.isnan(e.estimate):
                continue
            said = part.verdict_part[1] if part.verdict_part else f"{status(e)}; {e.note}"
            rows.append([e.name.replace(" difference", ""), f"{pct(part.values[0])} -> {pct(part.values[1])}",
                         interval_text(e), e.how, f"{interval_text(sl)} {part.per}", said])
    if not rows:
        return
    page.table(["series, measure", "ASR % at the ends", "difference, points [95 %]", "interval",
                "slope, points [95 %]", "verdict part"], rows,
               "Difference: the last end minus the first, in the order the claim reads the series, with its 95 % "
               "interval (Welch over the seeds; two standard errors with one seed); slope: least squares over every "
               "seed's value against 1 - leak, -log2 tau_exc, log2 T, log2 presentation ms or log2 levels, each rising "
               "from the first end to the last, with its 95 % t-interval (reported, not judged). A part is reproduced "
               "when its interval excludes 0 on the claim's side, reversed on the other, no effect when it lies within "
               f"±{NO_EFFECT_POINTS:g} points, inconclusive otherwise. The deciding white-box measure is the ensemble's "
               "worst case where the ends carry it, else the suite's, else FGSM; the others are shown beside it.")


def leak_section(page, leak_sweep: dict) -> None:
    """2. The leak sweep's table and figure; the leak claim."""
    settings = leak_sweep["settings"]
    cnn, snn, bio = leak_points(leak_sweep)
    _, snn_ref, bio_ref = leak_points(leak_sweep, "reference")
    page.lines += [f"## 2. Leak sweep (eps = {settings['eps']:g}, n = {settings['n_test']}; {leak_sweep['scale']})", ""]
    snn_label, bio_label = (lambda j: f"SNN leak {j['leak']:g}"), (lambda j: f"Brian2 tau {j['tau_exc_ms']:g} ms")
    points_table(page, [(cnn, lambda j: "CNN", "swept"), (snn[::-1], snn_label, "swept"),
                        (snn_ref[::-1], snn_label, "reference"), (bio[::-1], bio_label, "swept"),
                        (bio_ref[::-1], bio_label, "reference")],
                 "Rows run from least to most leak; ASR is the share of correctly classified "
                 "images the attack turns wrong; 'redraw flip' is the ASR of a fresh Poisson draw with no perturbation "
                 "at all, the floor under a stochastic model's ASR; change ratios as in section 1. One trained model "
                 + ("per row, so a row's differences include training noise." if settings.get("seeds", 1) < 2
                    else "per seed; a ± is the 95 % interval of the mean over the seeds (training noise included), "
                    "and the verdicts test the seeds' values (Welch)."))
    effects_table(page, [s for _, s in leak_series(leak_sweep)])
    page.fig("leak_sweep", captions.leak_sweep(leak_sweep))
    page.claim(leak_claim(leak_sweep))


def timestep_section(page, timestep_sweep: dict) -> None:
    """3. The time-step and quantization tables and figures; the Poisson discretization claim."""
    settings = timestep_sweep["settings"]
    (snn, bio), (snn_ref, bio_ref) = timestep_points(timestep_sweep), timestep_points(timestep_sweep, "reference")
    page.lines += [f"## 3. Time steps and input quantization (eps = {settings['eps']:g}, n = {settings['n_test']}; "
                   f"{timestep_sweep['scale']})", ""]
    snn_label, bio_label = (lambda j: f"SNN T = {j['T']}"), (lambda j: f"Brian2 {j['present_ms']:g} ms")
    points_table(page, [(snn, snn_label, "swept"), (snn_ref, snn_label, "reference"), (bio, bio_label, "swept"),
                        (bio_ref, bio_label, "reference")],
                 "Fewer time steps (shorter presentation) mean coarser Poisson discretization of the input.")
    page.fig("timestep_sweep", captions.timestep_sweep(timestep_sweep))
    groups = []
    for kind, (_, label) in QUANT_MODELS.items():
        name = lambda j, label=label: f"{label}, {j['levels']} levels"  # noqa: E731
        groups += [(quant_points(timestep_sweep, kind), name, "swept"),
                   (quant_points(timestep_sweep, kind, "reference"), name, "reference")]
    points_table(page, groups, "Models trained and tested on images pre-quantized to the given number of levels "
                 "(256: the 8-bit originals); the attacker perturbs the original image.")
    page.fig("quantization_sweep", captions.quantization_sweep(timestep_sweep))
    effects_table(page, [s for _, s in timestep_series(timestep_sweep)])
    page.claim(discretization_claim(timestep_sweep))
