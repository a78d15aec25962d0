"""Runs that cannot be mixed, corrupted or silently wrong (issue 25): one process per run directory,
non-finite and torn files refused with their name, honest exit codes, one-line errors, builds never
re-linked under a running binary."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from analysis import cluster, leak_sweep, sweep_points
from benchmarks import against_commit
from bio import train_stdp
from bio.frozen import load_trained
from networks import train as torch_train
from networks.registry import load_checkpoint, load_model, save_checkpoint
from runstore.cli import EXIT_DIVERGED, EXIT_PARTIAL, EXIT_USAGE, Diverged, UserError, run_main
from runstore.files import BadFileError, load_json, load_npz, save_json, save_npz
from runstore.locks import RunBusyError, run_lock
from tests.conftest import bars

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake_mnist(monkeypatch):
    data = {"train": bars(60, seed=1), "test": bars(20, seed=2)}
    for module in (train_stdp, torch_train):
        monkeypatch.setattr(module.imagesets, "load", lambda name, split, data_dir=None: data[split])


def hold_lock(directory: Path) -> subprocess.Popen:
    """Another process that holds ``directory``'s run lock until it is killed."""
    code = textwrap.dedent(f"""
        import time
        from runstore.locks import run_lock
        with run_lock({str(directory)!r}):
            print("held", flush=True)
            time.sleep(600)
    """)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.readline().strip() == "held"
    return proc


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


# --- one process per run directory -------------------------------------------------------------------
def test_a_second_process_on_the_same_out_is_refused_and_changes_nothing(tmp_path, fake_mnist, capsys):
    out = tmp_path / "run"
    holder = hold_lock(out)
    try:
        argv = ["--net", "cnn", "--epochs", "1", "--n-train", "60", "--n-test", "20", "--out", str(out), "--no-progress"]
        assert run_main(torch_train.main, argv) == EXIT_USAGE
        line = one_error_line(capsys)
        assert f"PID {holder.pid}" in line and "another --out" in line
        bio_argv = ["--n-exc", "5", "--n-train", "20", "--n-test", "5", "--out", str(out), "--no-progress"]
        assert run_main(train_stdp.main, bio_argv) == EXIT_USAGE
        assert f"PID {holder.pid}" in one_error_line(capsys)
        assert sorted(p.name for p in out.iterdir()) == [".lock"]   # nothing written by either
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_process_is_taken_over(tmp_path):
    holder = hold_lock(tmp_path / "run")
    with pytest.raises(RunBusyError):
        with run_lock(tmp_path / "run"):
            pass
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with run_lock(tmp_path / "run") as path:
        assert f'"pid": {os.getpid()}' in path.read_text()   # the dead holder's record replaced


def test_run_locks_are_reentrant_within_a_process(tmp_path):
    with run_lock(tmp_path / "r"):
        with run_lock(tmp_path / "r"):   # a run that starts a sub-run, a sweep point training its model
            pass
        code = f"from runstore.locks import run_lock\nwith run_lock({str(tmp_path / 'r')!r}): pass"
        other = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert other.returncode != 0 and "RunBusyError" in other.stderr   # still held after the inner block


# --- non-finite and torn files -----------------------------------------------------------------------
def test_a_nan_checkpoint_is_refused_on_resume(tmp_path, fake_mnist, capsys):
    out = tmp_path / "run"
    argv = ["--n-exc", "5", "--n-train", "20", "--n-test", "5", "--out", str(out), "--no-progress"]
    args = train_stdp.parse_args(argv)
    args.n_train, args.n_test, args.n_label = 20, 5, 20
    _, state = train_stdp.prepare_run_dir(args)   # config.json as a real run writes it
    state["w"][3, 2] = np.nan
    save_npz(out / train_stdp.CHECKPOINT, **state)
    before = (out / train_stdp.CHECKPOINT).read_bytes()
    assert run_main(train_stdp.main, argv + ["--resume"]) == EXIT_USAGE
    line = one_error_line(capsys)
    assert "checkpoint.npz" in line and "w holds 1 non-finite value" in line and "[3, 2]" in line
    assert (out / train_stdp.CHECKPOINT).read_bytes() == before


def test_weights_with_nan_or_the_wrong_shape_are_refused(tmp_path):
    save_json(tmp_path / "config.json", {"network": {"n_exc": 4}})
    save_npz(tmp_path / "weights.npz", w=np.full((784, 4), 0.1), theta_mV=np.full(4, np.inf))
    with pytest.raises(BadFileError, match=r"weights.npz: theta_mV holds 4 non-finite"):
        load_trained(tmp_path)
    save_npz(tmp_path / "weights.npz", w=np.full((784, 3), 0.1), theta_mV=np.zeros(3))
    with pytest.raises(BadFileError, match=r"w has shape \(784, 3\), expected \(784, 4\)"):
        load_trained(tmp_path)


