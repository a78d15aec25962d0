"""analysis.measurement, analysis.damping, the sweeps and analysis.figures on tiny synthetic data (no Brian2,
no MNIST)."""
import argparse
import json

import numpy as np
import pytest
import torch

import imagesets
from analysis import damping, figures, leak_sweep, measurement, sweep_jobs, sweep_points
from analysis.attacks import attack_settings
from networks.snn import SpikingNet
from tests.conftest import bars


def fake_load(name, split, data_dir=None):
    return bars(48 if split == "train" else 12, seed=0 if split == "train" else 1)


@pytest.fixture
def tiny_mnist(monkeypatch):
    """imagesets.load answers with synthetic bars: both trainers and the evaluation read through it."""
    monkeypatch.setattr(imagesets, "load", fake_load)


def tiny_sweep(main, argv: list, tiny_attacks: bool = False) -> dict:
    """A sweep's ``main(argv)`` on the synthetic bars (``tiny_attacks``: the suite at the tests' budget)."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr(imagesets, "load", fake_load)
        if tiny_attacks:
            m.setattr(sweep_points, "suite_spec", lambda name, kind: name != "fgsm" and tiny_suite(name, kind))
        return main(argv)


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A tiny leak sweep (a CNN and one SNN, a few training steps), run once for the module."""
    out = tmp_path_factory.mktemp("results") / "sweeps"
    return out, tiny_sweep(leak_sweep.main, sweep_argv(out))


def test_measure_is_zero_without_delta_and_grows_with_it_through_a_linear_layer():
    torch.manual_seed(0)
    layer = torch.nn.Linear(20, 5)
    x, d = torch.rand(30, 20), torch.randn(30, 20).sign()
    with torch.no_grad():
        assert measurement.relative_change(layer(x), layer(x)) == 0
        vals = [measurement.relative_change(layer(x), layer(x + e * d)) for e in (0.01, 0.05, 0.1, 0.2)]
    assert all(b > a for a, b in zip(vals, vals[1:]))
    assert vals[-1] / vals[0] == pytest.approx(20, rel=1e-6)     # linear layer: change proportional to |d|
    # on spike trains as event sets it is the share of spikes that changed
    assert measurement.relative_change([np.array([1, 2, 3, 7])], [np.array([2, 3, 4, 7])]) == pytest.approx(0.5)


def test_shared_draws_give_zero_change_and_the_noise_floor_is_not():
    torch.manual_seed(0)
    subj = measurement.TorchSubject(SpikingNet("c4-p-f16", T=4), "snn")
    x = torch.rand(6, 1, 28, 28)            # grey levels: a Poisson draw of them is random
    a, b, c = subj.stages(x, 3), subj.stages(x, 3), subj.stages(x, 4)
    assert all(measurement.relative_change(a[s], b[s]) == 0 for s in a)
    assert measurement.relative_change(a["input spikes"], c["input spikes"]) > 0.05
    q = measurement.quantize(torch.tensor([0.1, 0.4, 0.6, 0.9], requires_grad=True), 2)
    assert q.tolist() == [0, 0, 1, 1]
    q.sum().backward()                       # straight-through: the attack still sees a gradient


def sweep_argv(out):
    return ["--leaks", "0.9", "--tau-exc", "-t", "2", "--n-train", "48", "--n-test", "12", "--eot", "1",
            "--source", "none", "--out", str(out), "--no-progress", "--jobs", "1"] + FGSM_ONLY   # in-process: the monkeypatches hold


# What --quick measures (the saved points' measurement), with the tests' own tiny budget.
FGSM_ONLY = ["--suite", "fgsm", "--ensemble", "none", "--protocols", "swept"]


