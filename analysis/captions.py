"""REPORT.md's figure captions, built from the same saved data as the figures.

Each function returns (sentence, promises): ``promises`` are the texts the sentence names that a reader
must find in the picture (a panel's title, a legend entry); analysis.report prints the sentence, and the
tests check every promise against what the figure drew (analysis.plotting.Drawn). A caption names only
what the data hold, so it cannot promise a series the picture lacks.
"""
from __future__ import annotations

from analysis.attack_figures import SIZE_PANELS, size_lines
from analysis.damping_figures import FLOOR_LABEL, GAIN_LABEL, model_key
from analysis.defaults import DSET_NAMES, MODEL_ORDER, REF
from analysis.forest_figure import COUNTED, PANELS, SHOWN, family
from analysis.plotting import CI_BOOT, CI_SEEDS, CI_WILSON, DELTAS, SETTINGS, model_rank, net_of
from analysis.saved_results import PROTOCOLS, main_eps, quant_points, reference_series
from analysis.sweep_figures import ENCODINGS, QUANT_MODELS, encoding_bars, suite_lines, timestep_columns, \
    with_reference

NO_BARS = "no error bars (one model each)"


def joined(items) -> str:
    items = list(items)
    return ", ".join(items[:-1]) + (" and " if len(items) > 1 else "") + (items[-1] if items else "")


def damping(data: dict) -> tuple[str, list[str]]:
    eps = main_eps(data)
    res = [data["models"][k][eps] for k in MODEL_ORDER if k in data["models"] and eps in data["models"][k]]
    models = [r["label"] for r in res]
    deltas = [DELTAS[n][1] for n in DELTAS if any(n in r["deltas"] for r in res)]
    floor = ["Poisson noise floor (two clean draws)"] if any(r.get("noise_floor") for r in res) else []
    text = (f"Relative L1 change per stage at eps {eps}, a panel per model ({joined(models)}; colour: the model), a "
            f"line style per perturbation: {joined(deltas)}" + ("; grey dotted: the " + floor[0] if floor else "")
            + f"; {CI_BOOT}.")
    return text, models + deltas + floor


def converged_damping(data: dict) -> tuple[str, list[str]]:
    """The caption of analysis.damping_figures.converged_figure."""
    models = [data["models"][k] for k in MODEL_ORDER if k in data["models"]]
    keys = [model_key(m) for m in models]
    deltas = [DELTAS[n][1] for n in DELTAS if any(n in m["deltas"] for m in models)]
    floor = [FLOOR_LABEL] if any(m.get("noise_floor") for m in models) else []
    one = any(m["n_seeds"] == 1 for m in models)
    text = (f"The converged models at their reference setting, from the leak sweep's points (analysis.damping "
            f"--from-sweep): relative L1 change per stage at eps {data['eps']:g}, a panel per perturbation "
            f"({joined(deltas)}), a line per model ({joined(keys)}) on a shared depth axis (SNN: spike rates of each "
            f"layer; Brian2: exc spike counts)" + (f"; dotted, in the model's colour: its {floor[0]}" if floor else "")
            + f"; last panel: each model's {GAIN_LABEL}; {CI_SEEDS}"
            + ("; a model with one seed: bootstrap 95 % interval over the test images" if one else "") + ".")
    return text, keys + deltas + floor + [GAIN_LABEL]


def gallery() -> tuple[str, list[str]]:
    return ("Clean test images (top row), then per perturbation (each model's own white-box FGSM, the transferred "
            "FGSM, random signs) the perturbation d and the perturbed image x + d.", ["clean", "perturbation d", "x + d"])


def _bars(summary: dict) -> str:
    return CI_SEEDS if summary["settings"].get("seeds", 1) > 1 else "no error bars (one seed)"


