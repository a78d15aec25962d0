"""``results/REPORT.md``: the tables of every saved result, the figures drawn, and a verdict on each seed claim.

:func:`write_report` reads what analysis.figures loaded (``made``) and names the figures it drew; one function per
section writes its tables and figures and adds its claims, which analysis.seed_claims judges (with the statistics
of analysis.verdicts and analysis.effects; the sweep sections are analysis.sweep_report's). Under the table of
claims: what must be read with it (the claims' flags) and the forest plot of their effects (analysis.forest_figure,
drawn here once every claim is judged). Nothing is computed here but the layout; figures and report import no
computing module.
"""
from __future__ import annotations

import datetime
import os
from pathlib import Path

from analysis import captions, size_series
from analysis.compare_figures import MAX_DOT_EPS
from analysis.damping_figures import CONVERGED_CMD, EPS_CMD
from analysis.defaults import DSET_NAMES, MODEL_ORDER, NET_LABELS
from analysis.effects import NO_EFFECT_POINTS, NO_EFFECT_RATIO
from analysis.forest_figure import forest_figure
from analysis.provenance_table import provenance_section
from analysis.saved_results import adv, changes, last_hidden, main_delta, main_eps, num, pct, pooled_text, redraw, \
    stage_ratio, value_of
from analysis.seed_claims import PUBLISHED_ACCURACY, Claim, accuracy_claim, blackbox_compare_claim, \
    blackbox_damping_claim, compare_cells, damping_claim, damping_models, dset_of, snn_fgsm_claim, stdp_claim, \
    training_seconds, transfer_claim
from analysis.sweep_report import SWEEP_HEAD, leak_section, pct_pm, sweep_rows, timestep_section
from analysis.verdicts import compare_masked, suspect, zero_grad_flags

__all__ = ["MIN_BIO_TRAIN", "Report", "SWEEP_HEAD", "pct_pm", "stale_inputs", "sweep_rows", "write_report"]

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
        self.lines += self.figure_lines(name, caption)

    def figure_lines(self, name: str, caption: tuple[str, list[str]]) -> list[str]:
        """The lines :meth:`fig` writes, for a figure placed elsewhere (the forest plot, at the top)."""
        drawn = self.figures.get(name)
        if drawn is None:
            return []
        sentence = caption[0] + "".join(f" Not drawn: {what}; `{cmd}` makes it." for what, cmd in drawn.missing)
        rel = os.path.relpath(drawn.path, self.out.parent)
        self.captions[name] = (sentence, caption[1])
        return [f"![{name}]({rel})", "", f"*{sentence}*", ""]

    def absent(self, what: str, command: str) -> None:
        """A figure with no data at all: say so where it would stand, and what makes it."""
        self.lines += [f"*Not drawn: {what}; `{command}` makes it.*", ""]

    def table(self, head: list[str], rows: list[list[str]], sentence: str) -> None:
        self.lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        self.lines += ["| " + " | ".join(r) + " |" for r in rows]
        self.lines += ["", sentence, ""]


# --- table rows -------------------------------------------------------------------------------
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
def converged_cmd(converged: dict) -> str:
    """The command that made converged.json: --from-sweep with the source it read (the sweep summary or its
    points folder), as its results folder names it."""
    source = converged.get("source")
    if not source:
        return CONVERGED_CMD
    path = Path(source)
    shown = next((str(Path(*path.parts[k:])) for k in range(len(path.parts)) if path.parts[k] == "results"), source)
    return f"python -m analysis.damping --from-sweep {shown}"