def test_tiny_sweep_writes_json_and_figures_and_resumes_from_cache(swept, tiny_mnist, monkeypatch):
    (out, s), real_run_job = swept, sweep_points.run_job
    data = json.loads((out / "leak_sweep.json").read_text())
    assert data["n_jobs"] == 2 and data["n_failed"] == 0 and "scale" in data
    assert {p["job"]["kind"] for p in data["points"]} == {"cnn", "snn"}
    for p in data["points"]:
        e = p["eval"]
        assert 0 <= e["clean_accuracy"] <= 1 and set(e["deltas"]) == {"fgsm", "random"}
        assert e["stages"][0] == "input" and e["stages"][-1] == "output"
        change = e["deltas"]["fgsm"]["change"]       # None where a layer is silent on clean images
        assert change["input"]["value"] > 0 and all(c["value"] is None or c["value"] >= 0 for c in change.values())
    assert (out / "leak_sweep.png").exists() and (out / "leak_sweep.pdf").exists()
    assert len(list((out / "points").glob("*.json"))) == 2

    # resume: every point is cached, nothing runs again (and no figure is redrawn, to save time)
    monkeypatch.setitem(figures.SWEEP_FIGURES, "leak_sweep", lambda summary, path: None)
    monkeypatch.setattr(sweep_points, "run_job", lambda job: pytest.fail("a cached point ran again"))
    again = leak_sweep.main(sweep_argv(out))
    assert [p["name"] for p in again["points"]] == [p["name"] for p in s["points"]]

    # an interrupted sweep: the missing point is the only one computed, its model reused
    snn_point = next(p for p in s["points"] if p["job"]["kind"] == "snn")
    (out / "points" / f"{snn_point['name']}.json").unlink()
    ran = []
    monkeypatch.setattr(sweep_points, "run_job", lambda job: ran.append(job["kind"]) or real_run_job(job))
    monkeypatch.setattr(sweep_points, "train", lambda job, run_dir: json.loads((run_dir / "metrics.json").read_text()))
    leak_sweep.main(sweep_argv(out))
    assert ran == ["snn"]


def test_a_cnn_point_with_its_sources_weights_takes_another_seeds_cnn_as_source(swept, tiny_mnist, tmp_path):
    """The transfer column must be black-box: a CNN point trained with its source's recipe and seed has the
    source's weights, so its transfer FGSM is crafted on the sweep's CNN of another seed instead."""
    out = tmp_path / "sweeps"
    first = leak_sweep.main([a if a != str(swept[0]) else str(out) for a in sweep_argv(swept[0])])
    own = next(p for p in first["points"] if p["job"]["kind"] == "cnn")["run"]   # seed 0's CNN as the source
    argv = [a if a != str(swept[0]) else str(out / "again") for a in sweep_argv(swept[0])]
    argv[argv.index("--source") + 1] = own
    s = tiny_sweep(leak_sweep.main, argv + ["--seeds", "2"])
    cnn = {p["job"]["seed"]: p for p in s["points"] if p["job"]["kind"] == "cnn"}
    assert sweep_points.same_weights(own, cnn[0]["run"])        # the same recipe and seed: the same model
    assert cnn[0]["eval"]["transfer_source"]["run"] == cnn[1]["run"]
    assert "transfer_source" not in cnn[1]["eval"] and cnn[1]["job"]["source"] == own
    snn = [p for p in s["points"] if p["job"]["kind"] == "snn"]
    assert snn and all("transfer_source" not in p["eval"] for p in snn)


def test_saved_only_reports_what_ran_and_names_the_rest(swept, tiny_mnist, monkeypatch, tmp_path):
    """A sweep stopped part-way: --saved-only computes nothing, writes the summary of the points that ran and
    lists the others; REPORT.md's section names them and the command that runs them."""
    import shutil
    out = tmp_path / "sweeps"
    shutil.copytree(swept[0], out)
    monkeypatch.setattr(sweep_points, "run_job", lambda job: pytest.fail("--saved-only ran a point"))
    monkeypatch.setattr(sweep_points, "train", lambda job, run_dir: pytest.fail("--saved-only trained a model"))
    argv = [a if a != str(swept[0]) else str(out) for a in sweep_argv(swept[0])]
    s = leak_sweep.main(argv + ["--seeds", "2", "--saved-only"])   # seed 1 never ran
    assert len(s["points"]) == 2 and s["n_failed"] == 0 and s["n_jobs"] == 4 and len(s["not_run"]) == 2
    assert all(name.startswith(("cnn-", "snn-leak0.9-")) for name in s["not_run"])
    from analysis import sweep_report
    from analysis.report import Report
    summary = json.loads((out / "leak_sweep.json").read_text())
    summary["provenance"]["command"] = ["python", "-m", "analysis.leak_sweep", "--seeds", "2", "--saved-only"]
    page = Report(out.parent, {})
    sweep_report.leak_section(page, summary)
    text = "\n".join(page.lines)
    assert "Not run yet: 2 of 4 points (cnn-L256 x1, snn-leak0.9-T2-L256 x1)" in text
    assert "`python -m analysis.leak_sweep --seeds 2` runs the rest" in text