def _sweep(summary: dict, columns: list[tuple[str, list, list]], what: str) -> tuple[str, list[str]]:
    """``columns``: (title, points, reference-protocol series) of each model."""
    titles = [t for t, pts, _ in columns if pts]
    deltas = [DELTAS[n][1] for n in DELTAS if any(n in p["eval"]["deltas"] for _, pts, _ in columns for p in pts)]
    extra = list(dict.fromkeys(label for _, pts, ref in columns for label, *_ in suite_lines(pts, ref)))
    protocols = (f"hollow markers, dash-dotted: {PROTOCOLS['reference']}; the others {PROTOCOLS['swept']}; "
                 if any(PROTOCOLS["reference"] in label for label in extra) else "")
    text = (f"Accuracy against {what} (top) and the change per stage at each value (bottom), a column per model "
            f"({joined(titles)}): clean (grey) and {joined(deltas + extra)} (line styles; {protocols}the CNN's as "
            f"thin horizontal lines); {_bars(summary)}.")
    return text, titles + ["clean"] + deltas + extra + [_bars(summary)]


def leak_sweep(summary: dict) -> tuple[str, list[str]]:
    return _sweep(summary, [("surrogate-gradient SNN", *with_reference(summary, "snn", "leak", {"levels": 256})),
                            ("Brian2 STDP network", *with_reference(summary, "bio", "tau_exc_ms", {"levels": 256}))],
                  "leak")


def timestep_sweep(summary: dict) -> tuple[str, list[str]]:
    columns = [(title, pts, kw["protocol_ref"]) for title, pts, _, _, _, kw, _ in timestep_columns(summary)]
    return _sweep(summary, columns, "time steps / presentation time")


def quantization_sweep(summary: dict) -> tuple[str, list[str]]:
    kinds = [k for k in QUANT_MODELS if len(quant_points(summary, k)) >= 2]
    models = [QUANT_MODELS[k][1] for k in kinds]
    extra = list(dict.fromkeys(
        label for k in kinds for label, *_ in suite_lines(
            quant_points(summary, k), reference_series(quant_points(summary, k), quant_points(summary, k, "reference"),
                                                       "levels")[0])))
    text = (f"Accuracy against quantization levels (left) and how much of d survives quantization (right), for "
            f"{joined(models)} (colour: the model; line style: clean, white-box FGSM, transfer"
            + (f", {', '.join(extra)}" if extra else "") + f"); {_bars(summary)}. "
            "Left of the dash-dotted line half a level step exceeds eps, so rounding removes most of d; right of it a "
            "pixel near a rounding boundary jumps a whole step, more than eps.")
    return text, models + extra + ["how much of d survives quantization", _bars(summary)]


def encoding(summary: dict) -> tuple[str, list[str]]:
    """The encoding figure (analysis.sweep_figures.encoding_figure): the same surrogate SNN with Poisson and
    direct input."""
    shown, measures, _ = encoding_bars(summary)
    labels = [ENCODINGS[e][0] for e, _ in shown]
    T = shown[0][1]["job"]["T"] if shown else REF["T"]
    names = [label for label, _ in measures]
    text = (f"Accuracy of the same surrogate SNN (T {T}) with {joined(labels)} (filled: Poisson, hatched: direct), "
            f"side by side for each measure: {joined(names)} (its value at the bar's end); {_bars(summary)}.")
    return text, labels + names + [_bars(summary)]


def compare(name: str, summary: dict, dot: bool) -> tuple[str, list[str]]:
    s = summary["settings"]
    models = [m["label"] for m in sorted(summary["models"], key=lambda m: model_rank(net_of(m["net"])))]
    sources = [f"black-box from {summary['sources'][r]['label']}" for r in summary["sources"]]
    eps = ", ".join(f"{e:g}" + (f" ({e * 255:.0f}/255)" if s["dset"] == "cifar10" else "") for e in s["eps"])
    worst = [SETTINGS["worst"][2]] if summary.get("worst_case") else []
    head = (f"analysis.compare's {name} ({DSET_NAMES.get(s['dset'], s['dset'])}, eps {eps}, the first "
            f"{summary['n_test']} test images; {NO_BARS}); models {joined(models)}. ")
    if dot:
        body = ("A panel per eps, a row per model: " + (f"the {worst[0]} as a bar, " if worst else "")
                + f"each white-box attack ({', '.join(a.upper() for a in s['attacks'])}) as an open marker, "
                f"{joined(sources)} as filled markers, clean as a grey tick.")
        return head + body, models + worst + ["clean"] + sources
    body = ("Accuracy against eps (clean at eps 0), " + (f"a panel for the {worst[0]} and " if worst else "")
            + f"one per attack family ({', '.join(a.upper() for a in s['attacks'])}): white-box solid, "
            f"{joined(sources)} dashed.")
    return head + body, models + worst + sources


