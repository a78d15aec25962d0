"""``results/REPORT.md``: the tables of every saved result, the figures drawn, and a verdict on each seed claim.

:func:`write_report` reads what analysis.figures loaded (``made``) and names the figures it drew; one function per
section writes its tables and figures and adds its claims, which analysis.seed_claims judges (with the statistics
of analysis.verdicts). Nothing is computed here but the layout; figures and report import no computing module.
"""
from __future__ import annotations

import datetime
import math
import os
from pathlib import Path

from analysis import captions
from analysis.compare_figures import MAX_DOT_EPS
from analysis.damping_figures import EPS_CMD
from analysis.defaults import DSET_NAMES, NET_LABELS
from analysis.provenance_table import provenance_section
from analysis.saved_results import adv, changes, last_hidden, main_delta, main_eps, num, pct, quant_points, \
    redraw, seed_points, spread, stage_ratio, value_of
from analysis.seed_claims import PUBLISHED_ACCURACY, Claim, accuracy_claim, blackbox_compare_claim, \
    blackbox_damping_claim, compare_cells, damping_claim, damping_models, discretization_claim, dset_of, leak_claim, \
    leak_points, snn_fgsm_claim, stdp_claim, timestep_points, training_seconds
from analysis.sweep_figures import QUANT_MODELS
from analysis.verdicts import compare_masked, suspect, zero_grad_flags

# A Brian2 training budget below this gave networks under 80 % clean (issue #10: 20k examples, 79.7-80.6 %).
MIN_BIO_TRAIN = 20000


class Report:
    """REPORT.md being written: its lines, the seed claims judged so far, and the captions of its figures."""

    def __init__(self, out: Path, figures: dict):
        self.lines, self.claims, self.out, self.figures = [], [], out, figures
        self.captions = {}   # figure name -> (caption, promises), for the tests to hold against the figure

    def claim(self, claim: Claim | None) -> None:
        """A seed claim's row (analysis.seed_claims), unless its results were not there (None)."""
        if claim:
            self.claims.append(claim)

    def fig(self, name: str, caption: tuple[str, list[str]]) -> None:
        """Figure ``name`` (an analysis.plotting.Drawn of analysis.figures; none drawn: nothing written) with its
        caption (analysis.captions: the sentence and the texts it promises); panels left out for want of data
        are named after it, with the command that makes them."""
        drawn = self.figures.get(name)
        if drawn is None:
            return
        sentence = caption[0] + "".join(f" Not drawn: {what}; `{cmd}` makes it." for what, cmd in drawn.missing)
        rel = os.path.relpath(drawn.path, self.out.parent)
        self.lines += [f"![{name}]({rel})", "", f"*{sentence}*", ""]
        self.captions[name] = (sentence, caption[1])

    def absent(self, what: str, command: str) -> None:
        """A figure with no data at all: say so where it would stand, and what makes it."""
        self.lines += [f"*Not drawn: {what}; `{command}` makes it.*", ""]

    def table(self, head: list[str], rows: list[list[str]], sentence: str) -> None:
        self.lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        self.lines += ["| " + " | ".join(r) + " |" for r in rows]
        self.lines += ["", sentence, ""]


# --- table rows -------------------------------------------------------------------------------
def pct_pm(p: dict, get) -> str:
    """A point's percentage, as mean +- 95 % half-width over its seeds when it has several."""
    v = get(p["eval"])
    if len(seed_points(p)) < 2 or v is None or (isinstance(v, float) and math.isnan(v)):
        return pct(v)
    return f"{pct(v)} ± {100 * spread(p, get):.1f}"


SWEEP_HEAD = ["model", "clean %", "redraw flip %", "FGSM adv %", "FGSM ASR %", "transfer adv %", "transfer ASR %", "random adv %",
              "last hidden / input change", "output / input change", "input-spike change", "input-spike noise floor"]


