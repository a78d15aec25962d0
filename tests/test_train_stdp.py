"""Training end to end on a tiny network: resume, both devices, the CLI's errors.

These compile one small cpp_standalone project for training and one for
frozen evaluation (about 30 s each the first time; cached in SNN_BUILD_DIR).
"""
import json

import numpy as np
import pytest

from bio import train_stdp
from bio.devices import RuntimeRunner, get_runner
from bio.frozen import spike_counts
from bio.network import intensities
from bio.parameters import NetworkConfig
from runstore.cli import UserError
from tests.conftest import bars
from runstore.files import load_npz

N_EXC, N_TRAIN, CHUNK = 10, 60, 20


@pytest.fixture
def fake_mnist(monkeypatch):
    xtr, ytr = bars(N_TRAIN, seed=1)
    xte, yte = bars(20, seed=2)
    monkeypatch.setattr(train_stdp.imagesets, "load",
                        lambda name, split, data_dir=None: (xtr, ytr) if split == "train" else (xte, yte))


def cli(out, *extra):
    return ["--dset", "mnist", "--n-exc", str(N_EXC), "--n-train", str(N_TRAIN), "--n-test", "20",
            "--chunk-size", str(CHUNK), "--seed", "3", "--out", str(out), "--no-progress", *extra]


def test_resume_after_interruption_gives_the_same_weights(tmp_path, fake_mnist, monkeypatch):
    whole = train_stdp.main(cli(tmp_path / "whole"))
    w_whole = load_npz(tmp_path / "whole" / "weights.npz")

    real = train_stdp.get_runner
    calls = {"n": 0}

    class Interrupting:
        def __init__(self, runner):
            self.runner = runner

        def run(self, *a, **k):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return self.runner.run(*a, **k)

    monkeypatch.setattr(train_stdp, "get_runner", lambda *a, **k: Interrupting(real(*a, **k)))
    with pytest.raises(KeyboardInterrupt):
        train_stdp.main(cli(tmp_path / "cut"))
    ck = load_npz(tmp_path / "cut" / "checkpoint.npz")
    assert int(ck["chunk"]) == 2 and not (tmp_path / "cut" / "weights.npz").exists()
    monkeypatch.setattr(train_stdp, "get_runner", real)
    resumed = train_stdp.main(cli(tmp_path / "cut", "--resume"))
    w_resumed = load_npz(tmp_path / "cut" / "weights.npz")
    assert np.array_equal(w_whole["w"], w_resumed["w"])
    assert np.array_equal(w_whole["theta_mV"], w_resumed["theta_mV"])
    assert resumed["presentations"] == whole["presentations"]

    # the run directory holds what a user looks for
    metrics = json.loads((tmp_path / "whole" / "metrics.json").read_text())
    for key in ("test_accuracy", "n_test", "sec_per_example", "n_train"):
        assert key in metrics
    assert metrics["n_train"] == N_TRAIN and metrics["n_test"] == 20
    for name in ("receptive_fields.png", "assignments.png", "config.json", "counts.npz"):
        assert (tmp_path / "whole" / name).exists()
    # STDP learned something: weights moved away from the initial 0.3*U(0,1) and
    # every exc neuron's incoming weights still sum to about 78 (normalised
    # before each example, STDP acts during it)
    w = w_whole["w"]
    assert np.all(np.abs(w.sum(axis=0) - 78) < 10)
    assert (w > 0.5).any()


def test_cli_refuses_to_overwrite_or_resume_with_other_settings(tmp_path, fake_mnist):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "metrics.json").write_text("{}")
    with pytest.raises(UserError, match="--resume"):
        train_stdp.main(cli(tmp_path / "r"))
    with pytest.raises(UserError, match="does not exist"):
        train_stdp.main(cli(tmp_path / "nothing", "--resume"))


@pytest.mark.parametrize("bad", [["--dset", "svhn"], ["--dset", "cifar10"], ["--n-exc", "0"],
                                 ["--dt", "0.3"], ["--epochs", "0"], ["--tau-exc", "-1"]])
def test_cli_rejects_bad_parameters_with_a_message(bad, capsys):
    with pytest.raises(SystemExit):
        train_stdp.parse_args(bad)
    assert "error:" in capsys.readouterr().err


