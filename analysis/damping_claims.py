"""Sharmin et al.'s damping claim: ReLU passes a perturbation on, LIF neurons damp it layer by layer.

:func:`damping_claim` decides it over seeds, as the sweeps' claims are decided, when analysis.damping
--from-sweep's ``converged.json`` (analysis.damping_seeds: the converged leak sweep's reference models, pooled
over seeds) has two seeds or more of the SNN and of the CNN (:func:`seeds_damping`: differences of the SNN's
and the CNN's gain and last-hidden-layer ratio under the same transferred d, each with Welch's 95 % interval
over the seeds); else on one model per kind (:func:`single_damping`: analysis.damping's ``damping.json``, or
without it one converged seed), from the bootstrap intervals over the test images (:func:`change_effect`,
:func:`damped_effect`), and says so in the claim's statement when converged data exist but are too few.
analysis.seed_claims re-exports it with the other claims; reads saved results only.
"""
from __future__ import annotations

import math

from analysis.damping_seeds import seeds_of
from analysis.defaults import MODEL_ORDER, REF
from analysis.effects import NO_EFFECT_RATIO, Claim, Effect, from_effects, interval_text, sign_of, status, welch_interval
from analysis.saved_results import FULL, last_hidden, main_eps, num, points_of, pooled_text, stage_ratio, value_of
from analysis.verdicts import ci_of, stated


# --- one model per kind: bootstrap intervals over the test images ------------------------------------
def change_effect(name: str, a: dict, stage_a: str, b: dict, stage_b: str, delta: str = "transfer") -> Effect:
    """a's change at stage_a minus b's at stage_b, relative to the input's change (the same d on the same images,
    so the same for both). Its interval runs between the far ends of the two bootstrap intervals, so it
    excludes 0 exactly when they are disjoint (verdicts.ci_below's test): wider than a 95 % interval of the
    difference. The claim: a (the SNN) lower."""
    (lo_a, hi_a), (lo_b, hi_b) = ci_of(a, stage_a, delta), ci_of(b, stage_b, delta)
    va, vb = (value_of(r["deltas"][delta]["change"][st]) for r, st in ((a, stage_a), (b, stage_b)))
    inp = value_of(a["deltas"][delta]["change"][a["stages"][0]])
    return Effect(name, (va - vb) / inp, (lo_a - hi_b) / inp, (hi_a - lo_b) / inp, "relative change", -1,
                  how="from the two bootstrap intervals")


def damped_effect(name: str, res: dict, stage: str, delta: str = "transfer") -> Effect:
    """The change at ``stage`` over the input's, minus 1, with its bootstrap interval (verdicts.damped's
    test): below 0 damped."""
    first = value_of(res["deltas"][delta]["change"][res["stages"][0]])
    lo, hi = ci_of(res, stage, delta)
    v = value_of(res["deltas"][delta]["change"][stage])
    return Effect(name, v / first - 1, lo / first - 1, hi / first - 1, "relative change", -1, how="bootstrap interval")


# --- the damping models and the converged ones ---------------------------------------------------
def damping_models(damping: dict) -> dict:
    """Model -> its analysis.damping result at the report's eps (saved_results.main_eps), in MODEL_ORDER."""
    eps = main_eps(damping)
    return {k: damping["models"][k][eps] for k in MODEL_ORDER if k in damping["models"] and eps in damping["models"][k]}


DAMPING_STATEMENT = "ReLU passes a perturbation on, LIF neurons damp it layer by layer"


def damping_claim(damping: dict | None, leak_sweep: dict | None = None, converged: dict | None = None) -> Claim | None:
    """ReLU passes a perturbation on, LIF neurons damp it: the SNN's change, relative to the input's, is below
    the CNN's at the last hidden layer and the output, under the same transferred d; the Brian2 network damps
    it too. Decided over seeds like the sweeps (:func:`seeds_damping`) when ``converged`` (analysis.damping
    --from-sweep: the converged leak sweep's reference models, analysis.damping_seeds) has at least two seeds of
    the SNN and of the CNN; else on one model per kind (:func:`single_damping`): analysis.damping's
    ``damping`` (with the leak sweep's reference SNN against its CNN), labelled so when ``converged`` is
    there, or, without it, the converged models' one seed."""
    if seeds_of(converged, "snn") >= 2 and seeds_of(converged, "cnn") >= 2 \
            and all("transfer" in converged["models"][k]["deltas"] for k in ("snn", "cnn")):
        return seeds_damping(converged)
    if damping:
        claim = single_damping(damping_models(damping), main_eps(damping), damping["n"], leak_sweep)
        if claim and converged:
            claim = claim._replace(statement=f"{DAMPING_STATEMENT} [one model per kind, analysis.damping; the "
                                             f"converged models have {seeds_of(converged, 'snn')} SNN and "
                                             f"{seeds_of(converged, 'cnn')} CNN seeds, too few for an interval over "
                                             "seeds]")
        return claim
    models = {k: m for k, m in (converged or {}).get("models", {}).items() if m.get("n_seeds") == 1}
    if not models:
        return None
    claim = single_damping(models, f"{converged['eps']:g}", min(m["n"] for m in models.values()))
    return claim and claim._replace(statement=f"{DAMPING_STATEMENT} [one converged model per kind, seed "
                                              f"{next(iter(models.values()))['seeds'][0]}: bootstrap intervals "
                                              "over the test images]")


