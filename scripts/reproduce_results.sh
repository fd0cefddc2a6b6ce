#!/usr/bin/env bash
# Reproduce docs/results.md: Otsu, supervised S1, teacher S1+S2, KD student and
# KD+HFD student on OMBRIA (own split: patch numbers divisible by 5 = val), CPU.
#
#   bash scripts/reproduce_results.sh            # everything (about 40 min on 2 shared CPU cores)
#   OUT=runs/results SEEDS="0 1" bash scripts/reproduce_results.sh
#
# Two trainings run at a time, one CPU thread each. Every run's wall time goes
# to $OUT/times.tsv, every evaluation to $OUT/eval/*.json, the table to
# $OUT/table.md (scripts/results_table.py).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
FK="$ROOT/.venv/bin/floodkd"
DATA=${DATA:-../shared/data/ombria}
OUT=${OUT:-runs/results}
SEEDS=${SEEDS:-"0 1"}
HFD_SEEDS=${HFD_SEEDS:-"0"}
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
mkdir -p "$OUT/eval"
# Shared by every run: DeepLabV3+/resnet18 from random weights, 128 px crops,
# batch 8, 6 epochs of 63 steps (each ~1 pass over the 501 training patches), SGD lr 0.02.
COMMON=(--dataset ombria --root "$DATA" --split train --arch deeplabv3plus --encoder resnet18
        --crop 128 --batch-size 8 --epochs 6 --max-steps-per-epoch 63 --lr 0.02 --device cpu)

timed() {  # timed NAME CMD... : run, log, record wall seconds
    local name=$1; shift
    local t0=$SECONDS
    "$@" >"$OUT/$name.log" 2>&1
    printf '%s\t%s\t%s\n' "$name" "$((SECONDS - t0))" "$*" >>"$OUT/times.tsv"
}

evaluate() {  # evaluate NAME (--model PATH | --method otsu)
    local name=$1; shift
    "$FK" evaluate --dataset ombria --root "$DATA" --split val "$@" --device cpu --json \
        >"$OUT/eval/$name.json"
}

evaluate otsu --method otsu

# Stage 1: the teacher (S1 + S2 RGB, 4 channels) and the first supervised baseline.
first=${SEEDS%% *}
timed teacher "$FK" train-teacher "${COMMON[@]}" --seed 0 --out "$OUT/teacher.pt" &
timed "supervised_s$first" "$FK" train-supervised "${COMMON[@]}" --seed "$first" \
    --out "$OUT/supervised_s$first.pt" &
wait

# Students: half of each batch OMBRIA train AFTER (labelled), half OMBRIA train
# BEFORE (unlabelled, S1+S2 pre-flood); KD on both halves + hand labels on the labelled half.
DISTILL=(--teacher "$OUT/teacher.pt" --unlabelled-dataset ombria --unlabelled-root "$DATA"
         --hard-weight 1.0 --temperature 1.0)
jobs_=()
for s in $SEEDS; do
    [ "$s" = "$first" ] || jobs_+=("supervised_s$s|$FK train-supervised ${COMMON[*]} --seed $s --out $OUT/supervised_s$s.pt")
    jobs_+=("student_kd_s$s|$FK distill ${COMMON[*]} ${DISTILL[*]} --seed $s --out $OUT/student_kd_s$s.pt")
done
for s in $HFD_SEEDS; do
    jobs_+=("student_hfd_s$s|$FK distill ${COMMON[*]} ${DISTILL[*]} --feature-distill --seed $s --out $OUT/student_hfd_s$s.pt")
done
# Two at a time.
for ((i = 0; i < ${#jobs_[@]}; i += 2)); do
    for j in $i $((i + 1)); do
        [ "$j" -lt "${#jobs_[@]}" ] || continue
        name=${jobs_[$j]%%|*}; cmd=${jobs_[$j]#*|}
        # shellcheck disable=SC2086
        timed "$name" $cmd &
    done
    wait
done

# Evaluate every model's last epoch (no selection on val) and its best epoch (selected on val).
for ckpt in "$OUT"/*.pt; do
    case $ckpt in *.last.pt) continue ;; esac
    name=$(basename "$ckpt" .pt)
    evaluate "${name}_best" --model "$ckpt"
    evaluate "${name}_last" --model "${ckpt%.pt}.last.pt"
done
"$ROOT/.venv/bin/python" "$ROOT/scripts/results_table.py" "$OUT" | tee "$OUT/table.md"
