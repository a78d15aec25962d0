"""Issue 27's size series (analysis.size_series): the two attack folders of each network size paired, the
intervals against a hand computation, the sizes not computed yet named with their commands, and REPORT.md's
table, trend and figure (analysis.report, analysis.attack_figures.size_figure). Synthetic attack.json summaries
in tmp_path; nothing is trained or attacked."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml
from scipy import stats

from analysis import figures, size_series
from analysis.effects import wilson_interval
from analysis.size_series import ALL_CMD, FGSM_EPS, MAIN_EPS, SIZES

N = 1000
PROJECT = Path(__file__).resolve().parents[1]


def robust(clean: float, adv: float, n: int = N) -> dict:
    correct = round(clean * n)
    return {"n": n, "clean_accuracy": clean, "adv_accuracy": adv,
            "attack_success_rate": (correct - round(adv * n)) / correct}   # every adv-correct image was clean-correct


def summary(n_exc: int, kind: str, clean: float, adv: dict, network: bool = True, n: int = N) -> dict:
    """analysis.attack's attack.json of one size folder: ``kind`` "main" (FGSM and PGD-10 at 0.1) or "fgsm" (FGSM
    at the other eps); ``adv``: (attack, eps) -> Brian2's adversarial accuracy (assignment readout)."""
    attacks = ["fgsm", "pgd"] if kind == "main" else ["fgsm"]
    rows = [{"attack": a, "eps": e, "n": n, "craft_seconds": 1.0, "score_seconds": 1.0,
             "brian2": {"assignment": robust(clean, acc, n), "softmax": robust(clean, acc, n)},
             "twin": robust(clean, acc, n)} for (a, e), acc in adv.items()]
    s = {"settings": {"run": f"runs/stdp-mnist-n{n_exc}-s0", "attack": attacks, "eps": sorted({e for _, e in adv}),
                      "steps": 10, "n_test": n, "readout": "assignment"},
         "n_test": n, "clean": {"brian2": {"assignment": clean, "softmax": clean}, "twin": clean}, "results": rows}
    if network:
        s["network"] = {"n_exc": n_exc, "tau_exc_ms": 100.0}
    return s


def main_of(n_exc, clean, fgsm, pgd, **kw):
    return summary(n_exc, "main", clean, {("fgsm", MAIN_EPS): fgsm, ("pgd", MAIN_EPS): pgd}, **kw)


def fgsm_of(n_exc, clean, accs, **kw):
    return summary(n_exc, "fgsm", clean, {("fgsm", e): a for e, a in zip(FGSM_EPS, accs)}, **kw)


def write(res: Path, folder: str, s: dict) -> None:
    d = res / "attack" / folder
    d.mkdir(parents=True)
    (d / "attack.json").write_text(json.dumps(s))


# --- the reader -------------------------------------------------------------------------------------------
def test_reader_pairs_the_two_folders_of_each_size_and_names_what_is_missing():
    given = {"results/attack/size-n100/attack.json": main_of(100, 0.84, 0.60, 0.55),
             "results/attack/size-n100-fgsm/attack.json": fgsm_of(100, 0.84, [0.75, 0.35, 0.14]),
             "size-n400": main_of(400, 0.90, 0.70, 0.66, network=False),   # no "network": from the folder's name
             # the summary's own record wins over the folder's name
             "results/attack/size-n9-fgsm/attack.json": fgsm_of(6400, 0.93, [0.9, 0.6, 0.3]),
             "results/attack/n100-s0/attack.json": main_of(100, 0.5, 0.1, 0.1)}   # not of the series
    series = size_series.size_series(given)
    assert [s["n_exc"] for s in series["sizes"]] == [100, 400, 6400]
    small, mid, large = series["sizes"]
    assert small["folders"] == ["size-n100", "size-n100-fgsm"] and mid["folders"] == ["size-n400"]
    assert large["folders"] == ["size-n9-fgsm"]
    assert [(r["attack"], r["eps"], r["folder"]) for r in small["rows"]] == [
        ("fgsm", 0.05, "size-n100-fgsm"), ("fgsm", 0.1, "size-n100"), ("fgsm", 0.2, "size-n100-fgsm"),
        ("fgsm", 0.3, "size-n100-fgsm"), ("pgd", 0.1, "size-n100")]
    assert small["clean"]["value"] == 0.84 and small["n"] == N and small["pgd_steps"] == 10
    assert size_series.row(small, "pgd", 0.1)["adv_accuracy"]["value"] == 0.55
    assert size_series.row(large, "pgd", 0.1) is None and large["pgd_steps"] is None
    # what is missing of the four sizes, each with the workflow targets that make it
    assert [(m["n_exc"], m["what"], m["command"]) for m in series["missing"]] == [
        (400, "FGSM at eps 0.05, 0.2 and 0.3, 400 excitatory neurons",
         "python -m workflow -- results/attack/size-n400-fgsm/attack.json"),
        (1600, "1,600 excitatory neurons (no results)",
         "python -m workflow -- results/attack/size-n1600/attack.json results/attack/size-n1600-fgsm/attack.json"),
        (6400, "FGSM and PGD-10 at eps 0.1, 6,400 excitatory neurons",
         "python -m workflow -- results/attack/size-n6400/attack.json")]
    # the trend: largest minus smallest, an attack only where both sizes have it at eps 0.1
    assert [e["name"] for e in series["trend"]] == ["clean: 6,400 - 100 exc"]


