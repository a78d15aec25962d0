"""The sweeps on CIFAR-10 (--dset cifar10, issue 30): MNIST's jobs unchanged, CIFAR-10's jobs naming their dataset
and their seed's CNN, the reference settings of the CPU recipe, --estimate, and a tiny end-to-end sweep (a CNN, a
hybrid SNN and a converted SNN on synthetic colour images, a tiny stand-in for the recipe's net)."""
import json

import numpy as np
import pytest

import imagesets
from analysis import leak_sweep, sweep_jobs, sweep_points, timestep_sweep
from analysis.defaults import CIFAR_REF, REF_CONVERTED_TS, REFS, SPIKING_ENCODING, SWEEP_EPS
from networks import recipes
from networks.cnn import without_batchnorm
from runstore.cli import UserError
from runstore.files import load_json

TINY_BN = "c4b-p-c8b-p"   # the recipe's layer kinds, small (tests/test_cifar_recipe.py)
NO_SOURCE = ["--source", "none", "--torch-device", "cpu"]


def jobs_of(main, argv, monkeypatch) -> list[dict]:
    """The jobs a sweep's ``main(argv)`` would run (seeds expanded), computing nothing."""
    got = {}

    def capture(name, jobs, n_jobs, note):
        got["jobs"] = jobs
        return {}
    monkeypatch.setattr(sweep_points, "estimate", capture)
    main(argv + ["--estimate"])
    return got["jobs"]


# --- MNIST: the same jobs, the same names ------------------------------------------------------------
def test_mnist_jobs_keep_their_names_and_get_no_dataset_key(tmp_path):
    # made by the code before --dset (commit 363c14f), the same command
    args = leak_sweep.parse_args(["--out", str(tmp_path), *NO_SOURCE, "--quick"])
    s = sweep_points.settings(args)
    assert "dset" not in s and "eps_list" not in s and s["eps"] == 0.1 and args.dset == "mnist"
    names = {(kind, json.dumps(kw)): sweep_jobs.point_name(sweep_jobs.make_job(kind, s, **kw)) for kind, kw in (
        ("snn", {}), ("cnn", {}), ("converted", {"levels": 4}), ("bio", {}), ("snn", {"encoding": "direct"}))}
    assert names == {("snn", "{}"): "snn-leak0.99-T8-L256-c193f862-1ec42822",
                     ("cnn", "{}"): "cnn-L256-3692d972-d175262d",
                     ("converted", '{"levels": 4}'): "converted-T32-L4-781cdce2-0798798e",
                     ("bio", "{}"): "bio-tau100-p350-L256-74f1c65e-056720ce",
                     ("snn", '{"encoding": "direct"}'): "snn-leak0.99-T8-direct-L256-51fd6401-e7817121"}
    converged = sweep_points.settings(leak_sweep.parse_args(["--out", str(tmp_path), *NO_SOURCE]))
    conv = sweep_jobs.make_job("converted", converged, T=128)
    assert (sweep_jobs.point_name(conv), conv["cnn_model"]) == ("converted-T128-L256-96957f78-d7bb4cfe", "cnn-L256-0ef52cbb")
    snn = sweep_jobs.make_job("snn", converged)
    assert "cnn_model" not in snn and "cnn_epochs" not in snn and not sweep_jobs.needs_cnn(snn)


def test_mnist_defaults_of_both_sweeps_are_unchanged(tmp_path):
    a = leak_sweep.parse_args(["--out", str(tmp_path)])
    assert (a.leaks, a.tau_exc, a.timesteps, a.eps) == ([1.0, 0.99, 0.95, 0.9, 0.8], [100.0, 50.0], 8, None)
    t = timestep_sweep.parse_args(["--out", str(tmp_path)])
    assert (t.timesteps, t.present_ms, t.levels, t.bio_levels, t.quantize, t.leak, t.converted_timesteps,
            t.converted_levels, t.converted_T, t.encodings) == (
        [2, 4, 8, 16], [100.0, 200.0, 350.0], [2, 4, 8, 16, 256], [2, 4, 8, 16, 256], ["snn", "bio", "cnn", "converted"],
        0.99, [16, 32, 64, 128], [2, 4, 8, 256], 32, ["poisson", "direct"])
    assert sweep_points.settings(leak_sweep.parse_args(["--out", str(tmp_path), *NO_SOURCE, "--eps", "0.2"]))["eps"] == 0.2


