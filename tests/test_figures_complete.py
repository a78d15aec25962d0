"""Every figure of REPORT.md shows what its caption says, reads at a page's width, and a panel whose data
are missing is left out and named in the caption (issue #31).

The inputs are small copies of the project's saved results (results/), trimmed or with parts removed in
tmp_path; nothing is trained or attacked. A run of analysis.figures takes seconds.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from analysis import figures
from analysis.damping_figures import EPS_CMD
from analysis.plotting import DPI, PAGE

SAVED = Path(__file__).resolve().parents[1] / "results"
needs_saved = pytest.mark.skipif(not (SAVED / "damping" / "damping.json").exists(), reason="no saved results")


def copy(rel: str, res: Path, edit=None) -> None:
    """results/REL into res/REL, a JSON file passed through ``edit`` first."""
    dst = res / rel
    dst.parent.mkdir(parents=True, exist_ok=True)
    if edit is None:
        shutil.copy(SAVED / rel, dst)
    else:
        dst.write_text(json.dumps(edit(json.loads((SAVED / rel).read_text()))))


def first_models(k: int):
    """A compare.json cut to its first k models: a smaller table of the same shape."""
    def edit(s):
        keep = {m["key"] for m in s["models"][:k]}
        s["models"] = s["models"][:k]
        s["cells"] = [c for c in s["cells"] if c["target"] in keep]
        s["worst_case"] = [c for c in s.get("worst_case", []) if c["target"] in keep]
        return s
    return edit


def draw(res: Path, tmp_path: Path) -> tuple[dict, str]:
    made = figures.main(["--results", str(res), "--bio-run", str(tmp_path / "none"), "--runs", str(tmp_path / "none")])
    return made, (res / "REPORT.md").read_text()


@needs_saved
def test_every_caption_names_what_its_figure_shows(tmp_path):
    res = tmp_path / "results"
    for rel in ("damping/damping.json", "damping/examples.npz", "damping/raster.npz", "sweeps/leak_sweep.json",
                "sweeps/timestep_sweep.json", "attack/n100-s0/attack.json", "attack/n400-query/attack.json",
                "weights/sparsity.json"):
        copy(rel, res)
    copy("compare/mnist/compare.json", res, first_models(3))       # one eps: a panel per eps
    copy("compare/mnist-eps/compare.json", res, first_models(2))   # five eps: a panel per attack family
    made, report = draw(res, tmp_path)
    drawn, captions = made["figures"], made["captions"]
    expected = {"damping", "gallery", "raster", "leak_sweep", "timestep_sweep", "quantization_sweep",
                "compare_mnist", "compare_mnist-eps", "attack_runs", "weight_sparsity", "claims_forest"}
    assert expected <= set(captions), sorted(expected - set(captions))
    for name, (caption, promises) in captions.items():
        assert promises, name
        for p in promises:   # named in the caption, and there in the picture
            assert p.lower() in caption.lower(), (name, p)
            assert drawn[name].shows(p), (name, p, sorted(drawn[name].texts))
    for name, d in drawn.items():
        assert d.path.exists() and d.path.with_suffix(".pdf").exists(), name
        assert d.size_px[0] <= round(PAGE * DPI), (name, d.size_px)   # at most a page wide: read at its size
    # the compare figures show the worst case per example, and each model once in the one order
    for name in ("compare_mnist", "compare_mnist-eps"):
        assert drawn[name].shows("worst case per example")
    # REPORT.md's figures lie beside their data, linked relative to it
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", report)
    assert links and all((res / link).exists() for link in links), links
    assert "compare/mnist/accuracy_under_attack.png" in links and "damping/damping.png" in links
    # a damping measured at one eps has no accuracy-against-eps figure: said where it would stand
    assert "accuracy_vs_eps" not in drawn and f"`{EPS_CMD}` makes it" in report
    # the forest plot of the claims, at the top, its data beside it: the claims' own effects, one row each
    assert "claims_forest.png" in report.split("## 1.")[0]
    rows = json.loads((res / "claims_forest.json").read_text())["rows"]
    assert [(r["claim"], r["part"], r["estimate"]) for r in rows] == [
        (c.statement, e.name, e.estimate) for c in made["claims"] for e in c.effects]
    assert {r["claim"] for r in rows} == {c.statement for c in made["claims"]}


@needs_saved
def test_missing_data_shrinks_the_figure_and_is_named(tmp_path):
    res = tmp_path / "results"

    def no_bio(s):   # a leak sweep whose Brian2 points are missing
        s["points"] = [p for p in s["points"] if p["job"]["kind"] != "bio"]
        return s

    def no_worst(s):   # a compare.json from before the worst-case suite
        s.pop("worst_case")
        return s

    def two_eps(d):   # the CNN measured at a second eps too (a copy, relabelled): the accuracy-vs-eps figure
        one = d["models"]["cnn"]["0.1"]
        d["models"]["cnn"]["0.2"] = {**one, "eps": 0.2}
        return d

    copy("sweeps/leak_sweep.json", res, no_bio)
    copy("compare/mnist-eps/compare.json", res, lambda s: no_worst(first_models(2)(s)))
    copy("damping/damping.json", res, two_eps)
    made, report = draw(res, tmp_path)
    drawn, captions = made["figures"], made["captions"]
    assert drawn["leak_sweep"].panels == 2   # the SNN's two panels; the Brian2 column is not drawn
    assert "Not drawn: Brian2 STDP network (no points); `python -m analysis.leak_sweep` makes it" in captions[
        "leak_sweep"][0]
    assert not drawn["leak_sweep"].shows("Brian2 STDP network")
    assert drawn["compare_mnist-eps"].panels == 2   # FGSM and PGD; no worst-case panel
    assert "Not drawn: the worst case per example" in captions["compare_mnist-eps"][0]
    assert "python -m analysis.compare --dset mnist" in captions["compare_mnist-eps"][0]
    assert "worst case" not in captions["compare_mnist-eps"][0].split("Not drawn")[0]   # not promised
    # a model measured at two eps: the accuracy-against-eps figure, a column for it alone
    assert drawn["accuracy_vs_eps"].panels == 2 and "accuracy_vs_eps" in captions
    assert drawn["accuracy_vs_eps"].shows("CNN")


# --- the time-step sweep's converted SNN and its Poisson-against-direct-input series (issue 28) -------------------
def sweep_of(converted: bool, direct: bool, poisson_listed: bool | None = None) -> dict:
    """A synthetic timestep_sweep.json, three seeds a point: the surrogate SNN by T (its T 8 point with the
    ensemble), the CNN and the SNN on 2 and 256 levels and, if asked, the converted SNN (T 16, 32, 64 at 256
    levels, its reference protocol crafted at T 32, and 2 and 4 levels at T 32; FGSM, BPDA, transfer, the suite's
    worst case) and the direct-input SNN at T 8. ``poisson_listed``: the summary lists both encodings (default:
    when ``direct``), the direct point computed or not."""
    from tests.test_report import N, evaluation, suite_point

    def conv(asr, k, **job):
        p = suite_point("converted", asr, seed=k, cnn_model=f"cnn-L{job.get('levels', 256)}-s{k}", **job)
        p["eval"]["deltas"]["bpda"] = evaluation({"bpda": asr["bpda"]})["deltas"]["bpda"]
        return p

    pts = []
    for k in range(3):
        for T, a in ((4, 0.3), (8, 0.5), (16, 0.6)):
            pts.append(suite_point("snn", {"fgsm": a, "transfer": a / 2, "worst": a + 0.2,
                                           **({"ensemble": a + 0.3} if T == 8 else {})}, seed=k, T=T, leak=0.99))
        for kind, extra in (("snn", {"T": 8, "leak": 0.99}), ("cnn", {})):
            pts.append(suite_point(kind, {"fgsm": 0.1, "transfer": 0.1, "worst": 0.2}, seed=k, levels=2, **extra))
        pts.append(suite_point("cnn", {"fgsm": 0.5, "transfer": 0.4, "worst": 0.7}, seed=k))
        if converted:
            for T in (16, 32, 64):
                pts.append(conv({"fgsm": 0.2, "bpda": 0.6, "transfer": 0.3, "worst": 0.7}, k, T=T))
                if T != 32:
                    pts.append(conv({"fgsm": 0.3, "bpda": 0.5, "transfer": 0.3, "worst": 0.6}, k, T=T,
                                    craft_at={"T": 32}))
            for levels in (2, 4):
                pts.append(conv({"fgsm": 0.1, "bpda": 0.2, "transfer": 0.1, "worst": 0.3}, k, T=32, levels=levels))
        if direct:
            pts.append(suite_point("snn", {"fgsm": 0.8, "transfer": 0.3, "worst": 0.9, "ensemble": 0.95}, seed=k, T=8,
                                   leak=0.99, encoding="direct"))
    listed = direct if poisson_listed is None else poisson_listed
    return {"settings": {"n_test": N, "eps": 0.1, "seeds": 3}, "leak": 0.99, "levels": [2, 256], "points": pts,
            "scale": "tiny", "timesteps": [4, 8, 16], "converted_timesteps": [16, 32, 64] if converted else [],
            "converted_levels": [2, 4, 256] if converted else [], "converted_T": 32,
            "encodings": ["poisson", "direct"] if listed else []}


def sweep_report(tmp_path: Path, summary: dict) -> tuple[dict, str]:
    res = tmp_path / "results"
    (res / "sweeps").mkdir(parents=True)
    (res / "sweeps" / "timestep_sweep.json").write_text(json.dumps(summary))
    return draw(res, tmp_path)


def test_converted_and_direct_input_points_are_drawn_and_captioned(tmp_path):
    from analysis.sweep_figures import BPDA, ENCODING_CMD, ENSEMBLE, WORST
    made, report = sweep_report(tmp_path, sweep_of(converted=True, direct=True))
    drawn, captions = made["figures"], made["captions"]
    assert {"timestep_sweep", "quantization_sweep", "encoding"} <= set(captions)
    for name in ("timestep_sweep", "quantization_sweep", "encoding"):
        caption, promises = captions[name]
        for p in promises:   # named in the caption, and there in the picture
            assert p.lower() in caption.lower() and drawn[name].shows(p), (name, p, sorted(drawn[name].texts))
        assert drawn[name].size_px[0] <= round(PAGE * DPI), (name, drawn[name].size_px)
    # the time-step figure: a column for the converted SNN (accuracy and change per stage), BPDA a line of its own
    ts = drawn["timestep_sweep"]
    assert ts.panels == 4 and ts.shows("converted SNN (IF, from the CNN)") and ts.shows(BPDA)
    assert [m for m, _ in ts.missing] == ["Brian2 STDP network (no points)"]
    assert BPDA in captions["timestep_sweep"][1] and "converted SNN (IF, from the CNN)" in captions["timestep_sweep"][1]
    # the quantization figure: the converted SNN's levels series in its own colour, legend and caption
    q = drawn["quantization_sweep"]
    assert q.shows("converted SNN") and q.shows(BPDA) and "converted SNN" in captions["quantization_sweep"][1]
    assert [m for m, _ in q.missing] == ["Brian2 STDP (fewer than two quantization levels)"]
    # the encoding figure: both encodings, each measure the points carry (the ensemble's too), nothing missing
    enc = drawn["encoding"]
    assert enc.path == tmp_path / "results" / "sweeps" / "encoding.png" and not enc.missing
    for text in ("Poisson input", "direct input (constant current)", "clean", "white-box FGSM (own gradient, EOT)",
                 WORST, ENSEMBLE):
        assert enc.shows(text), text
    assert "![encoding](sweeps/encoding.png)" in report and ENCODING_CMD not in report
    # REPORT.md keeps the converted SNN's levels out of the quantization table (its own table has them)
    quant = report.split("![quantization_sweep]")[0].split("![timestep_sweep]")[1]
    assert "| SNN, 2 levels" in quant and "| converted SNN, " not in quant


def test_sweep_without_converted_or_direct_points_names_them_missing(tmp_path):
    from analysis.sweep_figures import BPDA, ENCODING_CMD, encoding_figure
    made, report = sweep_report(tmp_path, sweep_of(converted=False, direct=False))
    drawn, captions = made["figures"], made["captions"]
    ts, q = drawn["timestep_sweep"], drawn["quantization_sweep"]
    assert ts.panels == 2 and not ts.shows("converted SNN") and not ts.shows(BPDA)   # no empty column, no line
    assert "Not drawn: converted SNN (IF, from the CNN) (no points); `python -m analysis.timestep_sweep` makes it" \
        in captions["timestep_sweep"][0]
    assert "converted SNN" not in captions["timestep_sweep"][0].split("Not drawn")[0]   # not promised
    assert not q.shows("converted SNN") and ("converted SNN (fewer than two quantization levels)",
                                             "python -m analysis.timestep_sweep --quantize converted") in q.missing
    # no encoding points: no figure, and REPORT.md says where it would stand and what makes it
    assert "encoding" not in drawn and not (tmp_path / "results" / "sweeps" / "encoding.png").exists()
    assert (f"*Not drawn: the encoding figure, Poisson against direct input (no points); `{ENCODING_CMD}` makes it.*"
            in report)
    # both encodings asked for, the direct point not computed yet: Poisson alone, direct input named missing
    partial = encoding_figure(sweep_of(converted=False, direct=False, poisson_listed=True), tmp_path / "partial")
    assert partial.shows("Poisson input") and not partial.shows("direct input (constant current)")
    assert partial.missing == [("direct input (constant current) (no points)", ENCODING_CMD)]