def test_figures_and_report_regenerate_from_saved_json_alone(swept, tmp_path, tiny_mnist):
    res = swept[0].parent
    runs = sorted((res / "sweeps" / "runs").iterdir())
    cnn, snn = (next(r for r in runs if r.name.startswith(k)) for k in ("cnn", "snn"))
    damping.main(["--models", "cnn", "snn", "--cnn", str(cnn), "--snn", str(snn), "--source", str(cnn),
                  "--n", "12", "--eot", "1", "--eps", "0.05", "0.1", "--torch-device", "cpu",
                  "--out", str(res / "damping")])
    cached = sorted(p.name for p in (res / "damping" / "cache").glob("*.json"))
    assert len(cached) == 4, cached        # one file per (model, eps): eps 0.05 and 0.1 must not share one
    import shutil
    shutil.rmtree(res / "sweeps" / "runs")              # no model is needed to redraw
    figures.main(["--results", str(res), "--bio-run", str(tmp_path / "none"), "--runs", str(tmp_path / "none")])
    # each figure beside the data it was drawn from
    for path in (res / "damping" / "damping", res / "sweeps" / "leak_sweep", res / "damping" / "gallery",
                 res / "damping" / "accuracy_vs_eps"):
        assert path.with_suffix(".png").exists() and path.with_suffix(".pdf").exists(), path
    report = (res / "REPORT.md").read_text()
    assert "## Seed claims" in report and "ReLU passes a perturbation on" in report
    assert "Skipped inputs" in report and "timestep_sweep" in report    # missing inputs: a note, not an error


def test_timestep_and_quantization_sweep_on_tiny_settings(swept, tiny_mnist):
    """Shares the leak sweep's folder: its CNN point and trained models are reused, not redone."""
    from analysis import timestep_sweep
    out = swept[0]
    s = timestep_sweep.main(["-t", "2", "--present-ms", "--levels", "2", "256", "--quantize", "cnn",
                             "--converted-timesteps", "--encodings", "poisson", "--leak", "0.9", "--n-train", "48",
                             "--n-test", "12", "--eot", "1", "--source", "none", "--out", str(out), "--no-progress",
                             "--jobs", "1"] + FGSM_ONLY)
    data = json.loads((out / "timestep_sweep.json").read_text())
    assert data["n_failed"] == 0 and data["levels"] == [2, 256] and data["timesteps"] == [2]
    kinds = sorted((p["job"]["kind"], p["job"]["levels"]) for p in data["points"])
    assert kinds == [("cnn", 2), ("cnn", 256), ("snn", 256)]
    q2 = next(p["eval"] for p in data["points"] if p["job"]["levels"] == 2)
    assert q2["stages"][0] == "image" and q2["levels"] == 2   # the perturbation is measured before and after rounding
    assert [p["name"] for p in s["points"]] == [p["name"] for p in data["points"]]
    for name in ("timestep_sweep", "quantization_sweep"):
        assert (out / f"{name}.png").exists() and (out / f"{name}.pdf").exists(), name


def test_forecast_counts_only_the_work_left_and_shares_it_among_workers(tmp_path):
    args = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu"])
    s = sweep_points.settings(args)
    jobs = [sweep_jobs.make_job("cnn", s), sweep_jobs.make_job("snn", s), sweep_jobs.make_job("bio", s)]
    one, two = sweep_jobs.forecast(jobs, 1), sweep_jobs.forecast(jobs, 2)
    assert one == pytest.approx(sum(map(sweep_jobs.expected_seconds, jobs)))
    assert max(map(sweep_jobs.expected_seconds, jobs)) <= two < one
    snn = jobs[1]
    before = sweep_jobs.expected_seconds(snn)
    run = tmp_path / "runs" / sweep_jobs.model_name(snn)
    run.mkdir(parents=True)
    (run / "metrics.json").write_text("{}")               # trained already: only the evaluation is left
    assert 0 < sweep_jobs.expected_seconds(snn) < before
    # where a job runs is not part of its result's name: the cache serves every device
    assert sweep_jobs.point_name({**snn, "torch_device": "cuda"}) == sweep_jobs.point_name(snn)


