#!/bin/bash
# Idle A/B of merged main vs 9274057 (the start of the sixth session), one after the other, interleaved.
set -x
M=/work/main; B=/work/wt-base; O=$O
uptime
cd $B && node dist/cli.js bench-step --config fmnist-daso,fmnist-fixmatch --reps 3 --out $O/base-fmnist-1.json
cd $M && node dist/cli.js bench-step --config fmnist-daso,fmnist-daso-unfused,fmnist-fixmatch --reps 3 --tune off --out $O/main-fmnist-off.json
cd $M && node dist/cli.js bench-step --config fmnist-daso,fmnist-fixmatch --reps 3 --tune fresh --tune-cache $O/tune.json --out $O/main-fmnist-fresh.json
cd $M && node dist/cli.js bench-step --config fmnist-daso,fmnist-fixmatch --reps 3 --tune cached --tune-cache $O/tune.json --out $O/main-fmnist-cached.json
cd $B && node dist/cli.js bench-step --config fmnist-daso,fmnist-fixmatch --reps 3 --out $O/base-fmnist-2.json
uptime
cd $B && node dist/cli.js bench-step --config wrn28-2-sup-b64 --reps 1 --out $O/base-wrn.json
cd $M && node dist/cli.js bench-step --config wrn28-2-sup-b64 --reps 1 --tune off --out $O/main-wrn-off.json
cd $M && node dist/cli.js bench-step --config wrn28-2-sup-b64 --reps 1 --tune fresh --tune-cache $O/tune.json --tune-budget-s 240 --out $O/main-wrn-fresh.json
uptime
cd $M && node dist/cli.js bench --filter 'conv2d_backward_weight.v3|conv2d_backward_weight.v4|conv2d_backward_weight.v5|conv2d_forward.v4 |conv2d_backward_input.v4 ' --reps 3 --out $O/main-kernels.json
uptime
cd $M && node dist/cli.js bench --filter 'conv2d_forward.v3 |conv2d_backward_input.v2 ' --reps 3 --out $O/main-kernels-s2.json   # run right after, the stride-2 rule rungs
