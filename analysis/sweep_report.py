"""REPORT.md's sweep sections (2: leak, 3: time steps and quantization, with the converted SNN's series and
Poisson against direct input when the sweep has them): a row per point, an effect table per series group, the
figures (the encoding figure named, with its command, when the sweep has no encoding points), and the sweep
claims (analysis.sweep_claims).

A point's row shows the worst case over the attack suite and over the surrogate ensemble (and a converted
SNN's FGSM through its source CNN, BPDA) when some point of the table carries them, and the protocol when
some point was crafted at the reference setting; a table of points measured as before the suite (FGSM
alone, one protocol) is as it was. The effect table prints the series' parts of analysis.sweep_claims
(leak_series, timestep_series, converted_series, encoding_series), the numbers the claims judge.
Layout only, for analysis.report.
"""
from __future__ import annotations

import math

from analysis import captions
from analysis.effects import NO_EFFECT_POINTS, interval_text, status
from analysis.saved_results import PROTOCOLS, adv, changes, converted_points, encoding_points, last_hidden, \
    main_delta, num, number_at, pct, quant_points, redraw, seed_points, spread, stage_ratio, value_of
from analysis.sweep_claims import converted_claim, converted_series, discretization_claim, encoding_claim, \
    encoding_series, leak_claim, leak_points, leak_series, timestep_points, timestep_series
from analysis.sweep_effects import has
from analysis.sweep_figures import ENCODING_CMD, QUANT_MODELS


def pct_pm(p: dict, get) -> str:
    """A point's percentage, as mean +- 95 % half-width over its seeds when it has several."""
    v = get(p["eval"])
    if len(seed_points(p)) < 2 or v is None or (isinstance(v, float) and math.isnan(v)):
        return pct(v)
    return f"{pct(v)} ± {100 * spread(p, get):.1f}"


SWEEP_HEAD = ["model", "clean %", "redraw flip %", "FGSM adv %", "FGSM ASR %", "transfer adv %", "transfer ASR %", "random adv %",
              "last hidden / input change", "output / input change", "input-spike change", "input-spike noise floor"]