def test_progress_bar_states_the_expected_time(tmp_path, capsys):
    args = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu"])
    s = sweep_points.settings(args)
    done, todo = sweep_jobs.make_job("cnn", s), sweep_jobs.make_job("snn", s)
    path = tmp_path / "points" / f"{sweep_jobs.point_name(done)}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"name": "cached"}))
    # the job left to do fails at once (no data): the bar is what is checked, and a failure must not stop it
    with pytest.MonkeyPatch.context() as m:
        m.setattr(sweep_points, "run_job", lambda job: (_ for _ in ()).throw(RuntimeError("not run here")))
        results = sweep_points.run_jobs([done, todo], 1, desc="leak sweep", progress=True)
    err = capsys.readouterr().err
    minutes = round(sweep_jobs.forecast([todo], 1) / 60)
    assert f"leak sweep: expected {minutes} min, 1 at a time" in err and "1/2 points" in err
    assert results == [{"name": "cached"}]


def test_report_names_results_computed_before_the_fixes():
    old = {"leak_sweep": {"settings": {"bio_n_train": 3000}},
           "compare": {"mnist": {"settings": {"pgd_steps": 7}}}}
    notes = figures.stale_inputs(old)
    assert len(notes) == 2 and "3,000" in notes[0] and "7-step PGD" in notes[1]
    new = {"leak_sweep": {"settings": {"bio_n_train": figures.MIN_BIO_TRAIN}},
           "compare": {"mnist": {"settings": {"pgd_steps": 40}, "worst_case": []}}}
    assert figures.stale_inputs(new) == []


def test_sweep_points_quantize_both_image_sets_and_keep_the_labels():
    """Pre-quantization reaches a point's model as data (sweep_points.quantized), not by patching a loader."""
    from analysis.sweep_points import quantized
    x = np.arange(256, dtype=np.uint8).reshape(1, 16, 16)
    y = np.array([3])
    xq, yq, tq, ty = quantized((x, y, x.copy(), y), 2)
    assert sorted(np.unique(xq)) == [0, 255] and np.array_equal(xq, tq) and yq is y and ty is y
    assert quantized((x, y, x, y), 256)[0] is x     # 256 levels: the originals


# --- the attack suite, the surrogate ensemble and the reference protocol (issue 28) --------------
def tiny_suite(name="full", kind="snn", ensemble=("triangle:1", "straight_through", "rate")):
    """suite_spec's suite with a few steps per attack (the tests' budget), and a smaller ensemble."""
    spec = measurement.evaluation.suite_spec(name, kind)
    return dict(spec, pgd_steps=3, pgd_restarts=1, apgd_iter=4, ensemble=list(ensemble) if spec["ensemble"] else [])


def run_of(out, prefix):
    return next(r for r in sorted((out / "runs").iterdir()) if r.name.startswith(prefix))


@pytest.fixture(scope="module")
def two_protocols(tmp_path_factory):
    """A tiny leak sweep with the full suite and both protocols (leak 0.9 and the reference, 0.99)."""
    out = tmp_path_factory.mktemp("protocols") / "sweeps"
    return out, tiny_sweep(leak_sweep.main, ["--leaks", "0.9", "0.99", "--tau-exc", "-t", "2", "--n-train", "48",
                                             "--n-test", "12", "--eot", "1", "--source", "none", "--out", str(out),
                                             "--no-progress", "--jobs", "1", "--suite", "full", "--protocols", "swept",
                                             "reference"], tiny_attacks=True)


def right_under(res, key, y):
    return np.array(list(res["attacks"][key]["pred"]), int) == y


