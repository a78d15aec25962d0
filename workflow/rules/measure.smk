# Results: one job per output folder RESULTS/KEY, each the CLI that docs/ gives for it with the runs it reads
# named explicitly (never found by scanning a folder, so that a stray run cannot slip into a table). Each
# command caches its own work (compare's and the transfer matrix's cells, damping's evaluations, attack's
# (attack, eps) pairs) under its output folder, so a re-run recomputes only what is missing.


def paths(keys):
    return " ".join(run_path(k) for k in keys)


def named(pairs):
    """NAME=RUN_DIR ... for the options that take runs by role (--sources, --models)."""
    return " ".join(f"{name}={run_path(key)}" for name, key in pairs.items())


def out_dir(w):
    return shlex.quote(f"{RESULTS}/{w.key}")


def compare_cmd(w):
    s = conf("compare")[w.key]
    return cli("compare", "analysis.compare", s["args"], "--runs", paths(s["runs"]),
               s.get("stdp_run") and "--stdp-run " + run_path(s["stdp_run"]), "--sources", named(s["sources"]),
               "--runs-root", shlex.quote(f"{RUNS}/baselines"), "--out", out_dir(w), "--no-progress")


rule compare:
    input: needs("compare")
    output: f"{RESULTS}/{{key}}/compare.json"
    wildcard_constraints: key=one_of(conf("compare"))
    params: cmd=compare_cmd
    log: f"{LOGS}/{{key}}.log"
    threads: threads_of("compare")
    resources: runtime=limit("compare"), expected_min=expected("compare"), mem_mb=mem_of("compare")
    shell: "{params.cmd} --threads {threads} > {log} 2>&1"


def damping_cmd(w):
    s = conf("damping")[w.key]
    roles = " ".join(f"--{kind} {run_path(key)}" for kind, key in s["runs"].items())
    return cli("damping", "analysis.damping", s["args"], "--models", " ".join(s["runs"]), roles,
               "--source", run_path(s["source"]), "--out", out_dir(w))


rule damping:
    input: needs("damping")
    output: f"{RESULTS}/{{key}}/damping.json"
    wildcard_constraints: key=one_of(conf("damping"))
    params: cmd=damping_cmd
    log: f"{LOGS}/{{key}}.log"
    threads: threads_of("damping")
    resources: runtime=limit("damping"), expected_min=expected("damping"), mem_mb=mem_of("damping")
    shell: "{params.cmd} --threads {threads} > {log} 2>&1"


def attack_cmd(w):
    s = conf("attack")[w.key]
    return cli("attack", "analysis.attack", "--run", run_path(s["run"]), s["args"], "--out", out_dir(w), "--no-progress")


rule attack:
    input: needs("attack")
    output: f"{RESULTS}/{{key}}/attack.json"
    wildcard_constraints: key=one_of(conf("attack"))
    params: cmd=attack_cmd
    log: f"{LOGS}/{{key}}.log"
    threads: threads_of("attack")
    resources: runtime=limit("attack"), expected_min=expected("attack"), mem_mb=mem_of("attack")
    shell: "{params.cmd} --threads {threads} > {log} 2>&1"


def twin_cmd(w):
    s = conf("twin_agreement")[w.key]
    return cli("twin_agreement", "benchmarks.twin_agreement", "--run", run_path(s["run"]), s["args"], "--out", out_dir(w))


rule twin_agreement:
    input: needs("twin_agreement")
    output: f"{RESULTS}/{{key}}/agreement.json"
    wildcard_constraints: key=one_of(conf("twin_agreement"))
    params: cmd=twin_cmd
    log: f"{LOGS}/{{key}}.log"
    threads: threads_of("twin_agreement")
    resources: runtime=limit("twin_agreement"), expected_min=expected("twin_agreement"),
               mem_mb=mem_of("twin_agreement")
    shell: "{params.cmd} --threads {threads} > {log} 2>&1"


def transfer_cmd(w):
    s = conf("transfer_matrix")[w.key]
    return cli("transfer_matrix", "analysis.transfer_matrix", s["args"], "--models", named(s["models"]),
               "--out", out_dir(w), "--no-progress")


rule transfer_matrix:
    input: needs("transfer_matrix")
    output: f"{RESULTS}/{{key}}/transfer_matrix.json"
    wildcard_constraints: key=one_of(conf("transfer_matrix"))
    params: cmd=transfer_cmd
    log: f"{LOGS}/{{key}}.log"
    threads: threads_of("transfer_matrix")
    resources: runtime=limit("transfer_matrix"), expected_min=expected("transfer_matrix"),
               mem_mb=mem_of("transfer_matrix")
    shell: "{params.cmd} --threads {threads} > {log} 2>&1"


def seed000_cmd(w):
    s = conf("seed000_protocol")[w.key]
    return cli("seed000_protocol", "analysis.seed000_protocol", "--run", run_path(s["run"]), s["args"], "--out", out_dir(w))


rule seed000_protocol:
    input: needs("seed000_protocol")
    output: f"{RESULTS}/{{key}}/cifar10.json"
    wildcard_constraints: key=one_of(conf("seed000_protocol"))
    params: cmd=seed000_cmd
    log: f"{LOGS}/{{key}}.log"
    threads: threads_of("seed000_protocol")
    resources: runtime=limit("seed000_protocol"), expected_min=expected("seed000_protocol"),
               mem_mb=mem_of("seed000_protocol")
    shell: "{params.cmd} --threads {threads} > {log} 2>&1"


def sparsity_cmd(w):
    s = conf("weight_sparsity")[w.key]
    return cli("weight_sparsity", "analysis.weight_sparsity", "--runs", paths(s["runs"]), s.get("args"), "--out", out_dir(w))


rule weight_sparsity:
    input: needs("weight_sparsity")
    output: f"{RESULTS}/{{key}}/sparsity.json"
    wildcard_constraints: key=one_of(conf("weight_sparsity"))
    params: cmd=sparsity_cmd
    log: f"{LOGS}/{{key}}.log"
    resources: runtime=limit("weight_sparsity"), expected_min=expected("weight_sparsity"),
               mem_mb=mem_of("weight_sparsity")
    shell: "{params.cmd} > {log} 2>&1"


def accuracy_cmd(w):
    """KEY is accuracy/DSET: the table of that dataset's runs, RESULTS/accuracy/DSET.json."""
    return cli("accuracy_table", "analysis.accuracy_table", "--dset", Path(w.key).name,
               "--runs", paths(conf("accuracy_table")[w.key]["runs"]),
               "--out", shlex.quote(str(Path(RESULTS, w.key).parent)))


rule accuracy_table:
    input: needs("accuracy_table")
    output: f"{RESULTS}/{{key}}.json"
    wildcard_constraints: key=one_of(conf("accuracy_table"))
    params: cmd=accuracy_cmd
    log: f"{LOGS}/{{key}}.log"
    resources: runtime=limit("accuracy_table"), expected_min=expected("accuracy_table"),
               mem_mb=mem_of("accuracy_table")
    shell: "{params.cmd} > {log} 2>&1"


RESULT_FILES = (outputs("compare", "compare.json") + outputs("damping", "damping.json")
                + outputs("attack", "attack.json") + outputs("twin_agreement", "agreement.json")
                + outputs("transfer_matrix", "transfer_matrix.json") + outputs("seed000_protocol", "cifar10.json")
                + outputs("weight_sparsity", "sparsity.json")
                + [f"{RESULTS}/{key}.json" for key in conf("accuracy_table")])
