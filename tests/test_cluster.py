"""Sweep points as tasks on dask.distributed (analysis.cluster), and several seeds per point."""
import json
import math

import pytest

from analysis import cluster, leak_sweep, report, sweep_jobs, sweep_points, verdicts
from analysis.effects import sign_of
from analysis.saved_results import mean_interval, merge_seeds, points_of
from analysis.sweep_effects import end_effect


def test_tasks_run_in_order_in_process_and_a_failure_loses_only_itself():
    done = []

    def task(k):
        if k == 1:
            raise ValueError("bad point")
        return k * 10

    results, failed = cluster.run_tasks(task, [0, 1, 2], keys=["a", "b", "c"], on_done=done.append)
    assert results == {0: 0, 2: 20} and [k for k, _ in failed] == ["b"] and "bad point" in failed[0][1]
    assert done == [0, 1, 2]


def test_a_tiny_sweep_on_a_local_cluster_survives_a_killed_worker(tmp_path, monkeypatch):
    """Two worker processes; one point kills its worker the first time it runs. Every point ends
    cached, and none that had finished is computed again (the saved JSON is the truth)."""
    args = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu",
                                  "--n-train", "48", "--n-test", "12", "--eot", "1", "-t", "2"])
    s = sweep_points.settings(args)
    jobs = [sweep_jobs.make_job("cnn", s)] + [sweep_jobs.make_job("snn", s, T=2, leak=v) for v in (1.0, 0.9)]
    real_run_job, log, killed = sweep_points.run_job, tmp_path / "started.log", tmp_path / "killed"

    def task(job):   # a closure: dask ships it by value to the workers, where it runs
        import os
        import imagesets
        from tests.conftest import bars
        imagesets.load = lambda name, split, data_dir=None: bars(48 if split == "train" else 12,
                                                                 seed=0 if split == "train" else 1)
        name = sweep_jobs.point_name(job)
        fresh = not (tmp_path / "points" / f"{name}.json").exists()
        with open(log, "a") as fh:
            fh.write(f"{name} {'fresh' if fresh else 'cached'}\n")
        if job.get("leak") == 0.9 and not killed.exists():
            killed.touch()
            os._exit(1)   # the worker process dies mid-task, as a lost cluster node would
        return real_run_job(job)

    monkeypatch.setattr(sweep_points, "run_job", task)
    results = sweep_points.run_jobs(jobs, n_jobs=2, progress=False)
    names = [sweep_jobs.point_name(j) for j in jobs]
    assert [r["name"] for r in results] == names and killed.exists()
    assert all((tmp_path / "points" / f"{n}.json").exists() for n in names)
    lines = [ln.split() for ln in log.read_text().splitlines()]
    fresh = {n: sum(1 for m, how in lines if m == n and how == "fresh") for n in names}
    assert fresh == {names[0]: 1, names[1]: 1, names[2]: 2}   # the killed point twice, the others once


def test_seeds_of_one_point_merge_into_a_mean_with_an_interval():
    def point(seed, clean, asr, leak=0.9):
        return {"name": f"p{seed}", "job": {"kind": "snn", "leak": leak, "levels": 256, "seed": seed},
                "eval": {"clean_accuracy": clean, "stages": ["input", "output"],
                         "deltas": {"fgsm": {"adv_accuracy": clean * (1 - asr), "attack_success_rate": asr,
                                             "change": {"input": {"value": 0.5, "ci95": [0.4, 0.6]}}}}}}

    pts = [point(0, 0.90, 0.40), point(1, 0.92, 0.44), point(2, 0.94, 0.42), point(0, 0.9, 0.2, leak=0.5)]
    merged = merge_seeds(pts)
    assert len(merged) == 2
    three = next(p for p in merged if p["job"]["leak"] == 0.9)
    assert three["seeds"] == [0, 1, 2] and three["eval"]["clean_accuracy"] == pytest.approx(0.92)
    m, h = mean_interval([0.90, 0.92, 0.94])
    assert m == pytest.approx(0.92) and h == pytest.approx(4.303 * 0.02 / math.sqrt(3), rel=1e-3)
    change = three["eval"]["deltas"]["fgsm"]["change"]["input"]
    assert change["value"] == pytest.approx(0.5) and change["ci95"] == pytest.approx([0.5, 0.5])
    row = report.sweep_rows([three], lambda j: "SNN")[0]
    assert row[0] == "SNN (3 seeds)" and row[1] == f"92.0 ± {100 * h:.1f}"
    summary = {"points": pts, "leak": 0.99}
    assert [len(p["per_seed"]) for p in points_of(summary, "snn", "leak", {})] == [1, 3]


