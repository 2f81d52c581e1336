#!/bin/bash
# Grade one class on a Slurm cluster: a job array, one task per shard, every task writing the one
# PostgreSQL gradebook (nothing to merge). See INSTRUCTORS.md, "One class, many machines".
#
#   SHARDS=4 GRADEBOOK=postgresql://grader@db.example.edu/microgpt \
#     sbatch --array=0-3 --chdir=/shared/microgpt-course autograder/deploy/slurm-grade.sh [CHAPTER ...]
#
# --chdir: the course directory, on a file system every node mounts at the same path, with its
# environment made there by `make setup`; SHARDS: the number of tasks in --array (task i grades shard
# i+1 of SHARDS); the password: in ~/.pgpass (mode 600) or PGPASSWORD, never in GRADEBOOK, which the
# logs show. A shard that failed or was killed is run again alone with the same SHARDS, e.g. shard 3:
#   SHARDS=4 GRADEBOOK=... sbatch --array=2 --chdir=... autograder/deploy/slurm-grade.sh
#SBATCH --job-name=microgpt-grade
#SBATCH --cpus-per-task=4
#SBATCH --mem-per-cpu=2G
#SBATCH --time=08:00:00
#SBATCH --output=grading/logs/slurm-%A_%a.out
set -euo pipefail
: "${SHARDS:?set SHARDS to the number of tasks in --array}" "${GRADEBOOK:?set GRADEBOOK to the gradebook URL}"
if (( SLURM_ARRAY_TASK_ID >= SHARDS )); then
  echo "task $SLURM_ARRAY_TASK_ID is past SHARDS=$SHARDS: use --array=0-$((SHARDS - 1))" >&2
  exit 2
fi
export PATH="$PWD/.venv/bin:$PATH"  # the course's environment (make setup)
exec microgpt-course grade --db "$GRADEBOOK" --shard "$((SLURM_ARRAY_TASK_ID + 1))/$SHARDS" \
  --jobs "${SLURM_CPUS_PER_TASK:-1}" "$@"
