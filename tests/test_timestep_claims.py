"""analysis.timestep_sweep's converted-SNN series (Sharmin 2020: pre-quantization matters, T does not) and its
Poisson-against-direct-input series, on tiny synthetic data (issue 28, item 6 (a) and (c))."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from analysis import measurement, saved_results, seed_claims, sweep_jobs, sweep_points, timestep_sweep
from analysis.defaults import REF
from analysis.report import write_report
from networks.converted import convert
from networks.registry import load_model
from runstore.files import load_json
from tests.test_analysis import fake_load, tiny_mnist, tiny_sweep  # noqa: F401 (tiny_mnist: a fixture)

ARGV = ["-t", "2", "--present-ms", "--levels", "2", "256", "--quantize", "cnn", "converted", "--converted-timesteps",
        "2", "4", "--converted-levels", "2", "256", "--converted-T", "2", "--encodings", "poisson", "direct",
        "--leak", "0.9", "--n-train", "48", "--n-test", "12", "--eot", "1", "--source", "none", "--no-progress",
        "--jobs", "1", "--suite", "full", "--ensemble", "none", "--protocols", "swept", "reference"]


@pytest.fixture(scope="module")
def claims(tmp_path_factory):
    """The tiny sweep with both new series, the full (tiny) suite and both protocols, run once."""
    out = tmp_path_factory.mktemp("claims") / "sweeps"
    summary = tiny_sweep(timestep_sweep.main, ARGV + ["--out", str(out)], tiny_attacks=True)
    return out, summary, json.loads((out / "timestep_sweep.json").read_text())


def test_converted_points_convert_the_same_seeds_cnn_point(claims, tiny_mnist):
    out, summary, data = claims
    assert data["n_failed"] == 0
    assert (data["converted_timesteps"], data["converted_levels"], data["converted_T"]) == ([2, 4], [2, 256], 2)
    cnn = {p["job"]["levels"]: p for p in data["points"] if p["job"]["kind"] == "cnn"}
    conv = [p for p in data["points"] if p["job"]["kind"] == "converted"]
    assert sorted({(p["job"]["T"], p["job"]["levels"]) for p in conv}) == [(2, 2), (2, 256), (4, 256)]
    x, y = fake_load("mnist", "train")
    x_train = torch.as_tensor(sweep_points.quantized((x, y, x, y), 2)[0])   # what the CNN and the conversion saw
    for p in conv:
        job, cfg = p["job"], load_json(Path(p["run"]) / "config.json")
        source = cnn[job["levels"]]
        assert job["cnn_model"] == sweep_jobs.model_name(source["job"]) == Path(source["run"]).name
        assert Path(cfg["converted_from"]) == Path(source["run"]) and cfg["train"]["seed"] == job["seed"]
        assert set(p["eval"]["deltas"]) == {"fgsm", "bpda", "random"}          # no --source here
        assert {"pgd", "pgd/bpda"} <= set(p["eval"]["attacks"]) and "fgsm/bpda" in p["eval"]["worst_case"]["attacks"]
        if job["levels"] == 2:   # the same weights: converting that CNN again on the same images gives this net
            again, _ = convert(load_model(source["run"]), x_train[:2000], T=job["T"], leak=1.0)
            mine = load_model(p["run"]).state_dict()
            assert all(torch.equal(v, mine[k]) for k, v in again.state_dict().items())
    # the series, as the report reads them (seeds merged); the reference protocol crafts at T 2, 256 levels
    assert [p["job"]["T"] for p in saved_results.converted_points(data, "T")] == [2, 4]
    assert [p["job"]["levels"] for p in saved_results.converted_points(data, "levels")] == [2, 256]
    ref = saved_results.converted_points(data, "T", protocol="reference")
    assert [(p["job"]["T"], p["job"]["craft_at"]) for p in ref] == [(4, {"T": 2})]
    assert ref[0]["eval"]["protocol"]["crafted_on"] == saved_results.converted_points(data, "T")[0]["run"]


def test_direct_input_snn_is_deterministic_with_a_nonzero_gradient_and_keeps_the_poisson_point(claims, tiny_mnist):
    out, summary, data = claims
    direct, poisson = (next(p for p in data["points"] if p["job"]["kind"] == "snn" and p["job"]["T"] == REF["T"]
                            and p["job"].get("encoding") == e and "craft_at" not in p["job"]) for e in ("direct", None))
    assert Path(direct["run"]).name.startswith("snn-leak0.9-T8-direct-L256-")
    assert "encoding" not in poisson["job"]           # the reference point: its name as before
    assert poisson["name"] == sweep_jobs.point_name({k: v for k, v in direct["job"].items() if k != "encoding"})
    assert direct["eval"]["eot"] == 1 and "redraw" not in direct["eval"] and direct["eval"]["noise_floor"] is None
    assert direct["eval"]["deltas"]["fgsm"]["linf"] > 0.09    # FGSM moved the pixels: the gradient is not zero
    subj = measurement.subject("snn", direct["run"])
    x, y = measurement.load_test(12)
    assert not subj.stochastic and subj.model.encoding == "direct"
    assert np.array_equal(subj.predict(x, 1), subj.predict(x, 2)) and torch.equal(subj.scores(x), subj.scores(x))
    x = x.clone().requires_grad_(True)
    torch.nn.functional.cross_entropy(subj.scores(x), y).backward()
    assert (x.grad != 0).float().mean() > 0.05
    # the series as the report reads it, in --encodings order; the other series leave the direct point out
    assert [p["job"].get("encoding", "poisson") for p in saved_results.encoding_points(data)] == ["poisson", "direct"]
    assert all("encoding" not in p["job"] for p in saved_results.points_of(data, "snn", "T", {"levels": 256}))
    assert all("encoding" not in p["job"] for p in saved_results.quant_points(data, "snn"))
    crafted = next(p for p in data["points"] if p["job"].get("craft_at") == {"encoding": "poisson"})
    assert crafted["eval"]["protocol"]["crafted_on"] == poisson["run"]


def test_report_judges_both_new_claims_on_the_tiny_sweep(claims, tmp_path):
    """End to end: REPORT.md's tables, claims and forest rows of the two series from what the sweep saved."""
    out, summary, data = claims
    made = {"timestep_sweep": data}
    text = write_report(tmp_path, made, []).read_text()
    converted, encoding = seed_claims.converted_claim(data), seed_claims.encoding_claim(data)
    assert [c.statement for c in made["claims"]][-2:] == [converted.statement, encoding.statement]
    # the suite's worst case (its attacks through the CNN too) decides, seeds' points merged
    first = converted.effects[0]
    assert first.name == "converted SNN T 2 -> 4, worst-case ASR difference" and first.expect == 0 and first.counted
    assert any(e.name == "converted SNN (T 2) levels 2 -> 256, bpda ASR difference" for e in converted.effects)
    assert encoding.effects[0].name == "SNN T 8 input direct -> poisson, worst-case ASR difference"
    assert any("crafted at encoding poisson" in e.name for e in encoding.effects)   # the reference protocol
    assert "### The converted SNN: time steps and input pre-quantization (levels series at T = 2)" in text
    assert "| BPDA adv % | BPDA ASR % |" in text and "### Poisson against direct input (surrogate SNN, T = 8)" in text
    rows = json.loads((tmp_path / "claims_forest.json").read_text())["rows"]
    assert {r["part"] for r in rows} >= {e.name for e in converted.effects + encoding.effects}


