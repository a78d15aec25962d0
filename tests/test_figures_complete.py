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