# --- CIFAR-10: settings and jobs ------------------------------------------------------------------------
def test_cifar_reference_settings_are_the_cpu_recipes():
    hybrid, conversion = recipes.CPU_HYBRID, recipes.CPU_CONVERSION
    assert (CIFAR_REF["T"], CIFAR_REF["leak"]) == (hybrid["T"], hybrid["leak"]) == (8, 1.0)
    assert REFS["cifar10"] is CIFAR_REF and REF_CONVERTED_TS["cifar10"] == conversion["T"] == 64
    assert SPIKING_ENCODING["cifar10"] == hybrid["encoding"] == conversion["encoding"] == "direct"
    assert (sweep_jobs.net_epochs("cnn", "cifar10"), sweep_jobs.net_epochs("snn", "cifar10")) == (
        recipes.CPU_CNN["epochs"], hybrid["epochs"])
    assert (sweep_jobs.net_epochs("cnn", "mnist"), sweep_jobs.net_epochs("snn", "mnist")) == (2, 1)
    assert SWEEP_EPS["cifar10"] == [0.0157, 0.0314]


def test_cifar_jobs_name_their_dataset_and_their_seeds_cnn(tmp_path, monkeypatch):
    base = ["--dset", "cifar10", "--seeds", "3", "--out", str(tmp_path), *NO_SOURCE]
    leak = jobs_of(leak_sweep.main, base, monkeypatch)
    steps = jobs_of(timestep_sweep.main, base, monkeypatch)
    jobs = leak + steps
    assert all(j["dset"] == "cifar10" and sweep_jobs.model_name(j).startswith("cifar10-") for j in jobs)
    assert {j["kind"] for j in leak} == {"cnn", "snn"} and {j["kind"] for j in steps} == {"snn", "converted"}
    assert not any("encoding" in j for j in jobs)   # the recipe's direct input is the dataset's default
    assert all(sweep_jobs.deterministic(j) for j in jobs)
    # each eps a point of its own, on the same model
    assert {j["eps"] for j in jobs} == {0.0157, 0.0314}
    by_eps = {e: sorted(sweep_jobs.model_name(j) for j in jobs if j["eps"] == e) for e in (0.0157, 0.0314)}
    assert by_eps[0.0157] == by_eps[0.0314]
    # the series: issue 30's, at the recipe's reference
    snn = {(j["leak"], j["T"]) for j in jobs if j["kind"] == "snn"}
    assert snn == {(1.0, 8), (0.99, 8), (0.95, 8), (0.9, 8), (1.0, 4), (1.0, 16)}
    conv = {(j["T"], j["levels"]) for j in steps if j["kind"] == "converted"}
    assert conv == {(16, 256), (32, 256), (64, 256), (128, 256), (64, 4), (64, 8)}
    crafted_at = {json.dumps(j["craft_at"]) for j in jobs if j.get("craft_at")}
    assert crafted_at == {'{"leak": 1.0}', '{"T": 8}', '{"T": 64}', '{"levels": 256}'}
    # every SNN of a seed starts from that seed's one CNN: the hybrid trains --from it, every converted SNN
    # (every level) converts it, and it is the seed's CNN point
    cnn_points = {j["seed"]: sweep_jobs.model_name(j) for j in leak if j["kind"] == "cnn"}
    assert sorted(cnn_points) == [0, 1, 2]
    for j in jobs:
        if j["kind"] != "cnn":
            assert sweep_jobs.needs_cnn(j) and j["cnn_model"] == cnn_points[j["seed"]]
            assert sweep_jobs.model_name(sweep_jobs.cnn_job(j)) == j["cnn_model"]
    refs = sweep_jobs.needed_references(jobs)
    assert {sweep_jobs.model_name(r) for r in refs if r["kind"] == "cnn"} == set(cnn_points.values())
    cnn = next(j for j in leak if j["kind"] == "cnn" and j["seed"] == 0)
    hybrid = next(j for j in leak if j["kind"] == "snn" and j["seed"] == 0)
    assert (cnn["epochs"], hybrid["epochs"], hybrid["cnn_epochs"], cnn["n_train"]) == (20, 1, 20, 50000)
    # the reference protocol crafts on the hybrid at the reference, which starts from the same CNN
    off = next(j for j in leak if j.get("craft_at") and j["seed"] == 1)
    ref = sweep_jobs.reference_job(off)
    assert (ref["leak"], ref["cnn_model"], "encoding" in ref) == (1.0, cnn_points[1], False)


