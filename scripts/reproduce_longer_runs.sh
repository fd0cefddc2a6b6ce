#!/usr/bin/env bash
# The "longer runs" experiment of docs/results.md: 12 epochs instead of 6, and a
# student whose unlabelled half is flood-time (AFTER) images instead of pre-flood
# (BEFORE) ones. Needs runs/results/teacher.pt from scripts/reproduce_results.sh.
# About 30 minutes on 2 CPU cores (the two runs in parallel, one thread each).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FK=.venv/bin/floodkd
OUT=${OUT:-runs/long}
TEACHER=${TEACHER:-runs/results/teacher.pt}
mkdir -p "$OUT"
COMMON="--dataset ombria --root ../shared/data/ombria --split train --arch deeplabv3plus --encoder resnet18
 --crop 128 --batch-size 8 --epochs 12 --max-steps-per-epoch 63 --lr 0.02 --device cpu --seed 0"
export OMP_NUM_THREADS=1
# shellcheck disable=SC2086
$FK train-supervised $COMMON --out "$OUT/supervised.pt" >"$OUT/supervised.log" 2>&1 &
# shellcheck disable=SC2086
$FK distill $COMMON --teacher "$TEACHER" --unlabelled-dataset ombria --unlabelled-root ../shared/data/ombria \
    --unlabelled-images after --hard-weight 1.0 --out "$OUT/student_after.pt" >"$OUT/student_after.log" 2>&1 &
wait
for m in supervised student_after; do
    $FK evaluate --dataset ombria --root ../shared/data/ombria --split val --model "$OUT/$m.pt" --device cpu --json
done