def sweep_rows(pts: list[dict], label) -> list[list[str]]:
    """One row of SWEEP_HEAD per sweep point, named by ``label(job)``."""
    rows = []
    for p in pts:
        e = p["eval"]
        floor = (e.get("noise_floor") or {}).get("input spikes")
        on = lambda d, k="adv_accuracy": lambda ev: adv(ev, d, k)  # noqa: E731
        k = len(seed_points(p))
        rows.append([label(p["job"]) + (f" ({k} seeds)" if k > 1 else ""),
                     pct_pm(p, lambda ev: ev["clean_accuracy"]), redraw(e), pct_pm(p, on("fgsm")),
                     pct_pm(p, on("fgsm", "attack_success_rate")), pct_pm(p, on("transfer")),
                     pct_pm(p, on("transfer", "attack_success_rate")), pct_pm(p, on("random")),
                     num(stage_ratio(e, last_hidden(e))), num(stage_ratio(e, "output")),
                     num(changes(e, main_delta(e))[e["stages"].index("input spikes")]) if "input spikes" in e[
                         "stages"] else "-", num(value_of(floor))])
    return rows


def accuracy_rows(summary: dict) -> list[list[str]]:
    """One row per run of analysis.accuracy_table: net, seed, accuracy, training time, the published number."""
    rows = []
    for r in summary["runs"]:
        pub = PUBLISHED_ACCURACY.get(summary["dset"], {}).get(r["net"])
        T = f", T = {r['T']}" if r.get("T") and r["net"] != "cnn" else ""
        rows.append([f"{NET_LABELS.get(r['net'], r['net'])}{T} ({r['run']})", str(r["seed"]), pct(r["test_accuracy"]),
                     f"{r['n_test']:,}", str(r["epochs"]), f"{training_seconds(r) / 60:.1f}",
                     f"{r['threads']}", f"{100 * pub[0]:.2f} ({pub[1]})" if pub else "-"])
    return rows


# --- sections ---------------------------------------------------------------------------------
def damping_section(page: Report, damping: dict, leak_sweep: dict | None, judge_blackbox: bool) -> None:
    """1. Where a perturbation dies out (analysis.damping); the damping claim, and the black-box claim on these
    models when analysis.compare has not measured it (``judge_blackbox``)."""
    eps, models = main_eps(damping), damping_models(damping)
    rows = []
    for r in models.values():
        floor = (r.get("noise_floor") or {}).get("input spikes")
        rows.append([r["label"], pct(r["clean_accuracy"]), redraw(r), pct(adv(r, "fgsm")), pct(adv(r, "transfer")),
                     pct(adv(r, "random")), num(changes(r, main_delta(r))[0]),
                     num(stage_ratio(r, last_hidden(r))), num(stage_ratio(r, "output")), num(value_of(floor))])
    page.lines += [f"## 1. Where a perturbation dies out (analysis.damping, eps = {eps}, n = {damping['n']})", ""]
    source = damping.get("source") or "none"
    page.table(["model", "clean %", "redraw flip %", "white-box FGSM adv %", "transfer adv %", "random adv %",
                "input change", "last hidden / input", "output / input", "input-spike noise floor"], rows,
               f"Change ratios use the transfer perturbation (FGSM on the source CNN {source}), the same d for every "
               "model; a ratio below 1 means the network shrinks the perturbation, above 1 that it amplifies it.")
    page.fig("damping", captions.damping(damping))
    page.fig("gallery", captions.gallery())
    page.claim(damping_claim(damping, leak_sweep))
    # analysis.compare measures the same models on five times the images, with PGD too: that is the
    # black-box claim's evidence when it is there; the damping data stand in only without it.
    if judge_blackbox:
        page.claim(blackbox_damping_claim(damping))