def test_standalone_and_runtime_learn_alike():
    """Same model on both devices: different random streams, same statistics."""
    import brian2

    cfg = NetworkConfig(n_exc=N_EXC)
    x, _ = bars(CHUNK, seed=5)
    rates = intensities(x)
    rng = np.random.default_rng(0)
    w0 = 0.3 * rng.random((784, N_EXC))
    th0 = np.full(N_EXC, 20.0)
    sa = get_runner("cpp_standalone", cfg, CHUNK, mode="train").run(rates, w0, th0, seed=11)
    brian2.device.reinit()
    brian2.set_device("runtime")
    brian2.prefs.codegen.target = "numpy"
    try:
        rt = RuntimeRunner(cfg, CHUNK, mode="train").run(rates, w0, th0, seed=11)
    finally:
        brian2.prefs.codegen.target = "auto"
        from bio import devices
        devices._CACHE.clear()
    for r in (sa, rt):
        assert np.allclose(r.w.sum(axis=0), 78, atol=10)
    spikes_sa, spikes_rt = sa.exc_counts.sum(), rt.exc_counts.sum()
    assert abs(spikes_sa - spikes_rt) < 0.25 * max(spikes_sa, spikes_rt)
    # theta: +0.05 mV per spike, minus its decay (tau 1e7 ms) over the chunk's 10 s
    decay = th0.sum() * (1 - np.exp(-CHUNK * 0.5 / 1e4))
    for r, spikes in ((sa, spikes_sa), (rt, spikes_rt)):
        assert (r.theta_mV - th0).sum() == pytest.approx(0.05 * spikes - decay, rel=0.01)
    # Which neuron wins an example is random, but where the weight goes is not:
    # the per-pixel weight change, summed over neurons, follows the bars.
    d_sa = (sa.w - w0 * 78 / w0.sum(axis=0)).sum(axis=1)
    d_rt = (rt.w - w0 * 78 / w0.sum(axis=0)).sum(axis=1)
    assert np.corrcoef(d_sa, d_rt)[0, 1] > 0.8
    on = x.reshape(CHUNK, -1).max(axis=0) > 0
    assert d_sa[on].mean() > 0 > d_sa[~on].mean() and d_rt[on].mean() > 0 > d_rt[~on].mean()


def test_a_quiet_example_is_shown_again_at_once_and_brighter():
    """The released code's rule, applied inside the compiled network: < 5 exc
    spikes -> the same example is the very next presentation, 32 Hz brighter
    at the maximum; after a success the next example comes at the base rate."""
    cfg = NetworkConfig(n_exc=N_EXC)
    x, _ = bars(CHUNK, seed=5)
    rng = np.random.default_rng(0)
    w0 = 0.3 * rng.random((784, N_EXC))
    quiet = np.full(N_EXC, 32.0)          # a high theta: few spikes at the base rate
    res = get_runner("cpp_standalone", cfg, CHUNK, mode="train").run(intensities(x), w0, quiet, seed=11)
    sch, spikes = res.schedule, res.exc_presented[:, 0]
    pos, rep = sch.pos[:, 0], sch.rep[:, 0]
    low = spikes < 5
    assert low[:-1].any() and (~low[:-1]).any()
    for s in np.nonzero(low[:-1])[0]:
        assert pos[s + 1] == pos[s] and rep[s + 1] == rep[s] + 1
    for s in np.nonzero(~low[:-1])[0]:
        assert pos[s + 1] == pos[s] + 1 and rep[s + 1] == 0
    # brighter: the input spike count grows with the try (same image, +32 Hz at the maximum)
    frozen = spike_counts(x[:4], w0, quiet, cfg, seed=1, chunk_size=4, progress=False)
    again = frozen.boost_hz > 0
    assert again.any() and np.all(frozen.boost_hz % 32 == 0)
    assert np.all(frozen.exc.sum(axis=1)[frozen.boost_hz < 320] >= 5)
    # every try's rate: the stimulus at rep r is (63.75 + 32 r) Hz at the maximum
    ratio = frozen.input.sum(axis=1) / (x[:4].reshape(4, -1).astype(float) / 255).sum(axis=1) / 0.35
    expected = 63.75 + frozen.boost_hz
    assert np.all(np.abs(ratio - expected) < 5 * np.sqrt(expected / 0.35 / 20) + 3)


def test_each_epoch_is_scored_and_equals_training_on_one_epoch_at_a_time(tmp_path, fake_mnist):
    """--test-each-epoch scores epoch 1 on the way to epoch 2, and its weights are those of a run trained one
    epoch, then resumed for a second (both stop the stream at the epoch's end)."""
    metrics = train_stdp.main(cli(tmp_path / "each", "--epochs", "2", "--test-each-epoch"))
    first = json.loads((tmp_path / "each" / "epochs" / "epoch-1.json").read_text())
    last = json.loads((tmp_path / "each" / "epochs" / "epoch-2.json").read_text())
    assert first["epochs"] == 1 and last == metrics and metrics["epochs"] == 2
    train_stdp.main(cli(tmp_path / "steps", "--epochs", "1"))
    train_stdp.main(cli(tmp_path / "steps", "--epochs", "2", "--resume"))
    a, b = (load_npz(tmp_path / d / "weights.npz") for d in ("each", "steps"))
    assert np.array_equal(a["w"], b["w"]) and np.array_equal(a["theta_mV"], b["theta_mV"])
    # each epoch's network is kept: the last equals the run's weights, the first differs from it
    kept = [load_npz(tmp_path / "each" / "epochs" / f"weights-epoch-{e}.npz") for e in (1, 2)]
    assert np.array_equal(kept[1]["w"], a["w"]) and np.array_equal(kept[1]["theta_mV"], a["theta_mV"])
    assert not np.array_equal(kept[0]["w"], a["w"])
    assert np.array_equal(kept[1]["assignments"], load_npz(tmp_path / "each" / "counts.npz")["assignments"])