def test_worst_case_is_below_every_attack_and_the_ensemble_below_the_own_surrogate(two_protocols, tiny_mnist):
    out = two_protocols[0]
    x, y = measurement.load_test(12)
    subj = measurement.subject("snn", run_of(out, "snn-leak0.9"))
    res, _ = measurement.evaluate(subj, x, y, 0.1, eot=2, seed=0, suite=tiny_suite("ensemble"))
    y_np = y.numpy()
    own, ens = (np.array(list(w["robust"]), int).astype(bool) for w in (res["worst_case"], res["ensemble"]["worst_case"]))
    assert res["worst_case"]["attacks"] == ["fgsm", "pgd", "apgd-ce", "apgd-dlr"]
    assert res["attacks"]["fgsm"]["adv_accuracy"] == res["deltas"]["fgsm"]["adv_accuracy"]   # the seeds' column
    for key in res["worst_case"]["attacks"]:          # per example: robust only if right under each attack
        assert not (own & ~right_under(res, key, y_np)).any(), key
    for key in res["attacks"]:
        assert not (ens & ~right_under(res, key, y_np)).any(), key
    assert not (ens & ~own).any() and res["ensemble"]["worst_case"]["adv_accuracy"] <= res["worst_case"]["adv_accuracy"]
    assert set(res["ensemble"]["members"]) == {"own", "triangle:1", "straight_through", "rate"}
    assert "pgd/rate" in res["attacks"] and all(a["linf"] <= 0.1 + 1e-6 for a in res["attacks"].values())


def test_rate_gradient_keeps_the_forward_pass_and_straight_through_passes_one():
    from networks.surrogate import get_surrogate
    net = SpikingNet("c4-p-f16", T=3)
    x = torch.rand(4, 1, 28, 28, requires_grad=True)
    torch.manual_seed(1)
    a = net(x)
    torch.manual_seed(1)
    b = net.rate_gradient(x)
    assert torch.allclose(a, b)
    (g,) = torch.autograd.grad(b.sum(), x)
    assert torch.isfinite(g).all() and (g != 0).any()
    v = torch.linspace(-3, 3, 7, requires_grad=True)
    (g,) = torch.autograd.grad(get_surrogate("straight_through")(v).sum(), v)
    assert g.tolist() == [1.0] * 7


def test_attacks_drive_a_trained_tiny_snn_to_zero_as_eps_grows():
    """A sanity check of the suite's strength (BACKGROUND.md, honest evaluation): on a tiny SNN that has
    learnt the bars, accuracy falls with eps, to 0 where every bar can be redrawn."""
    torch.manual_seed(0)
    x_train, y_train = (torch.as_tensor(a) for a in bars(256, 0))
    net = SpikingNet("c4-p-f16", T=4, leak=0.9)
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(3):
        for k in range(0, 256, 32):
            loss = torch.nn.functional.cross_entropy(net(x_train[k:k + 32, None] / 255.0), y_train[k:k + 32])
            opt.zero_grad()
            loss.backward()
            opt.step()
    x, y = (torch.as_tensor(a) for a in bars(24, 1))
    subj = measurement.TorchSubject(net, "snn")
    res = [measurement.evaluate(subj, x[:, None].float() / 255.0, y, eps, eot=2, seed=0, suite=tiny_suite())[0]
           for eps in (0.05, 0.2, 0.5)]
    acc = [r["worst_case"]["adv_accuracy"] for r in res]
    assert res[0]["clean_accuracy"] > 0.9 and acc[0] > acc[1] > acc[2] == 0.0, acc


def test_reference_protocol_crafts_on_the_reference_model_and_scores_on_the_swept_one(two_protocols, tiny_mnist):
    s = two_protocols[1]
    pts = {(p["job"]["kind"], p["job"].get("leak"), "craft_at" in p["job"]): p for p in s["points"]}
    assert sorted(pts, key=str) == sorted([("cnn", None, False), ("snn", 0.9, False), ("snn", 0.99, False),
                                           ("snn", 0.9, True)], key=str)   # at the reference leak: one point
    ref, swept_pt, point = pts["snn", 0.99, False], pts["snn", 0.9, False], pts["snn", 0.9, True]
    assert point["job"]["craft_at"] == {"leak": 0.99} and point["run"] == swept_pt["run"]
    assert point["eval"]["protocol"]["crafted_on"] == ref["run"] and "protocol" not in swept_pt["eval"]
    from analysis.saved_results import points_of
    assert [p["job"]["leak"] for p in points_of(s, "snn", "leak", {"T": 2})] == [0.9, 0.99]
    assert [p["job"]["leak"] for p in points_of(s, "snn", "leak", {"T": 2}, protocol="reference")] == [0.9]

    # the same numbers again by hand: images crafted on the reference model, scored on the swept one
    x, y = measurement.load_test(12)
    target, crafter = (measurement.subject("snn", p["run"]) for p in (swept_pt, ref))
    res, deltas = measurement.evaluate(target, x, y, 0.1, eot=1, seed=0, suite=point["job"]["suite"], crafter=crafter)
    assert torch.equal(deltas["fgsm"], measurement.fgsm(crafter, x, y, 0.1, 1, 0))
    assert res["worst_case"] == point["eval"]["worst_case"] and res["attacks"].keys() == point["eval"]["attacks"].keys()
    pred = crafter.predict(x, 1)
    _, on_target = measurement.evaluation.attack_suite(target, crafter, x, y, point["job"]["suite"], 0.1, eot=1,
                                                       seed=0, pred_clean=pred)
    _, on_ref = measurement.evaluation.attack_suite(crafter, crafter, x, y, point["job"]["suite"], 0.1, eot=1, seed=0,
                                                    pred_clean=pred)
    assert on_target.keys() == on_ref.keys() and all(torch.equal(on_target[k], on_ref[k]) for k in on_ref)