def single_damping(models: dict, eps: str, n: int, leak_sweep: dict | None = None) -> Claim | None:
    """:func:`damping_claim` on one model per kind (kind -> an analysis.measurement result): each part from
    the bootstrap intervals over the test images (:func:`change_effect`, :func:`damped_effect`)."""
    cnn, snn = models.get("cnn"), models.get("snn")
    if not (cnn and snn and "transfer" in snn["deltas"] and "transfer" in cnn["deltas"]):
        return None
    # The same d and images for both, so their changes at a stage compare directly; a sub-finding
    # counts only when the bootstrap intervals do not overlap.
    cnn_layer, snn_layer = last_hidden(cnn), last_hidden(snn)
    effects = [change_effect(f"SNN - CNN, last hidden / input ({snn_layer} vs {cnn_layer})", snn, snn_layer, cnn,
                             cnn_layer),
               change_effect("SNN - CNN, output / input", snn, "output", cnn, "output")]
    signs = [sign_of(e) for e in effects]
    text = (f"same d (FGSM transferred from the source CNN, eps {eps}, n {n}), change relative to the "
            f"input's: last hidden layer CNN {num(stage_ratio(cnn, cnn_layer))} ({cnn_layer}) vs SNN "
            f"{num(stage_ratio(snn, snn_layer))} ({snn_layer}; {stated(signs[0])}); output CNN "
            f"{num(stage_ratio(cnn, 'output'))} vs SNN {num(stage_ratio(snn, 'output'))} ({stated(signs[1])}); "
            f"the CNN itself passes {num(stage_ratio(cnn, cnn_layer))} of it on, not all")
    if "bio" in models and "transfer" in models["bio"]["deltas"]:   # conductance-based LIF neurons too
        bio = models["bio"]
        effects.append(damped_effect("Brian2 network, exc counts / input - 1", bio, "exc counts"))
        text += (f"; Brian2 network (conductance LIF): exc counts / input {num(stage_ratio(bio, 'exc counts'))} "
                 f"({stated(sign_of(effects[-1]), 'damped', 'amplified')}), output / input "
                 f"{num(stage_ratio(bio, 'output'))}")
    if "converted" in models:
        converted = models["converted"]
        text += (f"; converted IF SNN: last hidden / input {num(stage_ratio(converted, last_hidden(converted)))}, "
                 f"output / input {num(stage_ratio(converted, 'output'))}")
    sweep_cnn = points_of(leak_sweep, "cnn", "levels", {"levels": FULL}) if leak_sweep else []
    sweep_snn = points_of(leak_sweep, "snn", "leak", {"levels": FULL}) if leak_sweep else []
    reference = next((p for p in sweep_snn if p["job"]["leak"] == REF["leak"]), None)
    if sweep_cnn and reference and "transfer" in reference["eval"]["deltas"]:
        # the sweep's CNN and SNN share a training budget and the same d on the same images
        sweep_cnn_eval, sweep_snn_eval = sweep_cnn[0]["eval"], reference["eval"]
        effects.append(change_effect(f"leak sweep: SNN leak {REF['leak']:g} - CNN, last hidden / input",
                                     sweep_snn_eval, last_hidden(sweep_snn_eval), sweep_cnn_eval,
                                     last_hidden(sweep_cnn_eval)))
        text += (f"; leak sweep's models (same training budget): last hidden / input CNN "
                 f"{num(stage_ratio(sweep_cnn_eval, last_hidden(sweep_cnn_eval)))} vs SNN leak {REF['leak']:g} "
                 f"{num(stage_ratio(sweep_snn_eval, last_hidden(sweep_snn_eval)))} ({stated(sign_of(effects[-1]))}), "
                 "over leaks " + ", ".join(
                     f"{p['job']['leak']:g}: {num(stage_ratio(p['eval'], last_hidden(p['eval'])))}"
                     for p in sweep_snn[::-1]))
    return from_effects(DAMPING_STATEMENT, effects, text)