def test_figures_draw_the_converted_column_its_bpda_line_and_both_encodings(claims, tmp_path):
    """The figures of what the tiny sweep saved: the sweep drew them beside its JSON, and drawn again they show
    the converted SNN's T column with its BPDA line, its levels series, and Poisson beside direct input."""
    from analysis.sweep_figures import BPDA, WORST, encoding_figure, quantization_figure, timestep_figure
    out, summary, data = claims
    assert all((out / f"{name}.png").exists() for name in ("timestep_sweep", "quantization_sweep", "encoding"))
    ts = timestep_figure(data, tmp_path / "timestep_sweep")
    assert ts.shows("converted SNN (IF, from the CNN)") and ts.shows("time steps T (reference 2)") and ts.shows(BPDA)
    assert ts.panels == 4 and [m for m, _ in ts.missing] == ["Brian2 STDP network (no points)"]   # no --present-ms
    q = quantization_figure(data, tmp_path / "quantization_sweep")
    assert q.shows("converted SNN") and q.shows(BPDA) and not q.shows("Brian2")
    enc = encoding_figure(data, tmp_path / "encoding")
    assert enc.shows("Poisson input") and enc.shows("direct input (constant current)") and enc.shows(WORST)
    assert not enc.missing and not enc.shows("ensemble")   # --ensemble none: no ensemble bars