def damping_section(page: Report, damping: dict | None, leak_sweep: dict | None, judge_blackbox: bool,
                    converged: dict | None = None) -> None:
    """1. Where a perturbation dies out (analysis.damping): one model per kind (damping.json) and, when
    analysis.damping --from-sweep has written it, the converged models over seeds (converged.json,
    :func:`converged_table`); the damping claim (over seeds when converged.json has them), and the black-box
    claim on the damping models when analysis.compare has not measured it (``judge_blackbox``)."""
    if damping:
        eps, models = main_eps(damping), damping_models(damping)
        rows = []
        for r in models.values():
            floor = (r.get("noise_floor") or {}).get("input spikes")
            rows.append([r["label"], pct(r["clean_accuracy"]), redraw(r), pct(adv(r, "fgsm")),
                         pct(adv(r, "transfer")), pct(adv(r, "random")), num(changes(r, main_delta(r))[0]),
                         num(stage_ratio(r, last_hidden(r))), num(stage_ratio(r, "output")), num(value_of(floor))])
        page.lines += [f"## 1. Where a perturbation dies out (analysis.damping, eps = {eps}, n = {damping['n']})", ""]
        source = damping.get("source") or "none"
        page.table(["model", "clean %", "redraw flip %", "white-box FGSM adv %", "transfer adv %", "random adv %",
                    "input change", "last hidden / input", "output / input", "input-spike noise floor"], rows,
                   f"Change ratios use the transfer perturbation (FGSM on the source CNN {source}), the same d for "
                   "every model; a ratio below 1 means the network shrinks the perturbation, above 1 that it "
                   "amplifies it.")
        page.fig("damping", captions.damping(damping))
        page.fig("gallery", captions.gallery())
    else:
        page.lines += [f"## 1. Where a perturbation dies out (analysis.damping --from-sweep, eps = "
                       f"{converged['eps']:g})", ""]
    if converged:
        converged_table(page, converged)
    page.claim(damping_claim(damping, leak_sweep, converged))
    # analysis.compare measures the same models on five times the images, with PGD too: that is the
    # black-box claim's evidence when it is there; the damping data stand in only without it.
    if damping and judge_blackbox:
        page.claim(blackbox_damping_claim(damping))


def converged_table(page: Report, converged: dict) -> None:
    """The converged models over seeds (analysis.damping --from-sweep, analysis.damping_seeds): a row per model
    kind, every ratio with its 95 % interval over seeds, and the figure."""
    models = [converged["models"][k] for k in MODEL_ORDER if k in converged["models"]]
    budget = converged["budget"]
    page.lines += [f"### Converged models over seeds (the leak sweep's reference points, {budget['n_train']:,} "
                   f"training images, n = {', '.join(str(n) for n in sorted({m['n'] for m in models}))} per seed)", ""]
    rows = []
    for m in models:
        t = m["deltas"].get("transfer") or {}
        hidden = last_hidden(m)
        floor = m.get("noise_floor") or {}
        rows.append([m["label"], str(m["n_seeds"]), pooled_text(m["clean"], 100, ".1f"), pct(t.get("adv_accuracy")),
                     pooled_text((t.get("change") or {}).get(m["stages"][0])),
                     f"{pooled_text((t.get('ratio') or {}).get(hidden))} ({hidden})", pooled_text(t.get("gain")),
                     pooled_text((m["deltas"].get("fgsm") or {}).get("gain")),
                     pooled_text((m["deltas"].get("random") or {}).get("gain")),
                     pooled_text((t.get("change") or {}).get("output")), pooled_text(floor.get("output"))])
    one = [m["label"] for m in models if m["n_seeds"] == 1]
    page.table(["model", "seeds", "clean %", "transfer adv %", "input change", "last hidden / input",
                "output / input (gain)", "gain, white-box FGSM", "gain, random", "output change",
                "output noise floor"], rows,
               "Each number is the mean over the model's seeds with its 95 % t-interval over them in brackets (a "
               "ratio is taken per seed, then pooled)"
               + (f"; {', '.join(one)}: one seed, so its bracket is the bootstrap interval over the test images, not "
                  "an interval over seeds" if one else "")
               + ". Ratios to the input's change use the transfer perturbation (FGSM on the source CNN), the same d "
               "for every model, unless the column names another; a gain below 1 means the network shrinks the "
               "perturbation, above 1 that it amplifies it. The output noise floor is the change between two clean "
               f"Poisson draws, to read the output change against. `{converged_cmd(converged)}` rebuilds these "
               "numbers from the sweep's points.")
    page.fig("damping_converged", captions.converged_damping(converged))


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
    for name, matrix in (made.get("transfer_matrix") or {}).items():
        page.lines += [f"Transfer matrix ({name}, analysis.transfer_matrix, eps {matrix['eps']:g}, n {matrix['n_test']}): "
                       f"[transfer_matrix.md](transfer_matrix/{name}/transfer_matrix.md).", ""]
        page.claim(transfer_claim(matrix))
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
    damping, size = made.get("damping"), made.get("attack_size")
    if damping or made.get("attack") or size:
        page.lines += ["## 5. Accuracy against epsilon", ""]
        if "accuracy_vs_eps" in page.figures:
            page.fig("accuracy_vs_eps", captions.accuracy_vs_eps(damping))
        elif damping:
            page.absent("accuracy against eps of the damping models (each was measured at one eps only)", EPS_CMD)
        if made.get("attack"):
            page.fig("attack_runs", captions.attack_runs(made["attack"]))
        size_section(page, size)
    if {"receptive_fields", "raster"} & set(page.figures):
        page.lines += ["## 6. The Brian2 network", ""]
        page.fig("receptive_fields", (f"Input weights learned by STDP ({made.get('receptive_fields')}) and their "
                                      "sparsity.", []))
        page.fig("raster", captions.raster((damping or {}).get("settings", {}).get("bio", "the damping run")))


