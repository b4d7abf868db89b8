#!/bin/bash
# Used for issue 23: run with the build before and after a change to the KEN core, then diff the two outputs.
# usage: fixtures.sh <repo-root> <outfile>: prunes fixture pairs, prints sha256 of every written file but the report
R=$1; OUT=$2; : > $OUT
T=$(mktemp -d)
D=$(cd "$(dirname "$0")/.." && pwd)/test/data
run() { # name ft base k kernel
  rm -rf $T/o; node $R/dist/cli.js prune $2 --base $3 -k $4 --kernel $5 --backend js --out $T/o --json >/dev/null 2>$T/err || { echo "$1 k=$4 $5 FAILED $(head -1 $T/err)" >> $OUT; return; }
  (cd $T/o && find . -type f ! -name ken-report.json | sort | xargs sha256sum | sed "s|^|$1 k=$4 $5 |") >> $OUT
}
for k in 4 16 64; do for kern in gaussian tophat epanechnikov exponential linear cosine; do
  run debdesc $D/debdesc-bert-mini/finetuned $D/debdesc-bert-mini/pretrained $k $kern; done; done
for a in albert llama xlm-roberta; do for ft in $D/arch/$a/*; do [ "$(basename $ft)" = pretrained ] && continue;
  run $a-$(basename $ft) $ft $D/arch/$a/pretrained 8 gaussian; done; done
rm -rf $T
