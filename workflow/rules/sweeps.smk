# The leak and time-step sweeps: one Snakemake job each, whose points run on the sweep's own dask cluster
# (--jobs N, so the job holds N cores; on a cluster, one SLURM job of N cores). Both write to RESULTS/sweeps
# and share the points they have in common (OUT/points/NAME.json, locked per point), so they may run side
# by side; an interrupted sweep computes only its missing points when it runs again.


def sweep_cmd(w):
    s = conf("sweeps")[w.key]
    return cli("sweep", f"analysis.{w.key}", s["args"], "--source", run_path(s["source"]),
               "--out", shlex.quote(f"{RESULTS}/sweeps"), "--no-progress")


rule sweep:
    input: needs("sweeps")
    output: f"{RESULTS}/sweeps/{{key}}.json"
    wildcard_constraints: key=one_of(conf("sweeps"))
    params: cmd=sweep_cmd
    log: f"{LOGS}/sweeps/{{key}}.log"
    threads: threads_of("sweeps", default=config.get("sweep_jobs", 2))
    resources: runtime=limit("sweeps"), expected_min=expected("sweeps"), mem_mb=mem_of("sweeps")
    shell: "{params.cmd} --jobs {threads} > {log} 2>&1"


RESULT_FILES += [f"{RESULTS}/sweeps/{key}.json" for key in conf("sweeps")]