# the suite's columns (and BPDA's), after FGSM's, when a point of the table carries them: (head, eval key path)
SUITE_COLUMNS = {"bpda": [("BPDA adv %", ("deltas", "bpda", "adv_accuracy")),
                          ("BPDA ASR %", ("deltas", "bpda", "attack_success_rate"))],
                 "worst": [("worst-case adv %", ("worst_case", "adv_accuracy")),
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
    if "bpda" in suite:
        sentence += (" BPDA: FGSM through the CNN the converted SNN was converted from (its own surrogate's is the "
                     "FGSM column); a converted SNN's worst case is over the suite's attacks through both.")
    if set(suite) & {"worst", "ensemble"}:
        sentence += (" Worst case: per example over the attack suite (FGSM, PGD, APGD-CE, APGD-DLR; Brian2: FGSM and "
                     "PGD through each twin); ensemble: over the surrogate ensemble too (series ends and reference).")
    page.table(head, rows, sentence)


def effects_table(page, series, more: str = "") -> None:
    """Each series' parts (analysis.sweep_effects.Part): ends, difference and slope with their intervals, and
    what the verdict makes of it; ``more``: sentences after the table's own."""
    rows = []
    for s in series:
        for part in s.parts:
            e, sl = part.effect, part.slope
            if math.isnan(e.estimate):
                continue
            said = part.verdict_part[1] if part.verdict_part else f"{status(e)}; {e.note}"
            rows.append([e.name.replace(" difference", ""), f"{pct(part.values[0])} -> {pct(part.values[1])}",
                         interval_text(e), e.how, "-" if math.isnan(sl.estimate) else f"{interval_text(sl)} {part.per}",
                         said])
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
               "worst case where the ends carry it, else the suite's, else FGSM; the others are shown beside it."
               + more)


def not_run_lines(summary: dict, module: str) -> list[str]:
    """A sweep written with --saved-only: how many of its points did not run, per model, and the command that
    runs them (the recorded one less --saved-only); nothing for a sweep that ran whole."""
    missing = summary.get("not_run") or []
    if not missing:
        return []
    per_model: dict[str, int] = {}
    for name in missing:   # a point's name is its model's (kind, setting, levels, digest) and a digest of its own
        model = "-".join(name.split("-")[:-2]) or name
        per_model[model] = per_model.get(model, 0) + 1
    command = (summary.get("provenance") or {}).get("command") or []
    args = [a for a in command[3:] if a != "--saved-only"] if command[:3] == ["python", "-m", module] else None
    rerun = (f"`{' '.join(['python', '-m', module, *args])}` runs" if args is not None
             else f"`python -m {module}` with the sweep's options, less --saved-only, runs")
    return [f"*Not run yet: {len(missing)} of {summary['n_jobs']} points ("
            + ", ".join(f"{m} x{k}" for m, k in sorted(per_model.items()))
            + f"); the tables, figures and verdicts below rest on the {len(summary['points'])} that ran. "
              f"{rerun} the rest (finished points are cached).*", ""]


def leak_section(page, leak_sweep: dict) -> None:
    """2. The leak sweep's table and figure; the leak claim."""
    settings = leak_sweep["settings"]
    cnn, snn, bio = leak_points(leak_sweep)
    _, snn_ref, bio_ref = leak_points(leak_sweep, "reference")
    page.lines += [f"## 2. Leak sweep (eps = {settings['eps']:g}, n = {settings['n_test']}; {leak_sweep['scale']})", ""]
    page.lines += not_run_lines(leak_sweep, "analysis.leak_sweep")
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
    page.lines += not_run_lines(timestep_sweep, "analysis.timestep_sweep")
    snn_label, bio_label = (lambda j: f"SNN T = {j['T']}"), (lambda j: f"Brian2 {j['present_ms']:g} ms")
    points_table(page, [(snn, snn_label, "swept"), (snn_ref, snn_label, "reference"), (bio, bio_label, "swept"),
                        (bio_ref, bio_label, "reference")],
                 "Fewer time steps (shorter presentation) mean coarser Poisson discretization of the input.")
    page.fig("timestep_sweep", captions.timestep_sweep(timestep_sweep))
    groups = []
    for kind, (_, label) in QUANT_MODELS.items():
        if kind == "converted":   # its levels series: in the converted SNN's own table below (the figure has it)
            continue
        name = lambda j, label=label: f"{label}, {j['levels']} levels"  # noqa: E731
        groups += [(quant_points(timestep_sweep, kind), name, "swept"),
                   (quant_points(timestep_sweep, kind, "reference"), name, "reference")]
    points_table(page, groups, "Models trained and tested on images pre-quantized to the given number of levels "
                 "(256: the 8-bit originals); the attacker perturbs the original image.")
    page.fig("quantization_sweep", captions.quantization_sweep(timestep_sweep))
    effects_table(page, [s for _, s in timestep_series(timestep_sweep)])
    page.claim(discretization_claim(timestep_sweep))
    converted_section(page, timestep_sweep)
    encoding_section(page, timestep_sweep)


NO_EFFECT_PART = (f" A part whose claim predicts no effect (the converted SNN's T) is reproduced when its whole "
                  f"interval lies within ±{NO_EFFECT_POINTS:g} points, 'effect found' when it excludes 0 and reaches "
                  "beyond that, inconclusive otherwise. A converted SNN's white-box measure, without the suite, is the "
                  "stronger of FGSM through its own surrogate and through its CNN (BPDA), per seed; only white-box "
                  "parts count here.")


def converted_section(page, timestep_sweep: dict) -> None:
    """The converted SNN's time-step and levels series (Sharmin et al. 2020), when the sweep has them: their
    points, effects and claim."""
    series = converted_series(timestep_sweep)
    if not series:
        return
    at = timestep_sweep.get("converted_T")
    page.lines += [f"### The converted SNN: time steps and input pre-quantization (levels series at T = {at})", ""]
    label = lambda j: f"converted SNN T = {j['T']}, {j['levels']} levels"  # noqa: E731
    groups, seen = [], set()
    for key in ("T", "levels"):
        for protocol in ("swept", "reference"):
            pts = [p for p in converted_points(timestep_sweep, key, protocol) if id_of(p) not in seen]
            seen |= {id_of(p) for p in pts}   # T 32 at 256 levels is a point of both series
            groups.append((pts, label, protocol))
    points_table(page, groups, "The converted SNN (IF neurons, Poisson input) is converted from the sweep's CNN of the "
                 "same seed and levels; FGSM: through its own surrogate gradient (EOT), BPDA: through that CNN.")
    effects_table(page, [s for _, _, s in series], NO_EFFECT_PART)
    page.claim(converted_claim(timestep_sweep))


def id_of(p: dict) -> str:
    return repr(sorted(p["job"].items()))


def encoding_section(page, timestep_sweep: dict) -> None:
    """The surrogate SNN with Poisson against direct input: points, figure, and effects and claim when the sweep
    has both; without points, the figure named not drawn with the command that makes it."""
    pts = encoding_points(timestep_sweep)
    if not pts:
        page.absent("the encoding figure, Poisson against direct input (no points)", ENCODING_CMD)
        return
    found = encoding_series(timestep_sweep)
    page.lines += [f"### Poisson against direct input (surrogate SNN, T = {pts[0]['job']['T']})", ""]
    label = lambda j: f"SNN T = {j['T']}, {j.get('encoding', 'poisson')} input"  # noqa: E731
    points_table(page, [(encoding_points(timestep_sweep, protocol), label, protocol)
                        for protocol in ("swept", "reference")],
                 "The same SNN trained and tested with Poisson spikes and with the image as a constant current "
                 "(direct: deterministic, EOT 1, no redraw floor).")
    page.fig("encoding", captions.encoding(timestep_sweep))
    if found:
        effects_table(page, [found[1]], " Here only the white-box part counts; the transfer ASR is shown beside it.")
    page.claim(encoding_claim(timestep_sweep))
