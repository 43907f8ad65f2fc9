#!/usr/bin/python3
"""Sums ONEDNN_VERBOSE=1 exec lines (stdin) into ms per primitive kind, implementation and direction.

Usage: ONEDNN_VERBOSE=1 <command> | bench/onednn_profile.py [--skip N]
A line looks like (oneDNN 2.x and 3.x):
  onednn_verbose,exec,cpu,convolution,brg:avx512_core,forward_training,src_f32::blocked:acdb::f0 ...,alg:...,mb16_ic64oc64_ih56oh56kh3sh1..., 0.61
  (3.x inserts a timestamp after "onednn_verbose"; the last field is the time in ms)
--skip N drops the first N exec lines (the warm-up step's primitives).
"""
import collections
import sys

skip = int(sys.argv[sys.argv.index("--skip") + 1]) if "--skip" in sys.argv else 0
totals = collections.defaultdict(float)
counts = collections.Counter()
seen = 0
for line in sys.stdin:
    if not (line.startswith("onednn_verbose") or line.startswith("dnnl_verbose")):
        continue
    f = line.strip().split(",")
    try:
        i = f.index("exec")
    except ValueError:
        continue
    seen += 1
    if seen <= skip:
        continue
    kind, impl, prop = f[i + 2], f[i + 3], f[i + 4]
    try:
        ms = float(f[-1])
    except ValueError:
        continue
    key = (kind, impl, prop)
    totals[key] += ms
    counts[key] += 1
all_ms = sum(totals.values())
print(f"{'primitive':<16} {'implementation':<28} {'direction':<18} {'calls':>6} {'ms':>9} {'share':>6}")
for key, ms in sorted(totals.items(), key=lambda kv: -kv[1]):
    print(f"{key[0]:<16} {key[1]:<28} {key[2]:<18} {counts[key]:>6} {ms:>9.1f} {ms / all_ms:>6.1%}")
print(f"{'total':<64} {sum(counts.values()):>6} {all_ms:>9.1f}")