def test_cifar_hybrid_trains_from_its_seeds_cnn(tmp_path, monkeypatch):
    """sweep_points.train() of a hybrid job: the seed's CNN first (train_locked), then networks.train --net snn
    --from its run directory, on CIFAR-10; a converted job converts the same directory."""
    from networks import pipeline
    s = sweep_points.settings(leak_sweep.parse_args(["--dset", "cifar10", "--out", str(tmp_path), *NO_SOURCE]))
    hybrid = sweep_jobs.with_seed(sweep_jobs.make_job("snn", s, leak=0.9), 2)
    conv = sweep_jobs.with_seed(sweep_jobs.make_job("converted", s, levels=4), 2)
    trained, runs = [], []

    def fake_train_locked(job):   # a finished CNN run, as networks.train leaves it (what --from checks)
        trained.append(job)
        run = tmp_path / "runs" / sweep_jobs.model_name(job)
        run.mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(json.dumps({"net": "cnn", "dset": "cifar10", "model": {"arch": TINY_BN},
                                                     "train": {"seed": job["seed"]}}))
        (run / "model.pt").write_bytes(b"")
        return run, {}

    def fake_run(args, data):
        runs.append(args)
        return {}
    monkeypatch.setattr(sweep_points, "train_locked", fake_train_locked)
    monkeypatch.setattr(pipeline, "run", fake_run)
    monkeypatch.setattr(pipeline, "load_data", lambda dset, data_dir=None: (np.zeros((2, 32, 32, 3), np.uint8),) * 4)
    monkeypatch.setattr(sweep_points, "quantized", lambda data, levels: data)
    for job in (hybrid, conv):
        sweep_points.train(job, tmp_path / "runs" / sweep_jobs.model_name(job))
    cnn_dir = str(tmp_path / "runs" / hybrid["cnn_model"])
    assert [sweep_jobs.model_name(j) for j in trained] == [hybrid["cnn_model"]] * 2 and hybrid["cnn_model"] == conv["cnn_model"]
    assert all(j["kind"] == "cnn" and j["seed"] == 2 and j["levels"] == 256 and j["epochs"] == 20 for j in trained)
    h, c = runs
    assert (h.net, h.dset, h.from_dir, h.timesteps, h.leak, h.encoding, h.seed, h.epochs) == (
        "snn", "cifar10", cnn_dir, 8, 0.9, "direct", 2, 1)
    assert (h.percentile, h.lr, h.precision) == (recipes.CPU_HYBRID["percentile"], recipes.CPU_HYBRID["lr"], "bf16")
    assert (c.net, c.dset, c.from_dir, c.timesteps, c.encoding, c.v_init) == ("converted", "cifar10", cnn_dir, 64, "direct", 0.5)
    with pytest.raises(ValueError, match="names CNN"):   # a job whose CNN is not its seed's
        sweep_points.train(dict(hybrid, seed=0), tmp_path / "x")


def test_cifar_options_the_dataset_rules_out_and_the_transfer_source(tmp_path, capsys):
    base = ["--dset", "cifar10", "--out", str(tmp_path)]
    for main, bad in ((leak_sweep.parse_args, ["--tau-exc", "100"]), (timestep_sweep.parse_args, ["--present-ms", "100"]),
                      (timestep_sweep.parse_args, ["--quantize", "bio"])):
        with pytest.raises(SystemExit):
            main(base + bad)
    capsys.readouterr()
    # no independent source: measuring refuses, --estimate does not
    with pytest.raises(UserError, match="no transfer source"):
        sweep_points.settings(leak_sweep.parse_args(base + ["--torch-device", "cpu"]))
    assert sweep_points.settings(leak_sweep.parse_args(base + ["--torch-device", "cpu", "--estimate"]))["source"] is None
    # a source sharing a seed with the sweep's models is not black-box
    run = tmp_path / "cnn-cifar10-s1"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"net": "cnn", "dset": "cifar10", "train": {"seed": 1}}))
    with pytest.raises(UserError, match="seed 1, one of the sweep's"):
        sweep_points.settings(leak_sweep.parse_args(base + ["--torch-device", "cpu", "--seeds", "3", "--source", str(run)]))
    assert sweep_points.settings(leak_sweep.parse_args(base + ["--torch-device", "cpu", "--seed", "2", "--source",
                                                                str(run)]))["source"] == str(run.resolve())
    with pytest.raises(UserError, match="is a cifar10 run"):
        sweep_points.settings(leak_sweep.parse_args(["--out", str(tmp_path), "--torch-device", "cpu", "--source", str(run)]))


