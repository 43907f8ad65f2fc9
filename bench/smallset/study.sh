#!/bin/sh
# Augmentation study on the small real-photo set (bench/smallset/make_photo_set.py): one detect train per setting,
# the same seed, model and schedule; prints each run's best val mAP@0.5. usage: study.sh SET_DIR OUT_DIR [SHARPVISION]
set -eu
SET=$1; OUT=$2; SV=${3:-sharpvision}
COMMON="--val $SET/val.txt --classes $SET/classes.txt --model yolov3-resnet18 --pretrained imagenet --img-size 192 --fine-tune 8,3 --batch 8 --schedule cosine --seed 1 --exist-ok"
run() { name=$1; shift; "$SV" detect train "$SET/train.txt" $COMMON --out "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1; echo "$name: $(grep 'Best val' "$OUT/$name.log")"; }
mkdir -p "$OUT"
run none --jitter 0 --scale 1,1 --no-flip --hsv 0,1,1
run geometric --hsv 0,1,1
run default
run mosaic-0.5 --mosaic 0.5
run mosaic-1 --mosaic 1
run multi-scale --multi-scale 0.5