def ci_text(p: dict | None) -> str:
    """"84.0 [81.6, 86.2]": a proportion in % with its 95 % interval; "-" when not measured."""
    if p is None:
        return "-"
    return f"{pct(p['value'])} [{pct(p['ci95'][0])}, {pct(p['ci95'][1])}]"


def size_section(page: Report, series: dict | None) -> None:
    """Issue 27's size series (analysis.size_series): a row per network size, clean and under each attack with
    their 95 % intervals, the trend from the smallest size to the largest, and the figure; without any size
    measured, the line that names the commands."""
    if not series or not series["sizes"]:
        page.absent("accuracy against network size", size_series.ALL_CMD)
        return
    sizes = series["sizes"]
    keys = sorted({(r["attack"], r["eps"]) for s in sizes for r in s["rows"]}, key=lambda k: (k[0] != "fgsm", k))
    steps = next((s["pgd_steps"] for s in sizes if s.get("pgd_steps")), None)
    page.lines += ["### Accuracy against network size (analysis.attack, attack/size-n*)", ""]
    page.table(["excitatory neurons", "n", "clean %"]
               + [f"{size_series.attack_label(a, steps)} eps {e:g} %" for a, e in keys],
               [[f"{s['n_exc']:,}" + (f" (epoch {s['epoch']} weights)" if s.get("epoch") else ""), str(s["n"]),
                 ci_text(s["clean"])]
                + [ci_text((size_series.row(s, a, e) or {}).get("adv_accuracy")) for a, e in keys] for s in sizes],
               f"Brian2's accuracy ({series['readout']} readout) on the first n test images, attacks crafted on the "
               f"twin with the project's protocol (docs/attacks.md), one trained network per size (seed 0); in "
               f"brackets the {series['interval']}, the images' sampling only (not the training's). "
               + size_series.trend_text(series) + size_series.pgd_gain_text(series))
    page.fig("attack_size", captions.attack_size(series))