def seeds_effect(name: str, a: dict, b: dict, **kw) -> Effect:
    """a - b of two pooled ratios of analysis.damping_seeds (one per model) over their seeds: Welch's 95 %
    interval (analysis.effects.welch_interval), as the sweeps' ends are compared. The claim: a (the SNN) lower."""
    sa, sb = a["per_seed"], b["per_seed"]
    return Effect(name, *welch_interval(sa, sb), "relative change", -1, margin=NO_EFFECT_RATIO,
                  how=f"Welch, {len(sa)} and {len(sb)} seeds", **kw)


def seeds_stated(e: Effect) -> str:
    """An over-seeds part in words: which model is lower where the interval says so, else its status (no effect
    within the margin, inconclusive beyond it)."""
    return stated(sign_of(e)) if sign_of(e) else status(e)


def seeds_damping(converged: dict) -> Claim:
    """:func:`damping_claim` over seeds, on analysis.damping_seeds' pooled reference models (SNN and CNN with
    two seeds or more): the SNN's gain (output change over input change, per seed) and its last hidden layer's
    change over the input's, each minus the CNN's under the same transferred d, with Welch's interval over the
    seeds (counted); the same gain difference under each model's own white-box FGSM and under random signs
    (shown, not counted); the Brian2 network's exc counts over its input (a t-interval over its seeds, counted
    from two seeds on)."""
    models, eps = converged["models"], converged["eps"]
    cnn, snn = models["cnn"], models["snn"]
    ks, kc = snn["n_seeds"], cnn["n_seeds"]
    cnn_layer, snn_layer = last_hidden(cnn), last_hidden(snn)
    ct, st = cnn["deltas"]["transfer"], snn["deltas"]["transfer"]
    effects = [seeds_effect("SNN - CNN gain (output / input), same transferred d", st["gain"], ct["gain"]),
               seeds_effect(f"SNN - CNN, last hidden / input ({snn_layer} vs {cnn_layer}), same transferred d",
                            st["ratio"][snn_layer], ct["ratio"][cnn_layer])]
    text = (f"converged reference models of the leak sweep (SNN leak {REF['leak']:g}, T {REF['T']}: {ks} seeds; CNN: "
            f"{kc} seeds; n {min(cnn['n'], snn['n'])} test images each, eps {eps:g}), mean over seeds [95 % "
            f"t-interval]; same d (FGSM transferred from the source CNN), change relative to the input's: output "
            f"(gain) CNN {pooled_text(ct['gain'])} vs SNN {pooled_text(st['gain'])}, SNN - CNN "
            f"{interval_text(effects[0], '+.2f')} (Welch; {seeds_stated(effects[0])}); last hidden layer CNN "
            f"{pooled_text(ct['ratio'][cnn_layer])} ({cnn_layer}) vs SNN {pooled_text(st['ratio'][snn_layer])} "
            f"({snn_layer}), SNN - CNN {interval_text(effects[1], '+.2f')} ({seeds_stated(effects[1])})")
    floor = (snn.get("noise_floor") or {}).get("output")
    if floor and floor.get("value") is not None:
        text += (f"; the SNN's Poisson noise floor at the output {pooled_text(floor)} against the transferred d's "
                 f"change there {pooled_text(st['change']['output'])}")
    for name, what, note in (("fgsm", "white-box FGSM, each model's own d", "each model's own d: not the same "
                              "perturbation"), ("random", "random signs", "control")):
        if name in cnn["deltas"] and name in snn["deltas"]:
            c, s = cnn["deltas"][name]["gain"], snn["deltas"][name]["gain"]
            effects.append(seeds_effect(f"SNN - CNN gain, {what}", s, c, counted=False, note=note))
            text += (f"; gain under {what}: CNN {pooled_text(c)} vs SNN {pooled_text(s)} "
                     f"({seeds_stated(effects[-1])}, not counted)")
    bio = models.get("bio")
    r = (bio or {}).get("deltas", {}).get("transfer", {}).get("ratio", {}).get("exc counts")
    if r and r.get("value") is not None:
        lo, hi = r["ci95"] or (math.nan, math.nan)
        several = bio["n_seeds"] >= 2
        effects.append(Effect("Brian2 network, exc counts / input - 1", r["value"] - 1, lo - 1, hi - 1,
                              "relative change", -1, counted=several,
                              how=f"t-interval over {bio['n_seeds']} seeds" if several else "bootstrap interval",
                              note="" if several else "one seed"))
        text += (f"; Brian2 network (conductance LIF, tau_exc {REF['tau_exc_ms']:g} ms, {bio['n_seeds']} "
                 f"seed{'s' if several else ''}): exc counts / input {pooled_text(r)} "
                 f"({stated(sign_of(effects[-1]), 'damped', 'amplified')}"
                 f"{'' if several else '; one seed, not counted'}), gain "
                 f"{pooled_text(bio['deltas']['transfer']['gain'])}")
    return from_effects(f"{DAMPING_STATEMENT} [converged models, intervals over seeds]", effects, text)