def test_estimate_prints_the_cifar_stages(tmp_path, capsys):
    base = ["--dset", "cifar10", "--seeds", "3", "--out", str(tmp_path), "--estimate", "--jobs", "2"]
    est = leak_sweep.main(base)
    out = capsys.readouterr().out
    assert est["points_left"] == 48 and est["models_to_train"] == 3 + 4 * 3
    assert "CIFAR-10, converged, 3 seeds per point" in out and "eps 0.0157, 0.0314" in out
    assert "training: CNN 3 x" in out and "hybrid SNN fine-tuning 12 x" in out
    assert "snn T 8 leak 0.9 L256 eps 0.0314 ensemble: 3 seed(s) x 1000 images" in out
    assert "snn T 8 leak 0.95 L256 eps 0.0157 full: 3 seed(s) x 500 images" in out
    assert set(est["training_hours"]) == {"CNN", "hybrid SNN fine-tuning"}
    est = timestep_sweep.main(base)
    out = capsys.readouterr().out
    assert "conversion 18 x" in out and "converted T 128 L256 eps 0.0157 full crafted at T 64" in out
    assert est["hours"]["one core"] > est["hours"]["training alone, one core"] > 0
    # the cost model: a CIFAR-10 gradient costs more than an MNIST one, direct input one draw per gradient
    each = {r["point"]: r["hours_each"] / r["n_test"] for r in est["points"]}   # per test image
    # crafting through the converted SNN's own surrogate costs in proportion to its time steps
    assert 3.5 < each["converted T 128 L256 eps 0.0157 full"] / each["converted T 32 L256 eps 0.0157 full"] < 4.5