def test_reference_protocol_points_read_back_the_images_crafted_at_the_reference_point(two_protocols):
    pts = {(p["job"].get("leak"), "craft_at" in p["job"]): p for p in two_protocols[1]["points"] if p["job"]["kind"] == "snn"}
    # the reference point and the reference-protocol point craft alike: whichever ran first crafted, the other read
    reused = [pts[k]["eval"].get("crafted_reused") for k in ((0.99, False), (0.9, True))]
    assert None in reused and ["fgsm", "pgd", "apgd-ce", "apgd-dlr"] in reused
    assert "crafted_reused" not in pts[0.9, False]["eval"]
    # ... and the numbers are those of crafting afresh (test_reference_protocol_crafts_on_the_reference_model_...)


def test_kept_images_serve_the_first_whole_batches_as_if_crafted_alone(two_protocols, tiny_mnist, tmp_path):
    x, y = measurement.load_test(12)
    subj = measurement.subject("snn", run_of(two_protocols[0], "snn-leak0.99"))
    subj.batch_size = 4
    kw = attack_settings("pgd", eot=2, loss="ce", pgd_steps=3, pgd_alpha=None, pgd_restarts=1)

    def crafting(n):
        return lambda: (measurement.craft_attack("pgd", subj.scores, x[:n], y[:n], 0.1, 7, subj.batch_size, **kw), {})
    kept = measurement.CraftedImages(tmp_path)
    whole, _ = kept.get(subj, "pgd", kw, x, y, 0.1, 0, crafting(12))
    first, _ = kept.get(subj, "pgd", kw, x[:8], y[:8], 0.1, 0, crafting(8))
    assert kept.reused == ["pgd"] and torch.equal(first, whole[:8])
    assert torch.equal(first, crafting(8)()[0])   # why a prefix may be served: the first batches ignore the rest
    kept.get(subj, "pgd", kw, x[:6], y[:6], 0.1, 0, crafting(6))        # not whole batches
    kept.get(subj, "pgd", kw, x.flip(0), y.flip(0), 0.1, 0, crafting(12))   # other images
    kept.get(subj, "pgd", kw, x, y, 0.2, 0, crafting(12))                # another eps
    assert kept.reused == ["pgd"]


def test_old_jobs_keep_their_point_names_and_default_options_add_no_key(tmp_path):
    # a point of results/sweeps/points (2026-12-06), its job as saved
    job = {"T": 8, "data_dir": None, "eot": 4, "epochs": 1, "eps": 0.1, "eval_version": 2, "kind": "snn", "leak": 0.99,
           "levels": 256, "n_test": 200, "n_train": 4000, "out": "/work/main/results/sweeps", "seed": 0,
           "source": "/work/runs/baselines/cnn-mnist-s1"}
    assert sweep_jobs.point_name(job) == "snn-leak0.99-T8-L256-c193f862-fa0a4af1"
    args = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu", "--quick"])
    s = sweep_points.settings(args)
    jobs = [sweep_jobs.make_job("snn", s, leak=v) for v in (1.0, 0.99, 0.8)]
    assert sweep_points.with_measurements(jobs, "leak", args) == jobs   # --quick measures as the saved points did
    converged = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu"])
    sweep_points.settings(converged)
    assert (converged.suite, converged.ensemble, converged.protocols) == ("full", "ends", ["swept", "reference"])
    args = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu", "--suite", "full",
                                  "--ensemble", "ends", "--protocols", "swept", "reference"])
    more = sweep_points.with_measurements([sweep_jobs.make_job("snn", s, leak=v) for v in (1.0, 0.99, 0.9, 0.8)],
                                          "leak", args)
    suites = {(j["leak"], "craft_at" in j): j["suite"]["name"] for j in more}
    # the reference protocol crafts on the reference model, whose ensemble check is the reference point's
    assert suites == {(1.0, False): "ensemble", (1.0, True): "full", (0.99, False): "ensemble",
                      (0.9, False): "full", (0.9, True): "full", (0.8, False): "ensemble", (0.8, True): "full"}
    assert all(sweep_jobs.model_name(j) == sweep_jobs.model_name(dict(j, suite=None, craft_at=None)) for j in more)
    assert sweep_jobs.expected_seconds(more[0]) > sweep_jobs.expected_seconds(jobs[0])