def weight_sparsity(summary: dict) -> tuple[str, list[str]]:
    models = [m["label"] for m in summary["models"].values()]
    return (f"First-layer weight magnitudes, each divided by the largest into its unit (left), and the sparsity per "
            f"layer (right) of {joined(models)}; {NO_BARS}.", ["first-layer weight magnitudes", "sparsity per layer"]
            + models)


def accuracy_vs_eps(data: dict) -> tuple[str, list[str]]:
    runs = [next(iter(data["models"][k].values())) for k in MODEL_ORDER
            if k in data["models"] and len(data["models"][k]) > 1]
    models = [r["label"] for r in runs]
    deltas = [DELTAS[n][1] for n in DELTAS]
    return (f"The damping models measured at several eps ({joined(models)}), a column each: accuracy (top) under "
            f"{joined(deltas)}, and how much of d reaches the last hidden layer (bottom); no error bars.",
            models + ["clean"] + deltas)


def attack_runs(summaries: dict) -> tuple[str, list[str]]:
    runs = [f"run {name}" for name in summaries]
    query = any(r["attack"] in ("square", "square-art") for s in summaries.values() for r in s["results"])
    return (f"The Brian2 STDP networks of analysis.attack, a panel per run ({joined(runs)}): accuracy against eps "
            "under the attacks crafted on the twin and scored on Brian2 (solid), the same attack scored on the twin "
            "(dashed)" + (", query black-box attacks on Brian2 alone (dash-dotted, on their own subset)" if query
                          else "") + "; no error bars. Each run's own figure lies beside its attack.json.",
            runs + ["crafted on the twin", "the same attack scored on the twin"] + (["query black-box"] if query else []))


def attack_size(series: dict) -> tuple[str, list[str]]:
    """The caption of analysis.attack_figures.size_figure (issue 27's size series)."""
    sizes = [f"{s['n_exc']:,}" for s in series["sizes"]]
    lines = [label for label, _, _ in size_lines(series)]
    n = sorted({s["n"] for s in series["sizes"]})
    text = (f"The Brian2 STDP network at {joined(sizes)} excitatory neurons (analysis.attack, the first "
            f"{joined(str(k) for k in n)} test images; attacks crafted on the twin, scored on Brian2): "
            f"{SIZE_PANELS[0]} (left) and {SIZE_PANELS[1]} (right) against the network's size, a line each for "
            f"{joined(lines)}; {CI_WILSON}.")
    return text, lines + list(SIZE_PANELS) + [CI_WILSON]


def raster(run: str) -> tuple[str, list[str]]:
    return (f"Input, excitatory and inhibitory spikes of the frozen network ({run}, the one of section 1) on the first "
            "test image: sparse exc activity, each exc spike followed by its inh partner.",
            ["input", "exc", "inh"])


def claims_forest(claims) -> tuple[str, list[str]]:
    """The forest plot of the seed claims (analysis.forest_figure), from the claims it draws."""
    units = [PANELS[k] for k in PANELS if any(family(e.unit) == k for c in claims for e in c.effects)]
    shown = [SHOWN] if any(not e.counted for c in claims for e in c.effects) else []
    text = (f"Every seed claim's parts as effects, one row per part under its claim: the estimate and its 95 % "
            f"interval (sweeps: Welch over the seeds; analysis.compare and clean accuracy: two standard errors on "
            f"the test images; damping: between the far ends of the two bootstrap intervals, so wider), "
            f"{joined(units)}{' (a panel each)' if len(units) > 1 else ''}; filled: {COUNTED}" + (f", hollow: {SHOWN}" if shown else "")
            + "; vertical line: zero" + (" (dotted: the no-effect margin of the parts that have one)" if any(
                e.margin for c in claims for e in c.effects) else "")
            + "; each part's status at its right. The same numbers as the table above (claims_forest.json beside "
              "the figure).")
    return text, units + [COUNTED] + shown
