# Trained runs: the Brian2 network (python -m bio.train_stdp) and the torch models (python -m networks.train),
# one job per run directory RUNS/KEY. A run writes metrics.json last, after training and its test pass; until
# then its checkpoint lets the same command go on, so these rules add --resume where one is there.


def run_path(key):
    return shlex.quote(run_dir(key))


def bio_cmd(w):
    return cli("bio_train", "bio.train_stdp", conf("bio")[w.key]["args"], "--out", run_path(w.key), "--no-progress")


rule bio_train:
    output: f"{RUNS}/{{key}}/metrics.json"
    wildcard_constraints: key=one_of(conf("bio"))
    params:
        out=lambda w: run_path(w.key),
        cmd=bio_cmd,
    log: f"{LOGS}/bio_train/{{key}}.log"
    threads: 1   # one core per Brian2 run: OpenMP was slower on 2-core machines (BACKGROUND.md)
    resources: runtime=limit("bio"), expected_min=expected("bio"), mem_mb=mem_of("bio")
    shell: "resume=$([ -e {params.out}/checkpoint.npz ] && echo --resume || true); {params.cmd} $resume > {log} 2>&1"


def torch_from(w):
    origin = conf("torch")[w.key].get("from")
    return [run_done(origin)] if origin else []


def torch_cmd(w):
    s = conf("torch")[w.key]
    return cli("torch_train", "networks.train", s["args"], s.get("from") and "--from " + run_path(s["from"]),
               "--out", run_path(w.key), "--no-progress")


rule torch_train:
    input: torch_from
    output: f"{RUNS}/{{key}}/metrics.json"
    wildcard_constraints: key=one_of(conf("torch"))
    params:
        out=lambda w: run_path(w.key),
        cmd=torch_cmd,
    log: f"{LOGS}/torch_train/{{key}}.log"
    threads: threads_of("torch")
    resources: runtime=limit("torch"), expected_min=expected("torch"), mem_mb=mem_of("torch")
    # a checkpoint (model.pt), or a staged run's first stage (stdp --hybrid: OUT/cnn), means: continue it
    shell: "resume=$([ -e {params.out}/model.pt ] || [ -e {params.out}/cnn ] && echo --resume || true); "
           "{params.cmd} --threads {threads} $resume > {log} 2>&1"
