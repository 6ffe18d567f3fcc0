#!/usr/bin/env bash
# Runs every Go fuzz target of the repository, one at a time, each for
# FUZZTIME (default 10s), and stops at the first failure, printing the
# failing input's file (under the package's testdata/fuzz/) and how to
# replay it. The targets are what `go test -list '^Fuzz'` reports in the
# packages whose test files declare a func Fuzz*.
#
#   bash scripts/fuzz.sh                  every target, 10 s each
#   FUZZTIME=1m bash scripts/fuzz.sh      longer
#   bash scripts/fuzz.sh 'Cursor|Token'   only targets whose name matches
#
# Inputs that found new coverage stay in Go's cache ($(go env GOCACHE)/fuzz),
# so later runs start from them; only failing inputs go to testdata/fuzz.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime=${FUZZTIME:-10s}
filter=${1:-.}

# Packages with a fuzz target, by where the source declares one; `go test
# -list` then names the targets (only those packages' test binaries run, so
# no TestMain elsewhere is started).
mapfile -t dirs < <(grep -rlE --include='*_test.go' --exclude-dir=.cache --exclude-dir=testdata \
  '^func Fuzz[A-Z0-9_]' . | xargs -r -n1 dirname | sort -u)
if [ ${#dirs[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets found" >&2
  exit 1
fi

targets=() # "package-dir name"
for dir in "${dirs[@]}"; do
  if ! out=$(go test -list '^Fuzz' "$dir" 2>&1); then
    printf '%s\n' "$out" >&2
    echo "fuzz: cannot list the fuzz targets of $dir" >&2
    exit 1
  fi
  while read -r name; do
    if [[ $name =~ ^Fuzz[A-Za-z0-9_]*$ ]] && [[ $name =~ $filter ]]; then
      targets+=("$dir $name")
    fi
  done <<<"$out"
done
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz target matches $filter" >&2
  exit 1
fi

echo "fuzz: ${#targets[@]} targets, $fuzztime each"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()
t_all=$(date +%s)
for tg in "${targets[@]}"; do
  dir=${tg%% *}
  name=${tg#* }
  printf '\n== %s %s\n' "$dir" "$name"
  t0=$(date +%s)
  if ! go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$dir" 2>&1 | tee "$log"; then
    echo
    echo "fuzz: $name in $dir FAILED" >&2
    input=$(sed -n 's/.*Failing input written to \(testdata\/fuzz\/[^ ]*\).*/\1/p' "$log" | tail -n 1)
    if [ -n "$input" ]; then
      echo "fuzz: failing input: ${dir#./}/$input" >&2
      echo "fuzz: replay it with: go test -run '^${name}\$/$(basename "$input")\$' $dir" >&2
    else
      echo "fuzz: no new input was written: a seed or a stored input under ${dir#./}/testdata/fuzz/$name failed (see above)" >&2
    fi
    exit 1
  fi
  summary+=("$(printf '%-28s %-26s %4ss' "${dir#./}" "$name" "$(($(date +%s) - t0))")")
done

printf '\n== fuzz summary (%s each, %ss in all)\n' "$fuzztime" "$(($(date +%s) - t_all))"
printf '%s\n' "${summary[@]}"
