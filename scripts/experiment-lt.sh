#!/bin/bash
# The FixMatch vs FixMatch+DASO experiment of issue 14.3 on the fashion-mnist-lt preset: 1500 steps, seeds 0 and 1,
# unlabeled classes in the labeled order and reversed (where the paper expects DASO to help most). Resumable: run it
# again after an interruption (Ctrl-C keeps a checkpoint) and every unfinished run continues from its checkpoint;
# finished runs (final.json present) are skipped. On the 2-core SwiftShader machine a run takes about 45 minutes
# idle (DASO seed 1, 2026-12-03, with the tuned rungs of --tune-cache; up to 70 beside other work), the eight about 6 hours. Then: daso report runs/lt1500-* --out report.html
# On a machine with a GPU, pass `--gpu require` after the folder so no run silently falls back to the CPU.
# Usage: bash scripts/experiment-lt.sh [RUNS_DIR [TRAIN FLAGS...]]    (default runs/; e.g. runs --gpu require)
set -u
cd "$(dirname "$0")/.."
out=${1:-runs}
shift || true
extra=("$@")
node scripts/build.mjs
for reversed in false true; do
  for a in fixmatch daso; do
    for s in 0 1; do
      name=lt1500-$a-seed$s$([ $reversed = true ] && echo -reversed)
      dir=$out/$name
      if [ -f "$dir/final.json" ]; then echo "$name: done"; continue; fi
      if [ -f "$dir/checkpoint.safetensors" ]; then
        node dist/cli.js train --resume "$dir" "${extra[@]}" || exit $?
      else
        # Warm-up and histogram window keep the preset's proportions (1/3 of the run, 1/30 of it); t_dist 0.3 for the
        # reversed unlabeled set, as the paper's reversed CIFAR-10-LT preset has it.
        node dist/cli.js train --config fashion-mnist-lt --set name=lt1500 --set algorithm=$a --set train.seed=$s \
          --set max_iter=1500 --set daso.warmup=500 --set daso.pl_update_period=50 --set train.eval_every=100 \
          --set train.checkpoint_every=50 --set data.reverse_unlabeled=$reversed \
          $([ $reversed = true ] && echo --set daso.t_dist=0.3) --out-dir "$dir" "${extra[@]}" || exit $?
      fi
    done
  done
done