def test_network_size_from_the_summary_the_folder_or_the_run():
    s = main_of(400, 0.9, 0.7, 0.6)
    assert size_series.network_size(s, "size-n100") == 400
    s.pop("network")
    assert size_series.network_size(s, "size-n1600-fgsm") == 1600
    assert size_series.network_size(s, "elsewhere") == 400   # runs/stdp-mnist-n400-s0
    assert size_series.is_size_folder("results/attack/size-n400-fgsm/attack.json")
    assert not size_series.is_size_folder("results/attack/n400-query/attack.json")


def test_intervals_match_a_hand_computation():
    # Wilson at 84 % of 1,000: centre (p + z^2/2n) / (1 + z^2/n), half z / (1 + z^2/n) sqrt(p(1-p)/n + z^2/4n^2)
    low, high = wilson_interval(0.84, 1000)
    assert low == pytest.approx(0.815984, abs=1e-5) and high == pytest.approx(0.861415, abs=1e-5)
    ref = stats.binomtest(840, 1000).proportion_ci(0.95, method="wilson")
    assert (low, high) == pytest.approx((ref.low, ref.high), abs=1e-6)
    assert wilson_interval(0.0, 20) == pytest.approx((0.0, 3.841459 / (20 + 3.841459)), abs=1e-6)   # not empty at 0
    assert all(math.isnan(v) for v in wilson_interval(0.5, 0))
    # in the series: each accuracy on its n, the ASR on the clean-correct images of its row
    series = size_series.size_series({"size-n100": main_of(100, 0.84, 0.60, 0.55),
                                      "size-n6400": main_of(6400, 0.93, 0.70, 0.62)})
    small = series["sizes"][0]
    assert small["clean"]["ci95"] == pytest.approx([0.815984, 0.861415], abs=1e-5)
    fgsm = size_series.row(small, "fgsm", 0.1)
    assert fgsm["adv_accuracy"]["ci95"] == pytest.approx(wilson_interval(0.60, 1000))
    assert fgsm["attack_success_rate"]["n"] == 840
    assert fgsm["attack_success_rate"]["value"] == pytest.approx(240 / 840)
    # the trend, 6,400 minus 100 at eps 0.1 in points, +- two standard errors of the two proportions
    trend = {e["name"].split(":")[0]: e for e in series["trend"]}
    fg = trend["FGSM eps 0.1"]
    half = 200 * math.sqrt(0.7 * 0.3 / 1000 + 0.6 * 0.4 / 1000)   # 4.24 points
    assert (fg["estimate"], fg["low"], fg["high"]) == pytest.approx((10.0, 10.0 - half, 10.0 + half))
    assert size_series.direction(fg) == "grows"
    pgd = trend["PGD-10 eps 0.1"]
    assert pgd["estimate"] == pytest.approx(7.0) and size_series.direction(pgd) == "grows"
    # the ASR on each size's clean-correct images: 6,400 (930 correct) 230 / 930 fooled, 100: 240 / 840
    asr = trend["FGSM eps 0.1 ASR"]
    a, b = 230 / 930, 240 / 840
    half = 200 * math.sqrt(a * (1 - a) / 930 + b * (1 - b) / 840)
    assert (asr["estimate"], asr["low"], asr["high"]) == pytest.approx((100 * (a - b), 100 * (a - b) - half,
                                                                         100 * (a - b) + half))
    assert asr["unit"] == "ASR points" and size_series.direction(asr) == "no change beyond noise"
    flat = size_series.size_series({"size-n100": main_of(100, 0.9, 0.60, 0.55),
                                    "size-n400": main_of(400, 0.9, 0.61, 0.45)})
    assert [size_series.direction(e) for e in flat["trend"]] == ["no change beyond noise", "no change beyond noise",
                                                                  "no change beyond noise", "shrinks", "grows"]


def test_the_protocol_is_full_yamls():
    """The reader's sizes, eps and folders are the full study's attack/size-n* entries."""
    conf = yaml.safe_load((PROJECT / "workflow/config/full.yaml").read_text())["attack"]
    for n in SIZES:
        main, fgsm = (conf[f"attack/{f}"] for f in size_series.folders_of(n))
        assert main["run"] == f"stdp-mnist-n{n}-s0" == fgsm["run"]
        assert f"--attack fgsm pgd --eps {MAIN_EPS:g} --n-test 1000 --steps 10" in main["args"]
        assert f"--attack fgsm --eps {' '.join(f'{e:g}' for e in FGSM_EPS)} --n-test 1000" in fgsm["args"]


# --- the figure and REPORT.md ---------------------------------------------------------------------------------
def draw(res: Path, tmp_path: Path) -> tuple[dict, str]:
    made = figures.main(["--results", str(res), "--bio-run", str(tmp_path / "none"), "--runs", str(tmp_path / "none")])
    return made, (res / "REPORT.md").read_text()