def leak_section(page: Report, leak_sweep: dict) -> None:
    """2. The leak sweep's table and figure; the leak claim."""
    settings = leak_sweep["settings"]
    cnn, snn, bio = leak_points(leak_sweep)
    page.lines += [f"## 2. Leak sweep (eps = {settings['eps']:g}, n = {settings['n_test']}; {leak_sweep['scale']})", ""]
    rows = sweep_rows(cnn, lambda j: "CNN") + sweep_rows(snn[::-1], lambda j: f"SNN leak {j['leak']:g}") \
        + sweep_rows(bio[::-1], lambda j: f"Brian2 tau {j['tau_exc_ms']:g} ms")
    page.table(SWEEP_HEAD, rows, "Rows run from least to most leak; ASR is the share of correctly classified "
               "images the attack turns wrong; 'redraw flip' is the ASR of a fresh Poisson draw with no perturbation "
               "at all, the floor under a stochastic model's ASR; change ratios as in section 1. One trained model "
               + ("per row, so a row's differences include training noise." if settings.get("seeds", 1) < 2
                  else "per seed; a ± is the 95 % interval of the mean over the seeds (training noise included), "
                  "and the verdicts test the seeds' values (Welch)."))
    page.fig("leak_sweep", captions.leak_sweep(leak_sweep))
    page.claim(leak_claim(leak_sweep))


def timestep_section(page: Report, timestep_sweep: dict) -> None:
    """3. The time-step and quantization tables and figures; the Poisson discretization claim."""
    settings = timestep_sweep["settings"]
    snn, bio = timestep_points(timestep_sweep)
    page.lines += [f"## 3. Time steps and input quantization (eps = {settings['eps']:g}, n = {settings['n_test']}; "
                   f"{timestep_sweep['scale']})", ""]
    page.table(SWEEP_HEAD, sweep_rows(snn, lambda j: f"SNN T = {j['T']}")
               + sweep_rows(bio, lambda j: f"Brian2 {j['present_ms']:g} ms"),
               "Fewer time steps (shorter presentation) mean coarser Poisson discretization of the input.")
    page.fig("timestep_sweep", captions.timestep_sweep(timestep_sweep))
    rows = []
    for kind, (_, label) in QUANT_MODELS.items():
        rows += sweep_rows(quant_points(timestep_sweep, kind), lambda j, label=label: f"{label}, {j['levels']} levels")
    page.table(SWEEP_HEAD, rows, "Models trained and tested on images pre-quantized to the given number of levels "
               "(256: the 8-bit originals); the attacker perturbs the original image.")
    page.fig("quantization_sweep", captions.quantization_sweep(timestep_sweep))
    page.claim(discretization_claim(timestep_sweep))


def masking_flags(summary: dict) -> list[str]:
    """analysis.compare's white-box numbers that look like masked gradients, and models with many zero gradients."""
    name = DSET_NAMES.get(dset_of(summary), dset_of(summary))
    masked = compare_masked(compare_cells(summary), summary["n_test"])
    return [f"analysis.compare ({name}), {net} {attack.upper()}: {why}" for (net, attack), why in masked.items()] \
        + zero_grad_flags(summary)


def compare_section(page: Report, made: dict) -> list[str]:
    """4. analysis.compare's figures; on the table of each dataset, the black-box claim and seed 000's two. Returns
    the masked-gradient flags for the checks."""
    flags = []
    page.lines += ["## 4. White-box against black-box (analysis.compare)", ""]
    for name, summary in made["compare"].items():
        page.fig(f"compare_{name}", captions.compare(name, summary, len(summary["settings"]["eps"]) <= MAX_DOT_EPS))
        # The table of a dataset (folder named for it) carries the claim and the checks; other runs (an
        # accuracy-vs-eps curve, mnist-eps) only their figure.
        if name != summary["settings"]["dset"]:
            continue
        page.claim(blackbox_compare_claim(summary))
        sparsity = (made.get("sparsity_by_dset") or {}).get(dset_of(summary))
        page.claim(snn_fgsm_claim(summary))
        page.claim(stdp_claim(summary, sparsity))
        flags += masking_flags(summary)
    return flags


