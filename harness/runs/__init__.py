"""Runs: variant × workload × rep, one fresh process each, interleaved and randomized.

Public API:

    plan = RunPlan(variants, workloads, reps=10, gomaxprocs=[2], seed=1)
    run_dir = execute_run(plan, options)     # raw/ + manifest.json, resumable
    resume_run(run_dir)                      # continue a killed run
"""