def test_training_that_diverges_stops_and_keeps_the_last_good_checkpoint(tmp_path, fake_mnist, monkeypatch, capsys):
    class Diverging:
        def run(self, images, w, theta_mV, **kw):
            raise_w = np.full_like(w, np.nan)
            return type("R", (), {"w": raise_w, "theta_mV": theta_mV})()

    monkeypatch.setattr(train_stdp, "get_runner", lambda *a, **k: Diverging())
    argv = ["--n-exc", "5", "--n-train", "20", "--n-test", "5", "--out", str(tmp_path / "run"), "--no-progress"]
    assert run_main(train_stdp.main, argv) == EXIT_DIVERGED
    assert "became non-finite in training chunk 1" in one_error_line(capsys)

    # torch: a model with NaN weights never replaces the checkpoint on disk
    model = torch.nn.Linear(2, 2)
    save_checkpoint(tmp_path / "model.pt", {"model": model.state_dict(), "epoch": 1})
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    with pytest.raises(Diverged, match="model.weight has 1 non-finite"):
        save_checkpoint(tmp_path / "model.pt", {"model": model.state_dict(), "epoch": 2})
    assert load_checkpoint(tmp_path / "model.pt")["epoch"] == 1


def test_a_nan_model_is_refused_when_loaded(tmp_path, fake_mnist):
    out = tmp_path / "cnn"
    torch_train.main(["--net", "cnn", "--epochs", "1", "--n-train", "60", "--n-test", "20", "--out", str(out),
                      "--no-progress"])
    state = torch.load(out / "model.pt", weights_only=True)
    next(iter(state["model"].values())).view(-1)[0] = float("nan")
    torch.save(state, out / "model.pt")
    with pytest.raises(BadFileError, match=r"model.pt: model\..* non-finite"):
        load_model(out)


@pytest.mark.parametrize("name, make", [
    ("config.json", lambda p: p.write_text('{"net": "cnn", "dset"')),
    ("checkpoint.npz", lambda p: p.write_bytes(_npz_bytes()[:100])),
    ("model.pt", lambda p: p.write_bytes(b"PK\x03\x04 truncated")),
    ("point.json", lambda p: p.write_text("")),
])
def test_a_torn_file_gives_one_line_naming_it(tmp_path, name, make):
    path = tmp_path / name
    make(path)
    load = {".json": load_json, ".npz": load_npz, ".pt": load_checkpoint}[path.suffix]
    with pytest.raises(BadFileError) as e:
        load(path)
    assert str(path) in str(e.value) and "\n" not in str(e.value)


def _npz_bytes() -> bytes:
    import io
    buf = io.BytesIO()
    np.savez(buf, w=np.zeros((50, 50)))
    return buf.getvalue()


def test_a_torn_model_on_resume_is_one_line_and_exit_2(tmp_path, fake_mnist, capsys):
    out = tmp_path / "cnn"
    argv = ["--net", "cnn", "--epochs", "1", "--n-train", "60", "--n-test", "20", "--out", str(out), "--no-progress"]
    torch_train.main(argv)
    (out / "model.pt").write_bytes((out / "model.pt").read_bytes()[:200])
    assert run_main(torch_train.main, [*argv[:3], "2", *argv[4:], "--resume"]) == EXIT_USAGE
    assert str(out / "model.pt") in one_error_line(capsys)


def test_debug_shows_the_traceback(tmp_path, fake_mnist):
    (tmp_path / "model.pt").write_bytes(b"junk")
    with pytest.raises(BadFileError):
        run_main(lambda argv: load_checkpoint(tmp_path / "model.pt"), ["--debug"])


# --- exit codes and argument ranges ------------------------------------------------------------------
@pytest.mark.parametrize("module, argv, message", [
    (torch_train, ["--net", "cnn", "--lr", "-1"], "--lr: -1 is not a finite number above 0"),
    (torch_train, ["--net", "snn", "--leak", "1.5"], "--leak: 1.5 is not in (0, 1]"),
    (torch_train, ["--net", "cnn", "--threads", "0"], "--threads: 0 is not at least 1"),
    (leak_sweep, ["--eps", "2"], "--eps: 2 is not in (0, 1]"),
    (train_stdp, ["--n-exc", "0"], "--n-exc: 0 is not at least 1"),
    (train_stdp, ["--data-dir", "/no/such/folder"], "/no/such/folder is not an existing folder"),
])
def test_bad_arguments_are_one_line_at_parse_time(module, argv, message, capsys):
    assert run_main(module.main, argv) == EXIT_USAGE
    line = one_error_line(capsys)
    assert message in line and "--help" in line


