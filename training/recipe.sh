#!/usr/bin/env bash
# Rebuilds the shipped spin classifier from the data: every step of docs/training.md, in order.
#
#   training/recipe.sh                 # model in build/models/spin-classifier, evaluation in build/models/classifier.json
#   OUT=models/spin-classifier EVAL_OUT=benchmarks/results/classifier.json training/recipe.sh   # replace the shipped ones
#
# Run it from the repository root. Rerunning it resumes: a dataset with a card.json and a model folder
# with a training.json are kept, and an interrupted training run resumes from its checkpoint. The
# data are the shared folder (../shared, or $SPIN_DETECTOR_SHARED). The two GPU steps run on the CPU
# too, only far slower (docs/training.md gives the wall times).
set -euo pipefail

PY=${PY:-.venv/bin/python}
OUT=${OUT:-build/models/spin-classifier}
EVAL_OUT=${EVAL_OUT:-build/models/classifier.json}
MODELS=build/models
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1

dataset() {  # dataset FOLDER [--draw N]: one draw of 120,000 training sentences (splits and held-out sets fixed by seed 0)
    [ -f "$1/card.json" ] || "$PY" -m training.build_dataset --out "$1" --size 120000 --seed 0 --num-proc 2 "${@:2}"
}

train() {  # train FOLDER ARGS...: one training run into FOLDER, skipped once it has finished
    [ -f "$1/training.json" ] || "$PY" -m training.train --out "$1" "${@:2}"
}

concat_draws() {  # concat_draws FOLDER N...: the training splits of draws N... as one, with build/dataset's dev splits
    [ -f "$1/train.parquet" ] && return
    for n in "${@:2}"; do dataset "build/dataset-draw$n" --draw "$n"; done
    mkdir -p "$1" && cp build/dataset/{validation,calibration}.parquet "$1/"
    "$PY" - "$1" "${@:2}" <<'EOF'
import sys

import pyarrow as pa
import pyarrow.parquet as pq

out, draws = sys.argv[1], sys.argv[2:]
columns = ["text", "label", "word_labels", "kind"]
tables = [pq.read_table(f"build/dataset-draw{n}/train.parquet", columns=columns).replace_schema_metadata(None) for n in draws]
pq.write_table(pa.concat_tables(tables), f"{out}/train.parquet")
EOF
}

CPU=(--epochs 1 --batch-size 32 --max-length 64 --threads 2)
GPU=(--epochs 2 --batch-size 128 --max-length 64 --lr 8e-5 --head-lr 5e-4 --max-fpr 0.027)

# Epochs 1-3 on the first draw, word embeddings frozen.
dataset build/dataset
train $MODELS/epoch-1 --data build/dataset "${CPU[@]}" --freeze-embeddings --lr 6e-5
train $MODELS/epoch-2 --data build/dataset --init $MODELS/epoch-1 "${CPU[@]}" --freeze-embeddings --lr 3e-5 --head-lr 3e-4
train $MODELS/epoch-3 --data build/dataset --init $MODELS/epoch-2 "${CPU[@]}" --freeze-embeddings --lr 2e-5 --head-lr 2e-4 \
    --seed 15 --max-fpr 0.03

# Epochs 4-13, each on a fresh draw, embeddings still frozen (the cap of their own calibration, which no
# later run reads, was 3% up to epoch 11).
for n in 1 2 3 4 5 6 7 8 9 10; do
    if [ "$n" -le 8 ]; then cap=0.03; else cap=0.027; fi
    dataset "build/dataset-draw$n" --draw "$n"
    train "$MODELS/epoch-$((n + 3))" --data "build/dataset-draw$n" --init "$MODELS/epoch-$((n + 2))" "${CPU[@]}" \
        --freeze-embeddings --lr 2e-5 --head-lr 2e-4 --seed $((n + 15)) --max-fpr "$cap"
done

# Epochs 14-16 on fresh draws with the word embeddings trained too, then the mean of 15 and 16.
dataset build/dataset-draw12 --draw 12
train $MODELS/epoch-14u --data build/dataset-draw12 --init $MODELS/epoch-13 "${CPU[@]}" --lr 2e-5 --head-lr 2e-4 --seed 26 --max-fpr 0.027
dataset build/dataset-draw13 --draw 13
train $MODELS/epoch-15 --data build/dataset-draw13 --init $MODELS/epoch-14u "${CPU[@]}" --lr 2e-5 --head-lr 2e-4 --seed 27 --max-fpr 0.027
dataset build/dataset-draw14 --draw 14
train $MODELS/epoch-16 --data build/dataset-draw14 --init $MODELS/epoch-15 "${CPU[@]}" --lr 2e-5 --head-lr 2e-4 --seed 28 --max-fpr 0.027
if [ ! -f $MODELS/avg-1516c/training.json ]; then
    "$PY" -m training.average --models $MODELS/epoch-15 $MODELS/epoch-16 --out $MODELS/avg-1516c \
        --validation build/dataset-draw14/validation.parquet
    "$PY" -m training.calibrate --model $MODELS/avg-1516c --data build/dataset/calibration.parquet --max-fpr 0.027
fi

# Epoch 17 at half the learning rate from the mean.
dataset build/dataset-draw15 --draw 15
train $MODELS/epoch-17 --data build/dataset-draw15 --init $MODELS/avg-1516c "${CPU[@]}" --lr 1e-5 --head-lr 1e-4 --seed 29 --max-fpr 0.027

# Epochs 18-21 on a GPU: two passes over draws 19-21, then two over draws 22-25 with the word loss doubled.
concat_draws build/draws-19-21 19 20 21
train $MODELS/gpu-b --data build/draws-19-21 --init $MODELS/epoch-17 "${GPU[@]}" --seed 42 --workers 3 --threads 4
concat_draws build/draws-22-25 22 23 24 25
train $MODELS/gpu2-c --data build/draws-22-25 --init $MODELS/gpu-b "${GPU[@]}" --seed 44 --word-weight 2 --workers 6 --threads 2

# The shipped folder: the last run's weights, calibrated with the cap on held-out human sentences too.
mkdir -p "$OUT" && cp $MODELS/gpu2-c/* "$OUT/"
"$PY" -m training.calibrate --model "$OUT" --data build/dataset/calibration.parquet --max-fpr 0.027 \
    --negatives build/dataset/human_negatives.parquet

# The pair decisions beside the classifier (decisions.json), fitted on pairs from the training split.
[ -f build/family-eval/pairs.jsonl ] || "$PY" -m training.build_family_eval --out build/family-eval
"$PY" -m training.fit_decisions --pairs build/family-eval/pairs.jsonl --model "$OUT"

# The evaluation in its card: three leave-one-thesaurus-out models, then the held-out sets.
[ -f $MODELS/loto/loto.json ] || "$PY" -m training.loto --out $MODELS/loto --size 24000 --epochs 1 --batch-size 32 \
    --max-length 64 --threads 2 --freeze-embeddings --lr 6e-5 --max-train 12000
"$PY" -m training.evaluate --model "$OUT" --data build/dataset --out "$EVAL_OUT" --loto-models $MODELS/loto --card --max-fpr 0.027