def evaluated(made: dict):
    """(label, evaluation, n) of every model measured, from damping and the sweeps."""
    for res in (made.get("damping") or {}).get("models", {}).values():
        for e in res.values():
            yield f"damping: {e['label']}", e, e["n"]
    for name in ("leak_sweep", "timestep_sweep"):
        for p in (made.get(name) or {}).get("points", []):
            j = p["job"]
            if "craft_at" in j:   # crafted on another model: its "white-box" FGSM is a transfer, not to check
                continue
            tag = {"snn": "SNN leak {leak:g}, T {T}", "cnn": "CNN", "converted": "converted SNN, T {T}",
                   "bio": "Brian2 tau {tau_exc_ms:g} ms, {present_ms:g} ms"}[j["kind"]].format(**j)
            tag += f", {j['encoding']} input" if "encoding" in j else ""
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


def front_matter(made: dict, claims: list[Claim], forest: list[str]) -> list[str]:
    """The title, what the verdicts mean and their limits, stale inputs, the table of seed claims, what must
    be read with it (FGSM against the worst case, gradient obfuscation) and the forest plot (``forest``: its
    lines)."""
    head = ["# Why spiking networks resist attacks: results", "",
            f"Generated by `python -m analysis.figures` on {datetime.date.today().isoformat()} from saved JSON/NPZ. "
            "Seed claims are from Sharmin et al. (2019, 2020); a difference counts only when it exceeds two standard "
            "errors of the difference of two proportions on the test set used (with several seeds per sweep point: "
            "Welch's t-test at 5 % on the seeds' values, so training noise counts too).", "",
            "Each part of a claim is an effect with its 95 % interval, in brackets after the estimate (two standard "
            "errors where a proportion on one test set is all there is): reproduced when the interval excludes 0 on "
            "the claim's side, reversed on the other; a sweep part is 'no effect' when its whole interval lies within "
            f"±{NO_EFFECT_POINTS:g} ASR points (a damping part over seeds: ±{NO_EFFECT_RATIO:g} of the input's change), "
            "inconclusive when it includes 0 and larger effects too. A claim is "
            "reproduced when every counted part is, 'no effect' when every part is, inconclusive when every part is, "
            "'partly' (its parts named) when some are reproduced, not reproduced otherwise. The forest plot below "
            "the table shows every part."
            + (f" A part whose claim is that there is no effect ('claim = 0' in the plot) is reproduced when its whole "
               f"interval lies within ±{NO_EFFECT_POINTS:g} points, 'effect found' when it excludes 0 and reaches "
               "beyond that." if any(e.expect == 0 for c in claims for e in c.effects) else ""), "",
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
    head += ([f"| {c.statement} | **{c.verdict}**{': ' + c.parts if c.parts else ''} | {c.numbers} |" for c in claims]
             or ["| (no results yet) | - | - |"])
    flags = [f"- {c.statement}: {f}" for c in claims for f in c.flags]
    if flags:
        head += ["", "**Read with the verdicts** (the attacks disagree, or an effect depends on the gradient):", ""] \
            + flags
    return head + ([""] + forest[:-1] if forest else [])   # the forest's last line is blank: the join adds one


def write_report(res_dir: Path, made: dict, notes: list[str]) -> Path:
    """REPORT.md from what analysis.figures read and drew (``made``; its "figures": the Drawn of each figure),
    and the forest plot of the claims beside it; the captions go to made["captions"] too, the claims to
    made["claims"]. A missing input adds a line to ``notes``."""
    out = res_dir / "REPORT.md"
    page = Report(out, made.setdefault("figures", {}))
    made["captions"] = page.captions
    damping, leak_sweep, timestep_sweep = made.get("damping"), made.get("leak_sweep"), made.get("timestep_sweep")
    converged = made.get("damping_converged")
    if damping or converged:
        damping_section(page, damping, leak_sweep, judge_blackbox=not made.get("compare"), converged=converged)
    if not damping:
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
    made["claims"] = page.claims
    forest = forest_figure(page.claims, res_dir / "claims_forest")
    if forest is not None:
        page.figures["claims_forest"] = forest
    lines = page.figure_lines("claims_forest", captions.claims_forest(page.claims))
    out.write_text("\n".join(front_matter(made, page.claims, lines) + [""] + page.lines + tail) + "\n")
    return out