def test_converted_from_a_folder_without_a_model_writes_nothing(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    out = tmp_path / "conv"
    argv = ["--net", "converted", "--from", str(tmp_path / "empty"), "--out", str(out)]
    assert run_main(torch_train.main, argv) == EXIT_USAGE
    assert "has no config.json" in one_error_line(capsys) and not out.exists()


def test_a_sweep_with_a_failed_point_exits_1_and_keeps_the_others(tmp_path, monkeypatch, capsys, fake_mnist):
    real = sweep_points.run_job

    def flaky(job):
        if job["kind"] == "snn" and job["leak"] == 0.9:
            raise RuntimeError("this point breaks")
        return real(job)

    monkeypatch.setattr(sweep_points, "run_job", flaky)
    argv = ["--leaks", "1.0", "0.9", "--tau-exc", "-t", "2", "--n-train", "60", "--epochs", "1", "--n-test", "8",
            "--eot", "1", "--jobs", "1", "--source", "none", "--out", str(tmp_path), "--no-progress",
            "--suite", "fgsm", "--ensemble", "none", "--protocols", "swept"]   # what --quick measures
    assert run_main(leak_sweep.main, argv) == EXIT_PARTIAL
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert "1 of 3 points of leak_sweep failed" in line and "snn-leak0.9" in line and "same command again" in line
    summary = load_json(tmp_path / "leak_sweep.json")
    assert summary["n_failed"] == 1 and len(summary["points"]) == 2 and len(list((tmp_path / "points").glob("*.json"))) == 2


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    monkeypatch.setattr(cluster, "SCHEDULER_TIMEOUT", "1s")
    with pytest.raises(UserError, match="cannot reach the dask scheduler at tcp://127.0.0.1:9"):
        cluster.run_tasks(lambda x: x, [1, 2], scheduler="tcp://127.0.0.1:9")


def test_results_are_readable_by_the_group(tmp_path):
    old = os.umask(0o022)
    try:
        save_json(tmp_path / "a.json", {"x": 1})
        save_npz(tmp_path / "b.npz", x=np.zeros(2))
    finally:
        os.umask(old)
    assert {oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()} == {"0o644"}


def test_against_commit_reads_a_missing_figure_as_n_a():
    old_row = {"train": {"sec_per_example": 0.006}, "frozen_sec_per_example": 0.003}
    figures = {k: against_commit.figure(old_row, w) for k, w in against_commit.FIGURES.items()}
    assert figures == {"train ms/ex": 6.0, "train ms/presentation": None, "frozen ms/ex": 3.0}
    assert against_commit.show(figures["train ms/presentation"]) == "n/a"
    assert against_commit.best([None, None]) is None and against_commit.best([2.0, None, 1.5]) == 1.5


# --- the shared Brian2 build -------------------------------------------------------------------------
BUILD_AND_RUN = textwrap.dedent("""
    import sys, numpy as np
    from pathlib import Path
    from bio.devices import get_runner
    from bio.parameters import NetworkConfig
    role, rounds = sys.argv[1], int(sys.argv[2])
    cfg = NetworkConfig(n_exc=6, present_ms=20.0, rest_ms=0.0)
    x = np.random.default_rng(0).random((4, 784))
    w, theta = np.full((784, 6), 0.1), np.full(6, 20.0)
    counts = None
    for k in range(rounds):
        if role == "builder":   # a newer main.cpp: make re-compiles and re-links ./main
            runner = get_runner("cpp_standalone", cfg, 4, mode="frozen")
            (runner.directory / "main.cpp").touch()
        runner = get_runner("cpp_standalone", cfg, 4, mode="frozen") if role == "builder" or k == 0 else runner
        got = runner.run(x, w, theta, seed=1).exc_presented
        assert counts is None or np.array_equal(got, counts)
        counts = got
    print("ok", counts.sum())
""")


@pytest.mark.slow
def test_a_build_and_a_run_of_the_same_configuration_side_by_side(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SNN_BUILD_DIR": str(tmp_path / "build")}
    first = subprocess.run([sys.executable, "-c", BUILD_AND_RUN, "runner", "1"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    assert first.returncode == 0, first.stderr[-2000:]   # the build is there; now race a re-link against runs
    runner = subprocess.Popen([sys.executable, "-c", BUILD_AND_RUN, "runner", "40"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    builder = subprocess.run([sys.executable, "-c", BUILD_AND_RUN, "builder", "3"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    out, err = runner.communicate(timeout=600)
    assert builder.returncode == 0, builder.stderr[-2000:]
    assert runner.returncode == 0, err[-2000:]
    assert out.split()[-1] == builder.stdout.split()[-1] == first.stdout.split()[-1]


def test_saved_paths_are_relative_to_the_project(tmp_path, monkeypatch):
    from runstore.files import relative_path
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs" / "a").mkdir(parents=True)
    assert relative_path(tmp_path / "runs" / "a") == "runs/a"
    assert relative_path((tmp_path / "runs" / "a").resolve()) == "runs/a"
    assert relative_path("runs/a") == "runs/a"
    assert relative_path("/elsewhere/b") == "/elsewhere/b"   # outside the project: as given
