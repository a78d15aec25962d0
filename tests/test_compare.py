"""analysis.compare on tiny CNN/SNN runs and synthetic bars (no Brian2): the JSON, black-box marking, resume."""
import json

import pytest
import torch

import imagesets
from analysis import compare
from networks.registry import build_model, save_checkpoint
from tests.conftest import bars
from runstore.files import save_json

TINY = "c4-p-f16"


def make_run(root, name, net, seed, **kw):
    """A networks.train-style run directory of a tiny model fitted for a few steps on bars."""
    torch.manual_seed(seed)
    model_kw = dict(arch=TINY, in_shape=[1, 28, 28], n_classes=10, **kw)
    model = build_model(net, **model_kw)
    x, y = (torch.as_tensor(a) for a in bars(64, seed))
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    for _ in range(15):
        loss, _ = model.training_loss(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    run = root / name
    save_json(run / "config.json", {"net": net, "dset": "mnist", "model": model_kw, "train": {"seed": seed}})
    save_checkpoint(run / "model.pt", {"model": model.state_dict(), "epoch": 1, "history": []})
    save_json(run / "metrics.json", {"test_accuracy": 1.0})
    return run


@pytest.fixture
def runs(tmp_path, monkeypatch):
    root = tmp_path / "runs"
    make_run(root, "cnn-s0", "cnn", 0)
    make_run(root, "cnn-s1", "cnn", 1)
    make_run(root, "snn-s0", "snn", 0, T=4)
    monkeypatch.setattr(imagesets, "load", lambda *a, **k: bars(50, seed=7))
    return root


def argv(root, out):
    return ["--dset", "mnist", "--runs-root", str(root), "--n-test", "50", "--eot", "2", "--pgd-steps", "3",
            "--apgd-iter", "5", "--batch-size", "25", "--out", str(out), "--no-progress"]


def test_table_json_black_box_marking_and_resume(runs, tmp_path):
    out = tmp_path / "out"
    s = compare.main(argv(runs, out))
    data = json.loads((out / "compare.json").read_text())
    assert data["n_test"] == 50 and data["settings"]["eps"] == [0.1]
    # targets: the lowest-seed run per kind; the CNN source is the independent seed-1 CNN
    assert [m["key"] for m in data["models"]] == ["cnn-s0", "snn-s0"]
    assert data["sources"]["cnn"]["path"].endswith("cnn-s1") and data["sources"]["snn"]["path"].endswith("snn-s0")
    assert data["settings"]["attacks"] == ["fgsm", "pgd", "apgd-ce", "apgd-dlr"]   # the default suite
    assert len(data["cells"]) == 2 * 4 * 3   # targets x attacks x (white, black from cnn, black from snn)
    for m in data["models"]:
        assert 0 <= m["clean_accuracy"] <= 1 and 0 <= m["zero_grad_share"] <= 1
    # the bias-free ReLU CNN on bars' zero background: most input pixels get no gradient at all
    assert data["models"][0]["zero_grad_share"] > 0.5
    from analysis.verdicts import zero_grad_flags   # and REPORT.md's checks flag it, with its worst case
    flags = zero_grad_flags(data)
    assert any(data["models"][0]["label"] in f and "exactly 0" in f and "worst case over fgsm" in f for f in flags)
    # the worst case over the white-box attacks is no better than any of them, nor than clean
    assert len(data["worst_case"]) == 2
    for w in data["worst_case"]:
        white = [c for c in data["cells"] if c["target"] == w["target"] and c["setting"] == "white"]
        assert w["attacks"] == [c["attack"] for c in white] == data["settings"]["attacks"]
        assert all(w["adv_accuracy"] <= c["adv_accuracy"] for c in white)
        assert w["adv_accuracy"] <= w["clean_accuracy"]
    for c in data["cells"]:
        if c["setting"] == "black-snn" and c["target"] == "snn-s0":
            assert c["black_box"] is False and "self" in c["skipped"] and "adv_accuracy" not in c
            continue
        assert c["black_box"] == c["setting"].startswith("black")
        assert c["n"] == 50 and c["seconds"] >= 0
        for k in ("clean_accuracy", "adv_accuracy", "attack_success_rate"):
            assert 0 <= c[k] <= 1
    md = (out / "compare.md").read_text()
    assert "n = 50" in md and "| self |" in md and "black-box from CNN (seed 1) adv %" in md
    assert "| zero-grad share % |" in md and "| worst case adv % |" in md and "APGD-DLR adv %" in md
    assert (out / "accuracy_under_attack.png").exists() and (out / "accuracy_under_attack.pdf").exists()
    assert s["run"]["cells_computed"] > 0

    # resume: nothing is recomputed; a lost cell is recomputed alone, with the same numbers (seeded per cell)
    again = compare.main(argv(runs, out))
    assert again["run"]["cells_computed"] == 0 and again["cells"] == s["cells"]
    lost = next((out / "cache").glob("snn-s0_pgd_eps0.1_white-*.json"))
    lost.unlink()
    third = compare.main(argv(runs, out))
    assert third["run"]["cells_computed"] == 1
    strip = lambda cs: [{k: v for k, v in c.items() if "seconds" not in k} for c in cs]  # noqa: E731
    assert strip(third["cells"]) == strip(s["cells"])


def test_a_converted_or_same_seed_source_is_not_black_box(runs, tmp_path):
    conv = make_run(runs, "conv-s0", "converted", 0, T=4, encoding="direct")
    save_json(conv / "config.json", {**json.loads((conv / "config.json").read_text()),
                                     "converted_from": str(runs / "cnn-s0")})
    # the seed-0 CNN as the source: itself for the CNN, the origin of the converted SNN's weights
    s = compare.main(argv(runs, tmp_path / "o") + ["--attacks", "fgsm", "--sources", f"cnn={runs / 'cnn-s0'}"])
    black = {c["target"]: c for c in s["cells"] if c["setting"] == "black-cnn"}
    assert not black["cnn-s0"]["black_box"] and "self" in black["cnn-s0"]["skipped"]
    assert not black["conv-s0"]["black_box"] and "shares" in black["conv-s0"]["skipped"]
    assert black["snn-s0"]["black_box"]
    # BPDA: the converted SNN is also attacked white-box through the CNN it came from, and that counts in
    # its worst case; no other model gets such a cell
    bpda = [c for c in s["cells"] if c["setting"] == "white-bpda"]
    assert [c["target"] for c in bpda] == ["conv-s0"] and bpda[0]["black_box"] is False
    worst = next(w for w in s["worst_case"] if w["target"] == "conv-s0")
    assert worst["attacks"] == ["fgsm", "fgsm (bpda)"]
    assert worst["adv_accuracy"] <= min(bpda[0]["adv_accuracy"], next(
        c["adv_accuracy"] for c in s["cells"] if c["target"] == "conv-s0" and c["setting"] == "white"))
    assert "through the ReLU CNN it was converted from (BPDA" in (tmp_path / "o" / "compare.md").read_text()
    # picked by kind, the CNN source is the one independent of every target
    s = compare.main(argv(runs, tmp_path / "o") + ["--attacks", "fgsm"])
    assert all(c["black_box"] for c in s["cells"] if c["setting"] == "black-cnn")
    # a TGO net of the SNN's seed starts from the SNN's initial weights: not a black-box target of that SNN
    make_run(runs, "tgo-s0", "tgo", 0, T=4)
    s = compare.main(argv(runs, tmp_path / "o") + ["--attacks", "fgsm"])
    black = {c["target"]: c for c in s["cells"] if c["setting"] == "black-snn"}
    assert not black["tgo-s0"]["black_box"] and "shares" in black["tgo-s0"]["skipped"]
    assert black["cnn-s0"]["black_box"]


def test_no_runs_names_the_training_command(tmp_path):
    with pytest.raises(SystemExit) as e:
        compare.main(["--dset", "cifar10", "--runs-root", str(tmp_path)])
    assert "python -m networks.train --net cnn --dset cifar10" in str(e.value)


def test_more_pgd_steps_never_raise_adversarial_accuracy(tmp_path, monkeypatch):
    # A CNN with biases (the bias-free one of ``runs`` barely moves at this eps: its gradient is masked).
    # The same seed gives the same random starts and restarts; more, smaller steps (2.5 eps / steps) climb higher.
    monkeypatch.setattr(imagesets, "load", lambda *a, **k: bars(50, seed=7))
    target, source = (make_run(tmp_path / "runs", f"cnn-s{k}", "cnn", k, bias=True) for k in (0, 1))
    acc = []
    for steps in (1, 3, 10):
        s = compare.main(argv(tmp_path / "runs", tmp_path / "o") + [
            "--runs", str(target), "--sources", f"cnn={source}", "--attacks", "pgd", "--pgd-steps", str(steps)])
        acc.append(next(c["adv_accuracy"] for c in s["cells"] if c["setting"] == "white"))
    assert acc == sorted(acc, reverse=True) and acc[0] > acc[-1], acc


def test_seed_000_fgsm_clamps_the_normalised_image_as_pixels():
    from analysis.seed000_protocol import seed000_fgsm
    mean, std = torch.full((1, 3, 1, 1), 0.5), torch.full((1, 3, 1, 1), 0.25)
    x = torch.tensor([0.0, 0.5, 0.6, 0.75, 1.0]).view(1, 1, 1, 5).expand(1, 3, 1, 5)
    # eps 0: only pixels inside [mean, mean + std] survive; the rest go to that band's edges
    assert torch.allclose(seed000_fgsm(x, torch.ones_like(x), 0.0, mean, std)[0, 0, 0],
                          torch.tensor([0.5, 0.5, 0.6, 0.75, 0.75]))
    # eps in normalised units is std times as large in pixels
    out = seed000_fgsm(x, torch.ones_like(x), 0.1, mean, std)[0, 0, 0]
    assert out[2] == pytest.approx(0.6 + 0.1 * 0.25) and out[0] == pytest.approx(0.5)   # still clamped