def test_report_shows_the_table_trend_and_figure_and_names_missing_sizes(tmp_path):
    res = tmp_path / "results"
    write(res, "size-n100", main_of(100, 0.84, 0.60, 0.55))
    write(res, "size-n100-fgsm", fgsm_of(100, 0.84, [0.75, 0.35, 0.14]))
    write(res, "size-n400", main_of(400, 0.90, 0.70, 0.66, network=False))
    write(res, "size-n6400", {**main_of(6400, 0.93, 0.70, 0.62), "epoch": 7})
    write(res, "size-n6400-fgsm", {**fgsm_of(6400, 0.93, [0.88, 0.40, 0.10]), "epoch": 7})
    write(res, "n100-s0", main_of(100, 0.84, 0.63, 0.58))   # an attack run outside the series
    made, report = draw(res, tmp_path)
    drawn, caption = made["figures"]["attack_size"], made["captions"]["attack_size"]
    assert drawn.path == res / "attack" / "accuracy_vs_size.png" and drawn.path.with_suffix(".pdf").exists()
    saved = json.loads((res / "attack" / "accuracy_vs_size.json").read_text())
    assert saved == json.loads(json.dumps(made["attack_size"]))   # the figure's numbers beside it
    assert drawn.panels == 2
    for p in caption[1]:   # promised by the caption and there in the picture
        assert p.lower() in caption[0].lower() and drawn.shows(p), (p, sorted(drawn.texts))
    for label in ("clean", "FGSM eps 0.05", "FGSM eps 0.1", "FGSM eps 0.3", "PGD-10 eps 0.1"):
        assert label in caption[1]
    for tick in ("100", "400", "6,400"):
        assert tick in caption[0]
    assert "1,600" not in caption[0].split("Not drawn")[0]   # not promised: not computed
    assert ("Not drawn: 1,600 excitatory neurons (no results); `python -m workflow -- "
            "results/attack/size-n1600/attack.json results/attack/size-n1600-fgsm/attack.json` makes it") in caption[0]
    assert "Not drawn: FGSM at eps 0.05, 0.2 and 0.3, 400 excitatory neurons" in caption[0]
    # the size folders have their own figure, not panels of the runs' one
    assert list(made["attack"]) == ["stdp-mnist-n100-s0"]
    section = report.split("## 5. Accuracy against epsilon")[1].split("\n## ")[0]
    assert "### Accuracy against network size" in section
    assert ("| excitatory neurons | n | clean % | FGSM eps 0.05 % | FGSM eps 0.1 % | FGSM eps 0.2 % | FGSM eps 0.3 % "
            "| PGD-10 eps 0.1 % |") in section
    assert "| 100 | 1000 | 84.0 [81.6, 86.1] | 75.0 [72.2, 77.6] | 60.0 [56.9, 63.0] |" in section
    assert "| 400 | 1000 | 90.0 [88.0, 91.7] | - | 70.0 [67.1, 72.8] | - | - | 66.0 [63.0, 68.9] |" in section
    # the trend, 6,400 minus 100 at eps 0.1, each with its interval
    assert "From 100 to 6,400 excitatory neurons" in section
    assert "accuracy under FGSM eps 0.1 +10.0 [+5.8, +14.2] points (grows)" in section
    assert "accuracy under PGD-10 eps 0.1 +7.0 [+2.6, +11.4] points (grows)" in section
    assert "attack success rate under FGSM eps 0.1 " in section
    assert "PGD's gain over FGSM at eps 0.1 (accuracy points): 100 exc +5.0, 400 exc +4.0, 6,400 exc +8.0;" in section
    assert "| 6,400 (epoch 7 weights) | 1000 |" in section   # analysis.attack --epoch: the epoch is named
    assert "![attack_size](attack/accuracy_vs_size.png)" in section
    assert section.index("| 100 |") < section.index("![attack_size]")


def test_one_size_gives_no_trend(tmp_path):
    res = tmp_path / "results"
    write(res, "size-n400-fgsm", fgsm_of(400, 0.9, [0.85, 0.5, 0.2]))
    made, report = draw(res, tmp_path)
    assert "One size measured so far (400 excitatory neurons): no trend yet." in report
    assert made["figures"]["attack_size"].panels == 2
    assert len(made["attack_size"]["missing"]) == 4 and "attack" not in made


def test_without_size_results_the_report_names_the_commands(tmp_path):
    res = tmp_path / "results"
    write(res, "n100-s0", main_of(100, 0.84, 0.63, 0.58))
    made, report = draw(res, tmp_path)
    assert "attack_size" not in made and "attack_size" not in made["figures"]
    assert not (res / "attack" / "accuracy_vs_size.json").exists()
    line = f"*Not drawn: accuracy against network size; `{ALL_CMD}` makes it.*"
    assert line in report.splitlines()
    assert ALL_CMD == ("python -m workflow -- " + " ".join(
        f"results/attack/size-n{n}{k}/attack.json" for n in SIZES for k in ("", "-fgsm")))
