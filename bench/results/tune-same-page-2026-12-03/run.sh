#!/bin/bash
# Does tuning in the same page leave the step slower (ab-idle-2026-12-02 saw +50% non-conv GPU time after --tune fresh)?
# Rule, cached and fresh choices one after the other, 12 timed steps each; then WRN-28-2 B=64 rule vs fresh.
# Run from the repo root, idle: O=bench/results/tune-same-page-2026-12-03 bash $O/run.sh
set -x
uptime
node dist/cli.js bench-step --config fmnist-daso --reps 12 --tune off --out $O/fmnist-off-1.json
node dist/cli.js bench-step --config fmnist-daso --reps 12 --tune fresh --tune-cache $O/tune.json --out $O/fmnist-fresh-1.json
node dist/cli.js bench-step --config fmnist-daso --reps 12 --tune cached --tune-cache $O/tune.json --out $O/fmnist-cached.json
node dist/cli.js bench-step --config fmnist-daso --reps 12 --tune off --out $O/fmnist-off-2.json
node dist/cli.js bench-step --config fmnist-daso --reps 12 --tune fresh --tune-cache $O/tune-2.json --out $O/fmnist-fresh-2.json
uptime
node dist/cli.js bench-step --config wrn28-2-sup-b64 --reps 3 --tune off --out $O/wrn-off.json
node dist/cli.js bench-step --config wrn28-2-sup-b64 --reps 3 --tune fresh --tune-cache $O/tune-wrn.json --tune-budget-s 240 --out $O/wrn-fresh.json
uptime