def test_points_between_the_ends_get_fewer_seeds_and_images_and_members_run_pgd_alone(tmp_path):
    args = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu", "--seeds", "5",
                                  "--suite", "full", "--ensemble", "ends", "--protocols", "swept"])
    s = sweep_points.settings(args)
    jobs = sweep_points.with_measurements([sweep_jobs.make_job("snn", s, leak=v) for v in (1.0, 0.99, 0.9, 0.8)],
                                          "leak", args)
    assert {j["leak"]: (j["n_test"], j.get("n_seeds", 5)) for j in jobs} == \
        {1.0: (1000, 5), 0.99: (1000, 5), 0.9: (500, 3), 0.8: (1000, 5)}
    assert {j["kind"]: j["epochs"] for j in [jobs[0], sweep_jobs.make_job("cnn", s)]} == {"snn": 1, "cnn": 2}
    expanded = sweep_points.sweep("leak_sweep", jobs, argparse.Namespace(**dict(vars(args), estimate=True)), s, {})
    assert expanded["points_left"] == 3 * 5 + 3
    # the n_seeds of a job says how often the sweep runs it, never what it is
    assert sweep_jobs.point_name(jobs[2]) == sweep_jobs.point_name({k: v for k, v in jobs[2].items() if k != "n_seeds"})
    ends, middle = (sweep_jobs.suite_work(j) for j in (jobs[0], jobs[2]))
    spec = jobs[0]["suite"]
    assert spec["ensemble_attacks"] == ["pgd"] and middle[1] == 4 and ends[1] == 4 + len(spec["ensemble"])
    assert ends[0] - middle[0] == len(spec["ensemble"]) * spec["pgd_steps"] * spec["ensemble_eot"]


def test_suite_on_a_two_twin_crafter_names_each_twin_and_takes_the_worst_over_both():
    """The Brian2 network's suite (FGSM and PGD through each twin), on a stand-in with the same interface."""
    torch.manual_seed(0)
    subj = measurement.TorchSubject(SpikingNet("c4-p-f16", T=2), "snn")

    class TwoTwins:
        stochastic, loss, batch_size, predict = True, "margin", 6, subj.predict

        def backward_functions(self, ensemble=()):
            return {"loop": subj.scores, "cut": subj.scores}

    x, y = (torch.as_tensor(a) for a in bars(6, 2))
    x = x[:, None].float() / 255.0
    suite = tiny_suite(kind="bio")
    res, advs = measurement.evaluation.attack_suite(subj, TwoTwins(), x, y, suite, 0.1, eot=1, seed=0,
                                                    pred_clean=subj.predict(x, 1))
    assert suite["attacks"] == ["fgsm", "pgd"] and res["worst_case"]["attacks"] == ["fgsm/loop", "pgd/loop", "fgsm/cut",
                                                                                    "pgd/cut"]
    assert "ensemble" not in res and set(advs) == set(res["attacks"])