def sparsity_section(page: Report, sparsity: dict) -> None:
    cut = f"{sparsity['cut']:g}"
    page.table(["model"] + [f"layer {i}" for i in range(max(len(m["layers"]) for m in sparsity["models"].values()))],
               [[m["label"]] + [f"{100 * layer['share_below'][cut]:.1f}" + ("" if layer["trained"] else " (STDP)")
                                for layer in m["layers"]] for m in sparsity["models"].values()],
               f"Share of weights (%) below {100 * sparsity['cut']:g} % of the largest weight into the same unit "
               "(analysis.weight_sparsity): seed 000 credits STDP's robustness to sparse connectivity.")
    page.fig("weight_sparsity", captions.weight_sparsity(sparsity))


def accuracy_section(page: Report, dset: str, summary: dict) -> None:
    """Clean accuracy and training time of one dataset's trained models; seed 000's accuracy claim."""
    page.lines += [f"## Clean accuracy and training time ({dset}, analysis.accuracy_table)", ""]
    page.table(["model (run)", "seed", "test accuracy %", "test images", "epochs", "training min", "threads",
                "published %"], accuracy_rows(summary),
               "Each run's own test pass (networks.train's metrics.json); training minutes as measured, on the "
               "threads given, so they depend on the machine and its load (README).")
    page.claim(accuracy_claim(summary))


def figures_section(page: Report, made: dict) -> None:
    """5. Accuracy against eps, and 6. the Brian2 network's figures."""
    damping = made.get("damping")
    if damping or made.get("attack"):
        page.lines += ["## 5. Accuracy against epsilon", ""]
        if "accuracy_vs_eps" in page.figures:
            page.fig("accuracy_vs_eps", captions.accuracy_vs_eps(damping))
        elif damping:
            page.absent("accuracy against eps of the damping models (each was measured at one eps only)", EPS_CMD)
        if made.get("attack"):
            page.fig("attack_runs", captions.attack_runs(made["attack"]))
    if {"receptive_fields", "raster"} & set(page.figures):
        page.lines += ["## 6. The Brian2 network", ""]
        page.fig("receptive_fields", (f"Input weights learned by STDP ({made.get('receptive_fields')}) and their "
                                      "sparsity.", []))
        page.fig("raster", captions.raster((damping or {}).get("settings", {}).get("bio", "the damping run")))


def evaluated(made: dict):
    """(label, evaluation, n) of every model measured, from damping and the sweeps."""
    for res in (made.get("damping") or {}).get("models", {}).values():
        for e in res.values():
            yield f"damping: {e['label']}", e, e["n"]
    for name in ("leak_sweep", "timestep_sweep"):
        for p in (made.get(name) or {}).get("points", []):
            j = p["job"]
            tag = {"snn": "SNN leak {leak:g}, T {T}", "cnn": "CNN",
                   "bio": "Brian2 tau {tau_exc_ms:g} ms, {present_ms:g} ms"}[j["kind"]].format(**j)
            yield f"{name}: {tag}, {j['levels']} levels", p["eval"], j["n_test"]


def checks_section(page: Report, made: dict, compare_flags: list[str]) -> None:
    """The white-box numbers flagged as masked gradients, from analysis.compare and every evaluated model."""
    checks = [f"- {f}" for f in compare_flags]
    for label, e, n in evaluated(made):
        why = suspect(e, n)
        if why:
            checks.append(f"- {label}: {why}")
    page.lines += ["## Checks of the attacks", "",
                   "A white-box attack weaker than a transfer attack or random noise, or a many-step PGD no stronger "
                   "than one FGSM step, points at masked gradients (Athalye et al. 2018); "
                   + ("these white-box numbers are flagged and not counted in the verdicts:" if checks
                      else "no evaluated model showed it."), ""] + checks + [""]


