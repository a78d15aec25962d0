"""analysis.transfer_matrix on tiny CNN/SNN runs and synthetic bars: the diagonal is white-box, a rerun computes
nothing, related sources are marked; the effects behind the claim (analysis.verdicts.transfer_effects)."""
import json

import numpy as np
import pytest
import torch

import imagesets
from analysis import compare, transfer_matrix
from analysis.attacks import make_attack
from analysis import verdicts
from analysis.verdicts import transfer_effects
from networks.registry import load_model
from runstore.files import save_json
from tests.conftest import bars
from tests.test_compare import make_run

N = 30


@pytest.fixture
def runs(tmp_path, monkeypatch):
    """The matrix's five models, tiny, in run directories named as the models (compare's keys are the names)."""
    root = tmp_path / "runs"
    out = {f"cnn-s{k}": make_run(root, f"cnn-s{k}", "cnn", k, bias=True) for k in (0, 1)}
    out.update({f"snn-s{k}": make_run(root, f"snn-s{k}", "snn", k, T=4) for k in (0, 1)})
    out["converted-s0"] = make_run(root, "converted-s0", "converted", 0, T=4)
    cfg = json.loads((out["converted-s0"] / "config.json").read_text())
    save_json(out["converted-s0"] / "config.json", {**cfg, "converted_from": str(out["cnn-s0"])})
    monkeypatch.setattr(imagesets, "load", lambda *a, **k: bars(N, seed=7))
    return out


def budget(out):
    return ["--n-test", str(N), "--eot", "2", "--pgd-steps", "3", "--batch-size", "15", "--converted-T", "0",
            "--out", str(out), "--no-progress"]


def test_matrix_diagonal_is_white_box_related_marked_and_rerun_computes_nothing(runs, tmp_path, capsys):
    out = tmp_path / "tm"
    argv = ["--models", *(f"{k}={v}" for k, v in runs.items())] + budget(out)
    m = transfer_matrix.main(argv)
    assert "50 cells (2 attacks x 5 sources x 5 targets) and 5 clean ones; 55 to compute" in capsys.readouterr().out
    saved = json.loads((out / "transfer_matrix.json").read_text())
    assert saved["cells"] == m["cells"] and saved["order"] == list(runs) and len(saved["labels"]) == N
    assert len(m["cells"]) == 2 * 5 * 5 and all(len(c["pred"]) == N for c in m["cells"])
    cell = {(c["attack"], c["source"], c["target"]): c for c in m["cells"]}

    # the diagonal is analysis.compare's white-box cell of the same model, suite and images
    white = compare.main(["--runs", *map(str, runs.values()), "--sources", f"cnn={runs['cnn-s1']}", "--attacks",
                          "fgsm", "pgd", "--pgd-restarts", "1", "--apgd-iter", "25"] + budget(tmp_path / "cmp"))
    for c in white["cells"]:
        if c["setting"] == "white":
            assert cell[(c["attack"], c["target"], c["target"])]["adv_accuracy"] == c["adv_accuracy"]
            assert cell[(c["attack"], c["target"], c["target"])]["white_box"]
    # and, for the deterministic CNN, FGSM crafted and scored here directly
    cnn = load_model(runs["cnn-s0"])
    x, y = (torch.as_tensor(a) for a in bars(N, seed=7))
    x = x.float().unsqueeze(1) / 255
    x_adv = make_attack("fgsm", cnn, 0.1)(x, y)
    with torch.no_grad():
        direct = (cnn(x_adv).argmax(1) == y).float().mean().item()
    assert cell[("fgsm", "cnn-s0", "cnn-s0")]["adv_accuracy"] == pytest.approx(direct)

    # the converted SNN and its CNN: scored, but not black-box; independent pairs are black-box
    for pair in (("cnn-s0", "converted-s0"), ("converted-s0", "cnn-s0")):
        assert not cell[("pgd", *pair)]["black_box"] and "shares weights" in cell[("pgd", *pair)]["related"]
    assert cell[("pgd", "snn-s0", "cnn-s0")]["black_box"] and cell[("pgd", "cnn-s1", "snn-s0")]["black_box"]
    for c in m["cells"]:
        assert 0 <= c["adv_accuracy"] <= 1 and c["black_box"] == (not c["white_box"] and "related" not in c)
    # the verdict's comparisons: every target and attack, black-box sources only
    assert {(e["target"], e["attack"]) for e in m["effects"]} == {(t, a) for t in runs for a in ("fgsm", "pgd")}
    e = next(e for e in m["effects"] if e["target"] == "cnn-s0" and e["attack"] == "fgsm")
    assert e["ann_sources"] == ["cnn-s1"] and e["snn_sources"] == ["snn-s0", "snn-s1"]
    assert m["claim"]["verdict"] in ("reproduced", "partly", "not reproduced")
    md = (out / "transfer_matrix.md").read_text()
    assert "## PGD" in md and "| crafted on \\ scored on | cnn-s0 |" in md and "**Claim**" in md

    # a rerun computes nothing and gives the same matrix
    again = transfer_matrix.main(argv)
    assert again["run"]["cells_computed"] == 0 and again["cells"] == m["cells"]
    assert "; 0 to compute; 0 of 10 adversarial sets not crafted yet" in capsys.readouterr().out


