"""analysis.accuracy_table and REPORT.md's clean-accuracy claim, on fake finished runs."""
import pytest

from analysis import accuracy_table
from analysis.seed_claims import PUBLISHED_ACCURACY, accuracy_claim
from runstore.files import save_json


def fake_run(root, name, net, acc, seed=0, dset="cifar10", n_test=10000, **extra):
    run = root / name
    run.mkdir(parents=True)
    save_json(run / "config.json", {"net": net, "dset": dset, "model": {"arch": "cifar", "T": 8 if net != "cnn" else None},
                                    "train": {"seed": seed, "recipe": "cpu"}})
    (run / "model.pt").write_bytes(b"")   # finished runs have weights (networks.registry.finished_runs)
    save_json(run / "metrics.json", {"test_accuracy": acc, "n_test": n_test, "n_train": 50000, "epochs": 2,
                                     "train_seconds": 120.0, "eval_seconds": 5.0, "seconds": 125.0, "threads": 2,
                                     "device": "cpu", "history": [{"seconds": 60.0}, {"seconds": 60.0}], **extra})
    return run


def test_table_keeps_each_finished_run_of_the_dataset(tmp_path):
    root = tmp_path / "runs"
    fake_run(root, "cnn-cifar10-s0", "cnn", 0.91)
    fake_run(root, "converted-cifar10-s0", "converted", 0.88, test_accuracy_by_T={"64": 0.88})
    fake_run(root, "cnn-mnist-s0", "cnn", 0.99, dset="mnist")
    stage = fake_run(root / "converted-cifar10-s0", "cnn", "cnn", 0.90)   # a stage inside a staged run
    (root / "unfinished").mkdir()
    out = accuracy_table.main(["--dset", "cifar10", "--runs-root", str(root), "--out", str(tmp_path / "acc")])
    assert [r["run"] for r in out["runs"]] == ["cnn-cifar10-s0", "converted-cifar10-s0"]
    assert out["runs"][1]["test_accuracy_by_T"] == {"64": 0.88} and out["runs"][0]["epoch_seconds"] == [60.0, 60.0]
    assert (tmp_path / "acc" / "cifar10.json").is_file()
    one = accuracy_table.main(["--dset", "cifar10", "--runs", str(stage), "--out", str(tmp_path / "acc")])
    assert one["runs"][0]["run"] == "converted-cifar10-s0/cnn"


def test_table_refuses_an_unfinished_run_with_a_clear_error(tmp_path):
    (tmp_path / "half").mkdir()
    with pytest.raises(SystemExit, match="not a finished networks.train run"):
        accuracy_table.main(["--dset", "cifar10", "--runs", str(tmp_path / "half"), "--out", str(tmp_path)])


def claim_of(runs):
    return accuracy_claim({"dset": "cifar10", "runs": runs})


def rec(net, acc, seed=0):
    return {"run": f"{net}-s{seed}", "net": net, "seed": seed, "test_accuracy": acc, "n_test": 10000,
            "train_seconds": 60.0, "threads": 2}


def test_claim_is_reproduced_only_when_every_seed000_net_reaches_its_number():
    seed = {net: v for net, (v, who) in PUBLISHED_ACCURACY["cifar10"].items() if who == "seed 000"}
    above = [rec(net, v + 0.02) for net, v in seed.items()]
    assert claim_of(above)[1] == "reproduced"
    # within two standard errors below (n 10,000: about 0.9 points) still counts as reached
    assert claim_of([rec(net, v - 0.003) for net, v in seed.items()])[1] == "reproduced"
    short = [rec("cnn", seed["cnn"] - 0.05)] + above[1:]
    assert claim_of(short)[1] == "partly"
    assert claim_of([rec(net, v - 0.05) for net, v in seed.items()])[1] == "not reproduced"


def test_claim_says_which_nets_are_missing_and_uses_the_lowest_seed():
    seed_cnn = PUBLISHED_ACCURACY["cifar10"]["cnn"][0]
    verdict, text = claim_of([rec("cnn", seed_cnn - 0.1, seed=1), rec("cnn", seed_cnn + 0.02, seed=0)])[1:3]
    assert verdict == "partly" and "SNN + STDP layer: not trained yet" in text and "short" not in text
    assert claim_of([]) is None
