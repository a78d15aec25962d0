# REPORT.md and every figure, redrawn from the result files above (python -m analysis.figures: seconds, no
# model). It waits only for the results it reads (REPORT_READS), so an extra result that fails does not hold
# it up; its last section is the provenance of each result it read.

# ... and the run whose receptive fields section 6 shows
REPORT_INPUTS = [f for f in RESULT_FILES if f[len(RESULTS) + 1:].split("/")[0] in REPORT_READS] \
    + [run_done(config["report"]["bio_run"])]
REPORT_CMD = cli("report", "analysis.figures", "--results", shlex.quote(RESULTS),
                 "--bio-run", run_path(config["report"]["bio_run"]), "--runs", shlex.quote(RUNS))


rule report:
    input: REPORT_INPUTS
    output: f"{RESULTS}/REPORT.md"
    params: cmd=REPORT_CMD
    log: f"{LOGS}/report.log"
    resources: runtime=10, expected_min=1
    shell: "{params.cmd} > {log} 2>&1"