def stale_inputs(made: dict) -> list[str]:
    """Saved results computed with settings this project has since found wanting, each with what to re-run."""
    out = []
    for name in ("leak_sweep", "timestep_sweep"):
        sweep = made.get(name)
        budget = (sweep or {}).get("settings", {}).get("bio_n_train")
        if budget is not None and budget < MIN_BIO_TRAIN:
            out.append(f"{name}: its Brian2 points were trained on {budget:,} STDP examples, too few for a "
                       f"well-trained network (>= {MIN_BIO_TRAIN:,} gives >= 80 % clean); re-run "
                       f"`python -m analysis.{name} --bio-n-train {MIN_BIO_TRAIN}`")
    for dset, summary in (made.get("compare") or {}).items():
        if "worst_case" not in summary:
            out.append(f"compare {dset}: made before the worst-case suite (bias-free CNNs, "
                       f"{summary['settings'].get('pgd_steps')}-step PGD, no APGD, no zero-gradient share); "
                       f"re-run `python -m analysis.compare --dset {dset}`")
    return out


def front_matter(made: dict, claims: list[Claim]) -> list[str]:
    """The title, what the verdicts mean and their limits, stale inputs, and the table of seed claims."""
    head = ["# Why spiking networks resist attacks: results", "",
            f"Generated by `python -m analysis.figures` on {datetime.date.today().isoformat()} from saved JSON/NPZ. "
            "Seed claims are from Sharmin et al. (2019, 2020); a difference counts only when it exceeds two standard "
            "errors of the difference of two proportions on the test set used (with several seeds per sweep point: "
            "Welch's t-test at 5 % on the seeds' values, so training noise counts too).", "",
            "Limits: each sweep point is one trained model per seed (one seed unless its section says more) scored on "
            "the first test images (n in each "
            "section), so differences of a few points are within noise; the sweeps' models are small (the training "
            "budget in each section's title); the Brian2 networks differ between sections (damping, compare, attack "
            "and each sweep point use their own runs, named there); a Brian2 white-box attack is crafted on its torch "
            "twin, so it is only as strong as the twin's gradient.", "",
            ]
    stale = stale_inputs(made)
    if stale:
        head += ["**Stale inputs**: these results predate fixes and are shown as they were computed; their verdicts "
                 "below are provisional until they are re-run:", ""] + [f"- {t}" for t in stale] + [""]
    head += ["## Seed claims", "", "| claim | verdict | numbers |", "|---|---|---|"]
    return head + ([f"| {c.statement} | **{c.verdict}** | {c.numbers} |" for c in claims]
                   or ["| (no results yet) | - | - |"])


def write_report(res_dir: Path, made: dict, notes: list[str]) -> Path:
    """REPORT.md from what analysis.figures read and drew (``made``; its "figures": the Drawn of each figure);
    the captions go to made["captions"] too. A missing input adds a line to ``notes``."""
    out = res_dir / "REPORT.md"
    page = Report(out, made.get("figures") or {})
    made["captions"] = page.captions
    damping, leak_sweep, timestep_sweep = made.get("damping"), made.get("leak_sweep"), made.get("timestep_sweep")
    if damping:
        damping_section(page, damping, leak_sweep, judge_blackbox=not made.get("compare"))
    else:
        notes.append("no results/damping/damping.json: run python -m analysis.damping")
    if leak_sweep:
        leak_section(page, leak_sweep)
    else:
        notes.append("no sweeps/leak_sweep.json: run python -m analysis.leak_sweep")
    if timestep_sweep:
        timestep_section(page, timestep_sweep)
    else:
        notes.append("no sweeps/timestep_sweep.json: run python -m analysis.timestep_sweep")
    compare_flags = compare_section(page, made) if made.get("compare") else []
    if made.get("sparsity"):
        sparsity_section(page, made["sparsity"])
    for dset, summary in sorted((made.get("accuracy") or {}).items()):
        if summary["runs"]:
            accuracy_section(page, dset, summary)
    figures_section(page, made)
    checks_section(page, made, compare_flags)
    tail = (["", "## Skipped inputs", ""] + [f"- {n}" for n in notes]) if notes else []
    tail += provenance_section(res_dir, made.get("read", []))   # last: where each result read above came from
    out.write_text("\n".join(front_matter(made, page.claims) + [""] + page.lines + tail) + "\n")
    return out
