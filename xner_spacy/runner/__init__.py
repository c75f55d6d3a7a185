"""The batch layer: pipeline steps over JSONL record files; sharded, resumable, local or on Dask.

- :mod:`.steps` — one streaming function per step (prepare, label, align, project, convert …).
- :mod:`.shards` — cuts a step's input into shards, runs them in worker processes, resumes, merges.
- :mod:`.distributed` — the same shards as tasks on a Dask scheduler or cluster.
- :mod:`.multisource` — NTREX-128 records for several source languages, and voting over them.
"""