def test_default_models_and_the_command_that_trains_a_missing_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        transfer_matrix.pick_models(["cnn-s1", "converted-s0"])
    text = str(e.value)
    assert "python -m networks.train --net cnn --dset mnist --seed 1 --out runs/baselines/cnn-mnist-s1" in text
    assert "python -m analysis.leak_sweep --leaks 0.99 --tau-exc --seeds 2 --train-only" in text
    assert "--net converted --dset mnist --from runs/baselines/cnn-mnist-s0" in text
    # the converged sweep's model is the default where trained, the converted SNN one of that CNN
    for name, kind in (("cnn-s0", "cnn"), ("snn-s1", "snn")):
        run = transfer_matrix.sweep_run(kind, int(name[-1]))
        for f in ("config.json", "metrics.json"):
            save_json(run / f, {"dset": "mnist"})
        (run / "model.pt").write_bytes(b"")
    conv = tmp_path / transfer_matrix.converted_dir(transfer_matrix.sweep_run("cnn", 0))
    save_json(conv / "config.json", {"dset": "mnist", "converted_from": str(transfer_matrix.sweep_run("cnn", 0))})
    save_json(conv / "metrics.json", {})
    (conv / "model.pt").write_bytes(b"")
    got = transfer_matrix.pick_models(["cnn-s0", "snn-s1", "converted-s0"])
    assert got["cnn-s0"].parent == got["snn-s1"].parent == transfer_matrix.SWEEP_OUT / "runs"
    assert got["snn-s1"].name.startswith("snn-leak0.99-T8-")
    assert got["converted-s0"].name == f"converted-{got['cnn-s0'].name}"


def test_the_effects_a_forest_plot_draws():
    """(estimate, low, high) of SNN- minus ANN-crafted accuracy per target and attack, from the per-example
    predictions (the verdict each way: tests/test_report.py's test_transfer_claim_each_way)."""
    from tests.test_report import transfer_matrix_of
    effects = transfer_effects(transfer_matrix_of({"cnn-a": 0.1, "cnn-b": 0.1, "snn-a": 0.4, "snn-b": 0.4}))
    assert len(effects) == 4 * 2
    for e in effects:
        est, lo, hi = e["effect"]
        assert lo <= est <= hi < 0 and est == pytest.approx(-0.3, abs=0.1) and e["sign"] == 1
        assert e["target"] not in e["snn_sources"] + e["ann_sources"]   # the diagonal is white-box, left out
    assert verdicts.paired_difference([1, 1, 0], [1, 1, 0]) == (0.0, 0.0, 0.0)
    est, lo, hi = verdicts.paired_difference(np.ones(100), np.r_[np.ones(50), np.zeros(50)])
    assert est == 0.5 and lo < 0.5 < hi