def test_each_epoch_added_on_resume_scores_no_epoch_it_has_passed(tmp_path, fake_mnist):
    """A run trained two epochs without the flag and resumed with it: epoch 1's weights are gone, so it is
    not scored (with epoch 2's weights under its name); epoch 2 is the state on disk, epoch 3 is trained."""
    train_stdp.main(cli(tmp_path / "r", "--epochs", "2"))
    train_stdp.main(cli(tmp_path / "r", "--epochs", "3", "--test-each-epoch", "--resume"))
    scored = sorted(p.name for p in (tmp_path / "r" / "epochs").glob("*.json"))
    assert scored == ["epoch-2.json", "epoch-3.json"]


def test_relabel_reproduces_the_runs_own_labelling_and_labels_on_more_examples(tmp_path, fake_mnist):
    """bio.relabel with more labelling examples: its first n_label counts are the run's own (same seeds and
    keys), so the run's protocol recomputed from them gives the run's accuracy; a kept epoch's weights load."""
    from bio import relabel
    train_stdp.main(cli(tmp_path / "r", "--epochs", "2", "--test-each-epoch", "--n-label", "30"))
    own = json.loads((tmp_path / "r" / "epochs" / "epoch-1.json").read_text())
    out = relabel.relabel(tmp_path / "r", n_label=N_TRAIN, epoch=1, progress=False)
    assert out["n_label"] == N_TRAIN and out["run_protocol"]["n_label"] == 30
    assert out["run_protocol"]["test_accuracy"] == own["test_accuracy"]
    assert out["run_protocol"]["softmax_test_accuracy"] == own["softmax_test_accuracy"]
    counts = load_npz(tmp_path / "r" / "relabel" / "n60-epoch1.npz")
    assert counts["label_counts"].shape == (N_TRAIN, N_EXC) and counts["label_counts"][30:].sum() > 0
    last = relabel.relabel(tmp_path / "r", n_label=30, progress=False)   # the run's weights.npz, its own protocol
    run_counts = load_npz(tmp_path / "r" / "counts.npz")
    assert np.array_equal(load_npz(tmp_path / "r" / "relabel" / "n30.npz")["label_counts"], run_counts["label_counts"])
    assert last["test_accuracy"] == json.loads((tmp_path / "r" / "metrics.json").read_text())["test_accuracy"]
    with pytest.raises(UserError, match="weights-epoch-3.npz does not exist"):
        relabel.relabel(tmp_path / "r", n_label=30, epoch=3, progress=False)


def test_a_kept_epoch_is_attacked_with_its_own_weights_and_assignments(tmp_path, fake_mnist):
    """analysis.attack --epoch N reads epochs/weights-epoch-N.npz and the assignments saved with it (or, for
    weights kept without them, bio.relabel's with the run's own protocol, which are the same), writes to
    RUN/attack-epochN, and refuses an epoch the run did not keep or a folder holding another epoch's attacks."""
    from analysis import attack
    from analysis.measurement import Brian2Target
    from bio import relabel
    from bio.frozen import load_assignments
    from networks.twin import DiehlCookTwin
    from runstore.files import save_npz

    run = tmp_path / "r"
    train_stdp.main(cli(run, "--epochs", "2", "--test-each-epoch"))
    kept = load_npz(run / "epochs" / "weights-epoch-1.npz")
    victim = Brian2Target(run, epoch=1)
    assert np.array_equal(victim.w, kept["w"]) and np.array_equal(victim.assignments, kept["assignments"])
    assert victim.softmax is None   # fitted to the last weights only
    twin = DiehlCookTwin.from_run_dir(run, epoch=1)
    assert np.array_equal(twin.w.numpy(), kept["w"]) and not np.array_equal(kept["w"], Brian2Target(run).w)
    assert np.array_equal(victim.twin().w.numpy(), kept["w"])   # the twin the attacks are crafted on

    # weights kept before assignments were saved with them: bio.relabel's, the run's own protocol
    save_npz(run / "epochs" / "weights-epoch-1.npz", w=kept["w"], theta_mV=kept["theta_mV"])
    with pytest.raises(UserError, match="python -m bio.relabel"):
        load_assignments(run, epoch=1)
    relabel.relabel(run, n_label=N_TRAIN, epoch=1, progress=False)
    assert np.array_equal(load_assignments(run, epoch=1), kept["assignments"])

    args = ["--run", str(run), "--attack", "fgsm", "--eps", "0.1", "--n-test", "4", "--batch-size", "4",
            "--no-progress"]
    summary = attack.main([*args, "--epoch", "1"])
    assert summary["epoch"] == 1 and summary["weights"].endswith("weights-epoch-1.npz")
    assert (run / "attack-epoch1" / "attack.json").is_file() and not (run / "attack").exists()
    with pytest.raises(SystemExit) as e:
        attack.parse_args([*args, "--epoch", "3"])
    assert e.value.code == 2
    with pytest.raises(UserError, match="epoch-1 weights"):
        attack.main([*args, "--out", str(run / "attack-epoch1")])