# --- the damping over seeds from the sweeps' points (analysis.damping --from-sweep) --------------------
def test_damping_from_sweep_pools_the_reference_points_over_seeds_and_leaves_other_budgets_out(tmp_path, capsys):
    from scipy import stats

    from analysis import damping_seeds
    from runstore.cli import run_main
    from tests.conftest import INPUT_CHANGE, damping_point

    cnn_out, snn_out, snn_hidden = [0.9, 0.8, 1.0], [0.3, 0.4, 0.35], [0.5, 0.6, 0.4]
    pts = [damping_point("cnn", s, v, floor=None) for s, v in enumerate(cnn_out)]
    pts += [damping_point("snn", s, v, h) for s, (v, h) in enumerate(zip(snn_out, snn_hidden))]
    pts.append(damping_point("bio", 0, 0.7))
    others = [damping_point("cnn", 3, 5.0, n_train=4000, n_test=200, floor=None),   # --quick: another budget
              damping_point("snn", 3, 5.0, n_test=500),                               # fewer test images
              damping_point("snn", 4, 5.0, leak=0.8),                                 # off the reference setting
              damping_point("snn", 5, 5.0, craft_at={"leak": 0.99}),                  # the reference protocol
              damping_point("snn", 6, 5.0, encoding="direct"),                        # direct input
              damping_point("snn", 7, 5.0, levels=16)]                                # pre-quantized
    folder = tmp_path / "points"
    folder.mkdir()
    for p in pts + others:
        (folder / f"{p['name']}.json").write_text(json.dumps(p))
    data = damping.main(["--from-sweep", str(folder), "--out", str(tmp_path / "out")])
    assert {k: m["seeds"] for k, m in data["models"].items()} == {"cnn": [0, 1, 2], "snn": [0, 1, 2], "bio": [0]}

    def by_hand(values):   # the mean over seeds and its 95 % t-interval
        m, half = np.mean(values), stats.t.ppf(0.975, len(values) - 1) * np.std(values, ddof=1) / np.sqrt(len(values))
        return pytest.approx(m), pytest.approx([m - half, m + half])

    for kind, out, hidden in (("cnn", cnn_out, cnn_out), ("snn", snn_out, snn_hidden)):
        m = data["models"][kind]
        gain, change = m["deltas"]["transfer"]["gain"], m["deltas"]["transfer"]["change"]["output"]
        assert (gain["value"], gain["ci95"]) == by_hand(out) and gain["per_seed"] == pytest.approx(out)
        assert (change["value"], change["ci95"]) == by_hand([INPUT_CHANGE * v for v in out])
        assert m["deltas"]["random"]["gain"]["per_seed"] == pytest.approx(out)   # the same ratio, half the change
        assert m["interval"] == "95 % t-interval of the mean over 3 seeds" and m["n"] == 1000
    snn = data["models"]["snn"]
    assert (snn["deltas"]["transfer"]["ratio"]["L1 rate"]["value"], snn["deltas"]["transfer"]["ratio"]["L1 rate"][
        "ci95"]) == by_hand(snn_hidden)
    assert snn["noise_floor"]["output"]["value"] == pytest.approx(0.05) and data["models"]["cnn"]["noise_floor"] is None
    bio = data["models"]["bio"]   # one seed: its bootstrap interval over the test images, and it says so
    assert bio["interval"] == damping_seeds.ONE_SEED
    assert bio["deltas"]["transfer"]["change"]["output"]["ci95"] == pytest.approx([0.34, 0.36])
    assert bio["deltas"]["transfer"]["gain"]["ci95"] == pytest.approx([0.34 / 0.5, 0.36 / 0.5])
    saved = json.loads((tmp_path / "out" / "converged.json").read_text())
    assert saved["models"] == json.loads(json.dumps(data["models"])) and "provenance" in saved
    assert len(saved["provenance"]["inputs"]) == 7   # the points used, no other
    assert (tmp_path / "out" / "converged.png").exists() and (tmp_path / "out" / "converged.pdf").exists()
    # a sweep summary gives the same; one of another budget alone is an error that says what to run
    (tmp_path / "sweep.json").write_text(json.dumps({"points": pts + others}))
    assert damping_seeds.converged_damping(damping_seeds.read_points(tmp_path / "sweep.json"))["models"] == \
        data["models"]
    (tmp_path / "quick.json").write_text(json.dumps({"points": others[:1]}))
    capsys.readouterr()
    assert run_main(damping.main, ["--from-sweep", str(tmp_path / "quick.json"), "--out", str(tmp_path / "q")]) != 0
    assert "holds no reference point of the converged budget" in capsys.readouterr().err
    assert not (tmp_path / "q" / "converged.json").exists()
