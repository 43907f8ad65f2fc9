#!/bin/sh
# Augmentation study on the small real-photo set (bench/smallset/make_photo_set.py): one detect train per setting,
# the same seed, model and schedule; prints each run's best val mAP@0.5.
# usage: study.sh SET_DIR OUT_DIR [SHARPVISION]   env: FINE_TUNE=E1,E2 (default 8,3), SEED (1), RUNS="none default ..." (default all)
set -eu
SET=$1; OUT=$2; SV=${3:-sharpvision}
FINE_TUNE=${FINE_TUNE:-8,3}
SEED=${SEED:-1}
RUNS=${RUNS:-"none geometric default mild mosaic-0.5 mosaic-1 multi-scale"}
COMMON="--val $SET/val.txt --classes $SET/classes.txt --model yolov3-resnet18 --pretrained imagenet --img-size 192 --fine-tune $FINE_TUNE --batch 8 --schedule cosine --seed $SEED --exist-ok"
run() { name=$1; shift; "$SV" detect train "$SET/train.txt" $COMMON --out "$OUT/$name" "$@" > "$OUT/$name.log" 2>&1; echo "$name: $(grep 'Best val' "$OUT/$name.log")"; }
mkdir -p "$OUT"
for r in $RUNS; do
  case $r in
    none) run none --jitter 0 --scale 1,1 --no-flip --hsv 0,1,1 ;;          # letterbox only
    geometric) run geometric --hsv 0,1,1 ;;                               # keras-yolo3's jitter 0.3, scale 0.25-2, flip
    default) run default ;;                                                # keras-yolo3's: geometric + HSV 0.1,1.5,1.5
    mild) run mild --jitter 0.2 --scale 0.6,1.4 ;;                         # demo detect's milder geometry + HSV
    mild-no-hsv) run mild-no-hsv --jitter 0.2 --scale 0.6,1.4 --hsv 0,1,1 ;;
    mild-mosaic-0.5) run mild-mosaic-0.5 --jitter 0.2 --scale 0.6,1.4 --mosaic 0.5 ;;
    mild-no-hsv-mosaic-0.5) run mild-no-hsv-mosaic-0.5 --jitter 0.2 --scale 0.6,1.4 --hsv 0,1,1 --mosaic 0.5 ;;
    mild-multi-scale) run mild-multi-scale --jitter 0.2 --scale 0.6,1.4 --multi-scale 0.5 ;;
    mosaic-0.5) run mosaic-0.5 --mosaic 0.5 ;;
    mosaic-1) run mosaic-1 --mosaic 1 ;;
    multi-scale) run multi-scale --multi-scale 0.5 ;;
    *) echo "unknown run $r" >&2; exit 2 ;;
  esac
done
