"""The whole study in one command: Snakemake on workflow/Snakefile, with a study's config.

    python -m workflow                    # the full study on this machine, every core (resumes what is done)
    python -m workflow -n                 # what would run, and its expected time per rule (the sweeps: --estimate)
    python -m workflow --study tiny       # the whole DAG at toy sizes into build/study-tiny (minutes)
    python -m workflow --profile workflow/profiles/slurm    # on a SLURM cluster (docs/pipeline.md)
    python -m workflow -- --forcerun report                 # anything after -- goes to snakemake as it is

Snakemake is an optional extra (pip install -e '.[pipeline]'); without it this says so and stops (exit 2).
Jobs re-run when their inputs are newer or their command changed (--rerun-triggers mtime params input), not
when the Snakefile's code is merely edited: every command resumes from its own checkpoints and caches anyway.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SNAKEFILE = PROJECT / "workflow" / "Snakefile"
INSTALL = "pip install -e '.[pipeline]'"


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m workflow", description=__doc__.split("\n\n")[0])
    p.add_argument("--study", default="full", help="full, tiny, or a config file (workflow/config/NAME.yaml)")
    p.add_argument("--root", default=None, help="put the study's runs/ and results/ under this folder instead")
    p.add_argument("--cores", default=str(len(os.sched_getaffinity(0))), help="cores Snakemake may use")
    p.add_argument("-n", "--dry-run", action="store_true", help="list the jobs to run and their expected time")
    p.add_argument("--profile", default=None, help="a Snakemake profile folder (workflow/profiles/slurm)")
    p.add_argument("extra", nargs="*", help="after --: more snakemake options")
    return p.parse_args(argv)


def config_file(study: str) -> Path:
    path = Path(study) if study.endswith((".yaml", ".yml")) else PROJECT / "workflow" / "config" / f"{study}.yaml"
    if not path.exists():
        raise SystemExit(f"error: no study config {path} (workflow/config holds full.yaml and tiny.yaml)")
    return path


def snakemake_command(args) -> list[str]:
    # Options that take several values come first and --cores (one value) after them: a target given after --
    # would otherwise be read as one more value of the last such option (--rerun-triggers, --config).
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--rerun-triggers", "mtime", "params", "input",
           "--configfile", str(config_file(args.study))]
    if args.root:
        root = Path(args.root)
        cmd += ["--config", f"runs={root / 'runs'}", f"results={root / 'results'}"]
    cmd += ["--cores", args.cores]
    if args.profile:
        cmd += ["--profile", args.profile]
    return cmd + (["-n", "-p"] if args.dry_run else []) + args.extra


# --- the dry run's cost summary -------------------------------------------------------
def planned_jobs(text: str) -> list[dict]:
    """The jobs of a ``snakemake -n -p`` listing: rule, expected minutes (the expected_min resource), threads
    and shell command."""
    jobs = []
    for line in text.splitlines():
        head = re.match(r"^(?:local)?rule (\w+):", line)
        if head:
            jobs.append({"rule": head.group(1), "minutes": None, "threads": 1, "shell": None})
        elif jobs and line.strip().startswith("threads:"):
            jobs[-1]["threads"] = int(line.split(":", 1)[1])
        elif jobs and line.strip().startswith("resources:"):
            found = re.search(r"expected_min=(\d+)", line)
            jobs[-1]["minutes"] = int(found.group(1)) if found else None
        elif jobs and line.startswith("Shell command:"):
            jobs[-1]["shell"] = line.split(":", 1)[1].strip()
    return [j for j in jobs if j["minutes"] is not None]


def sweep_estimate(shell: str) -> str:
    """A sweep job's own forecast of what is left of it (its --estimate, from the points already cached)."""
    command = re.sub(r"\s*>\s*\S+\s+2>&1\s*$", "", shell) + " --estimate"
    done = subprocess.run(["bash", "-c", command], cwd=PROJECT, capture_output=True, text=True)
    if done.returncode:
        return "(--estimate failed: " + (done.stderr.strip().splitlines() or ["no message"])[-1] + ")"
    return "\n".join(line for line in done.stdout.splitlines() if line.strip())


def cost_summary(jobs: list[dict], cores: int) -> list[str]:
    if not jobs:
        return ["", "Nothing to run: every target is there and up to date."]
    by_rule = defaultdict(lambda: [0, 0])
    for j in jobs:
        by_rule[j["rule"]][0] += 1
        by_rule[j["rule"]][1] += j["minutes"]
    total = sum(m for _, m in by_rule.values())
    # a job of several threads holds that many cores for its minutes
    core_hours = sum(j["minutes"] * min(j["threads"], cores) for j in jobs) / 60
    lines = ["", f"Expected time of the {len(jobs)} jobs to run (minutes: the study config's, measured or forecast):",
             f"  {'rule':18s} {'jobs':>5s} {'minutes':>8s}"]
    lines += [f"  {rule:18s} {n:5d} {m:8d}" for rule, (n, m) in sorted(by_rule.items(), key=lambda kv: -kv[1][1])]
    lines += [f"  {'total':18s} {len(jobs):5d} {total:8d}  = {total / 60:.1f} h of job time, {core_hours:.1f} core-hours: "
              f"on {cores} cores at least {core_hours / max(cores, 1):.1f} h"]
    sweeps = [j for j in jobs if j["rule"] == "sweep" and j["shell"]]
    if sweeps:
        lines += ["", "The sweeps' own --estimate (what is left of them now, from their cached points):"]
        lines += ["  " + sweep_estimate(j["shell"]).replace("\n", "\n  ") for j in sweeps]
    return lines


def main(argv=None) -> int:
    args = parse_args(argv)
    if importlib.util.find_spec("snakemake") is None:
        print(f"python -m workflow needs Snakemake, an optional extra of this project: {INSTALL} "
              f"(on a SLURM cluster also snakemake-executor-plugin-slurm, which the extra includes)", file=sys.stderr)
        return 2
    cmd = snakemake_command(args)
    if not args.dry_run:
        return subprocess.run(cmd, cwd=PROJECT).returncode
    done = subprocess.run(cmd, cwd=PROJECT, capture_output=True, text=True)
    print(done.stdout + done.stderr, end="")
    if done.returncode == 0:
        print("\n".join(cost_summary(planned_jobs(done.stdout + done.stderr), int(args.cores))))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