def test_new_series_jobs_are_named_as_designed_and_old_names_stay(tmp_path):
    args = timestep_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu"])
    s = sweep_points.settings(args)
    assert sweep_jobs.make_job("snn", s, encoding="poisson") == sweep_jobs.make_job("snn", s)   # no new key
    with pytest.raises(ValueError):
        sweep_jobs.make_job("cnn", s, encoding="direct")
    conv = sweep_jobs.make_job("converted", s, levels=4)
    assert conv["T"] == 32 and conv["epochs"] == 2 and sweep_jobs.model_name(conv).startswith("converted-T32-L4-")
    for seed in (0, 3):   # every seed converts its own CNN point
        c = sweep_jobs.with_seed(conv, seed)
        assert c["cnn_model"] == sweep_jobs.model_name(sweep_jobs.with_seed(sweep_jobs.make_job("cnn", s, levels=4), seed))
    direct = sweep_jobs.make_job("snn", s, encoding="direct")
    ref = sweep_jobs.reference_job(dict(direct, craft_at={"encoding": "poisson"}))
    assert sweep_jobs.model_name(ref) == sweep_jobs.model_name(sweep_jobs.make_job("snn", s))
    ref = sweep_jobs.reference_job(dict(conv, craft_at={"levels": 256}))   # converted from the 256-level CNN
    assert ref["cnn_model"] == sweep_jobs.model_name(sweep_jobs.make_job("cnn", s))
    jobs = timestep_sweep_jobs(args)
    assert {(j["T"], j["levels"]) for j in jobs if j["kind"] == "converted"} == \
        {(16, 256), (32, 256), (64, 256), (128, 256), (32, 2), (32, 4), (32, 8)}
    assert {j.get("encoding") for j in jobs if j["kind"] == "snn" and j["T"] == 8 and j["levels"] == 256} == {None, "direct"}
    # leaving the new series out gives the old sweep's jobs, names and all
    old = timestep_sweep_jobs(timestep_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device",
                                                         "cpu", "--quantize", "snn", "bio", "cnn",
                                                         "--converted-timesteps", "--encodings", "poisson"]))
    assert {j["kind"] for j in old} == {"snn", "bio", "cnn"} and all("encoding" not in j for j in old)
    assert {sweep_jobs.point_name(j) for j in old} <= {sweep_jobs.point_name(j) for j in jobs}


def timestep_sweep_jobs(args) -> list[dict]:
    got = {}
    with pytest.MonkeyPatch.context() as m:
        m.setattr(timestep_sweep, "parse_args", lambda argv=None: args)
        m.setattr(timestep_sweep, "sweep", lambda name, jobs, *a: got.setdefault("jobs", jobs))
        timestep_sweep.main()
    return got["jobs"]


def test_forecast_counts_conversions_and_their_cnn_once(tmp_path):
    args = timestep_sweep.parse_args(["--out", str(tmp_path), "--source", "none", "--torch-device", "cpu", "--suite",
                                      "full", "--protocols", "swept"])
    s = sweep_points.settings(args)
    cnn = sweep_jobs.make_job("cnn", s, levels=2)
    convs = sweep_points.with_measurements([sweep_jobs.make_job("converted", s, levels=2, T=t) for t in (16, 32)],
                                           "T", args, ref=32)
    cnn_train = sweep_jobs.expected_seconds(cnn, train_only=True)
    assert cnn_train > 0 and all(sweep_jobs.expected_seconds(j) > sweep_jobs.expected_seconds(j, True) > 0 for j in convs)
    alone = sweep_jobs.expected_costs(convs)   # the CNN is no point of this list: trained once, by the first
    assert alone == pytest.approx([sweep_jobs.expected_seconds(convs[0]) + cnn_train, sweep_jobs.expected_seconds(convs[1])])
    assert sweep_jobs.expected_costs([cnn] + convs) == [sweep_jobs.expected_seconds(j) for j in [cnn] + convs]
    assert sweep_jobs.forecast(convs, 1) == pytest.approx(sum(alone))
    # the suite through its own surrogate costs T-fold, through its CNN (BPDA) not
    assert sweep_jobs.expected_seconds(convs[1]) > sweep_jobs.expected_seconds(convs[0])
    assert sweep_jobs.bpda_gradients(convs[0]) == 1 + sum(sweep_jobs.suite_gradients(convs[0]["suite"], 0, True).values())
    report = sweep_jobs.estimate("timestep_sweep", convs, 1, "test")
    assert report["models_to_train"] == 3 and report["hours"]["one core"] == pytest.approx(sum(alone) / 3600)
    # a direct-input SNN is deterministic: EOT 1, so its suite costs less than the Poisson one's
    poisson, direct = (sweep_points.with_measurements([sweep_jobs.make_job("snn", s, encoding=e)], None, args)[0]
                       for e in ("poisson", "direct"))
    assert sweep_jobs.suite_work(direct)[0] < sweep_jobs.suite_work(poisson)[0]