# --- a tiny CIFAR-10 sweep, end to end -----------------------------------------------------------------
def fake_cifar_load(name, split, data_dir=None):
    """Colour 32x32 images whose class is the brightest of 4 channels-and-halves (tests/test_cifar_recipe.py)."""
    assert name == "cifar10"
    n, seed = (48, 1) if split == "train" else (12, 2)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 4, n)
    x = rng.integers(0, 100, (n, 32, 32, 3)).astype(np.uint8)
    for k in range(n):
        x[k, (y[k] // 3) * 16:(y[k] // 3) * 16 + 16, :, y[k] % 3] += 120
    return x, y.astype(np.int64)


def test_tiny_cifar_sweep_trains_the_hybrid_and_the_converted_snn_from_the_seeds_cnn(tmp_path, monkeypatch):
    monkeypatch.setattr(imagesets, "load", fake_cifar_load)
    monkeypatch.setitem(recipes.CPU_CNN, "arch", TINY_BN)   # RECIPES' cpu cnn entry is this dict
    monkeypatch.setitem(recipes.RECIPES["cifar10"]["cpu"]["converted"], "arch", TINY_BN)
    out = tmp_path / "sweeps"
    summary = timestep_sweep.main(["--dset", "cifar10", "-t", "2", "--converted-timesteps", "4", "--quantize",
                                   "--eps", "0.0157", "0.0314", "--n-train", "48", "--epochs", "1", "--n-test", "12",
                                   "--out", str(out), "--no-progress", "--jobs", "1", *NO_SOURCE, "--suite", "fgsm",
                                   "--ensemble", "none", "--protocols", "swept"])
    assert summary["n_failed"] == 0 and len(summary["points"]) == 4 and set(summary["by_eps"]) == {"eps0.0157", "eps0.0314"}
    for folder in summary["by_eps"]:   # a summary and the figures per eps, each in its own folder
        saved = load_json(out / folder / "timestep_sweep.json")
        assert saved["settings"]["eps"] == float(folder[3:]) and len(saved["points"]) == 2
        assert saved["settings"]["dset"] == "cifar10" and (out / folder / "timestep_sweep.png").exists()
    assert not (out / "timestep_sweep.json").exists() and sorted(p.name for p in (out / "points").glob("*.json")) == sorted(
        f"{p['name']}.json" for p in summary["points"])
    points = {p["job"]["kind"]: p for p in summary["points"] if p["job"]["eps"] == 0.0157}
    hybrid, conv = points["snn"], points["converted"]
    cnn_dir = out / "runs" / hybrid["job"]["cnn_model"]
    assert hybrid["job"]["cnn_model"] == conv["job"]["cnn_model"] and (cnn_dir / "model.pt").exists()
    assert load_json(cnn_dir / "metrics.json")["dset"] == "cifar10"
    h_cfg, c_cfg = (load_json(f"{p['run']}/config.json") for p in (hybrid, conv))
    assert h_cfg["dset"] == c_cfg["dset"] == "cifar10"
    assert h_cfg["train"]["from_dir"] == c_cfg["train"]["from_dir"] == str(cnn_dir)
    assert h_cfg["model"]["arch"] == without_batchnorm(TINY_BN) and h_cfg["model"]["encoding"] == "direct"
    assert (h_cfg["model"]["T"], h_cfg["model"]["leak"], c_cfg["model"]["T"]) == (2, 1.0, 4)
    for p in (hybrid, conv):
        assert p["eval"]["eot"] == 1 and p["eval"]["n"] == 12 and "redraw" not in p["eval"]   # deterministic
        assert 0 <= p["eval"]["clean_accuracy"] <= 1 and "fgsm" in p["eval"]["deltas"]
    assert "bpda" in conv["eval"]["deltas"]
    # the same command again reads every point back
    monkeypatch.setattr(sweep_points, "run_job", lambda job: pytest.fail("recomputed a cached point"))
    again = timestep_sweep.main(["--dset", "cifar10", "-t", "2", "--converted-timesteps", "4", "--quantize",
                                 "--eps", "0.0157", "0.0314", "--n-train", "48", "--epochs", "1", "--n-test", "12",
                                 "--out", str(out), "--no-progress", "--jobs", "1", *NO_SOURCE, "--suite", "fgsm",
                                 "--ensemble", "none", "--protocols", "swept"])
    assert sorted(p["name"] for p in again["points"]) == sorted(p["name"] for p in summary["points"])


def test_tiny_cifar_leak_sweep_with_the_suite_the_ensemble_and_the_reference_protocol(tmp_path, monkeypatch):
    """The hybrid's leak series measured as issue 30 asks (at the tests' attack budget): the suite and the
    surrogate ensemble at the ends, the reference protocol crafting on the leak-1 hybrid of the same CNN."""
    from tests.test_analysis import tiny_suite
    monkeypatch.setattr(imagesets, "load", fake_cifar_load)
    monkeypatch.setitem(recipes.CPU_CNN, "arch", TINY_BN)
    monkeypatch.setattr(sweep_points, "suite_spec", lambda name, kind: name != "fgsm" and tiny_suite(name, kind))
    out = tmp_path / "sweeps"
    summary = leak_sweep.main(["--dset", "cifar10", "--leaks", "1", "0.9", "-t", "2", "--eps", "0.0314", "--n-train",
                               "48", "--epochs", "1", "--n-test", "12", "--out", str(out), "--no-progress", "--jobs",
                               "1", *NO_SOURCE, "--suite", "full", "--ensemble", "ends", "--protocols", "swept",
                               "reference"])
    assert summary["n_failed"] == 0 and (out / "leak_sweep.json").exists()
    pts = {(p["job"]["kind"], p["job"].get("leak"), "craft_at" in p["job"]): p for p in summary["points"]}
    assert set(pts) == {("cnn", None, False), ("snn", 1.0, False), ("snn", 0.9, False), ("snn", 0.9, True)}
    cnn_models = {p["job"].get("cnn_model") for k, p in pts.items() if k[0] == "snn"}
    assert cnn_models == {sweep_jobs.model_name(pts["cnn", None, False]["job"])}
    for key in (("snn", 1.0, False), ("snn", 0.9, False)):   # the ends: the ensemble's worst case, one draw
        ev = pts[key]["eval"]
        assert ev["ensemble"]["worst_case"]["adv_accuracy"] <= ev["worst_case"]["adv_accuracy"] and ev["eot"] == 1
        assert "pgd/straight_through" in ev["attacks"]
    ref = pts["snn", 0.9, True]["eval"]
    assert ref["protocol"]["crafted_on"] == pts["snn", 1.0, False]["run"] and "ensemble" not in ref