def test_verdicts_on_several_seeds_test_the_seeds_spread():
    def pts(asr_a, asr_b):
        return [{"job": {"kind": "snn", "leak": leak, "seed": k},
                 "eval": {"clean_accuracy": 0.9, "deltas": {"transfer": {"adv_accuracy": 0.9 * (1 - a),
                                                                          "attack_success_rate": a}}}}
                for leak, asrs in ((1.0, asr_a), (0.8, asr_b)) for k, a in enumerate(asrs)]

    def sign(asr_a, asr_b):
        merged = sorted(merge_seeds(pts(asr_a, asr_b)), key=lambda p: -p["job"]["leak"])
        return sign_of(end_effect(merged[0], merged[1], "transfer", "leak 1 -> 0.8", lo_first=False))

    assert sign([0.30, 0.31, 0.29], [0.10, 0.11, 0.09]) == 1     # far apart: significant
    assert sign([0.30, 0.10, 0.50], [0.20, 0.35, 0.05]) == 0     # a wide spread over seeds: within noise
    assert verdicts.welch([0.1, 0.1], [0.3, 0.3]) == -1


def test_sweeps_take_seeds_and_a_scheduler_on_the_command_line(tmp_path):
    args = leak_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--seeds", "3",
                                  "--scheduler", "tcp://127.0.0.1:8786", "--torch-device", "cpu"])
    s = sweep_points.settings(args)
    assert s["seeds"] == 3 and args.scheduler == "tcp://127.0.0.1:8786"
    assert "3 seeds per point" in sweep_points.scale_note(s)
    with pytest.raises(SystemExit):   # a parse-time error: --seeds must be at least 1
        leak_sweep.parse_args(["--seeds", "0", "--source", "none"])
    json.dumps(s)   # settings are saved in the summary


def test_sweeps_default_to_converged_models_and_quick_is_the_small_budget(tmp_path, capsys):
    from analysis.defaults import CONVERGED, QUICK
    base = ["--source", "none", "--out", str(tmp_path)]
    converged = sweep_points.settings(leak_sweep.parse_args(base))
    quick = sweep_points.settings(leak_sweep.parse_args(base + ["--quick"]))
    mixed = sweep_points.settings(leak_sweep.parse_args(base + ["--quick", "--n-test", "1000"]))
    budget = ("n_train", "bio_n_train", "n_label", "n_test", "epochs")
    assert {k: converged[k] for k in budget} == {k: CONVERGED[k] for k in budget}
    assert {k: quick[k] for k in budget} == {k: QUICK[k] for k in budget}
    assert mixed["n_test"] == 1000 and mixed["n_train"] == QUICK["n_train"]   # a budget option given wins
    assert sweep_points.scale_note(converged).startswith("converged")
    assert sweep_points.scale_note(quick).startswith("quick") and sweep_points.scale_note(mixed).startswith("custom")
    # --estimate computes nothing and says what is left
    est = leak_sweep.main(base + ["--estimate", "--seeds", "2", "--leaks", "1", "0.9", "--tau-exc", "100",
                                  "--protocols", "swept"])
    assert est["points_left"] == 8 and est["models_to_train"] == 8 and not (tmp_path / "points").exists()
    assert "8 of 8 points to compute" in capsys.readouterr().out
    # a finer Brian2 time step costs more than in proportion (the saved points: tau 20 at dt/5 ~31x)
    jobs = {tau: sweep_jobs.make_job("bio", converged, tau_exc_ms=tau) for tau in (100.0, 20.0)}
    ratio = sweep_jobs.expected_seconds(jobs[20.0], True) / sweep_jobs.expected_seconds(jobs[100.0], True)
    assert 15 < ratio < 30
