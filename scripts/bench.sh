#!/usr/bin/env bash
# The full benchmark suite: installs what is missing (with the plotting packages), configures
# and builds the default preset's benchmark programs (bench-*), runs each in turn, writes
# Google Benchmark JSON and a machine description to docs/results/<date>-<machine>/, then
# draws the charts there (bench/plot.py).
#
#   bash scripts/bench.sh                 # every program, 3 repetitions (takes many minutes)
#   bash scripts/bench.sh --only notification
#   bash scripts/bench.sh --quick         # check the pipeline: 1 repetition, tiny runs,
#                                         # results under build/bench-quick/ (never docs/)
#   REPS=5 bash scripts/bench.sh          # repetitions per benchmark (default 3)
#
# Options:
#   --only NAME      run one program: NAME is e.g. codec or bench-codec
#   --quick          REPS=1, --benchmark_min_time=0.01 and each program's CTest smoke-run
#                    settings (EDA_BENCH_*), written to build/bench-quick/<date>-<machine>/
#   --machine SLUG   name the machine yourself (default: from the CPU model and core count,
#                    e.g. xeon-2c)
#   --verbose        also show each program's own output (always kept in
#                    build/default/bench-logs/<name>.log)
#   -h, --help       this text
#
# The programs are the CTest tests labelled "benchmark" (every eda_add_benchmark target), so a
# new bench-* program joins the suite with no change here. Values are medians of the
# repetitions; each run keeps the JSON of programs run earlier that day on that machine.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed -E 's/^# ?//'; }
die() { echo "bench.sh: $*" >&2; exit 1; }

quick=0 only="" machine="" verbose=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1 ;;
    --only) [ $# -ge 2 ] || die "--only needs a program name (e.g. --only codec)"
            only="$2"; shift ;;
    --only=*) only="${1#--only=}" ;;
    --machine) [ $# -ge 2 ] || die "--machine needs a name (e.g. --machine xeon-2c)"
               machine="$2"; shift ;;
    --machine=*) machine="${1#--machine=}" ;;
    --verbose) verbose=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench.sh: unknown option '$1'" >&2; echo "Try: bash scripts/bench.sh --help" >&2
       exit 2 ;;
  esac
  shift
done
only="${only#bench-}"
if [ -n "$machine" ] && ! [[ "$machine" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]]; then
  die "--machine '$machine': use letters, digits, '.', '_' and '-' only"
fi

if [ "$quick" = 1 ]; then reps=1; else reps="${REPS:-3}"; fi
[[ "$reps" =~ ^[1-9][0-9]*$ ]] || die "REPS must be a positive whole number, not '$reps'"

preset=default
build_dir="build/$preset"
python=/usr/bin/python3

bash scripts/deps.sh --plots
[ -x "$python" ] || die "$python is missing (Debian: python3-matplotlib brings it)"

echo "== configure ($preset)"
cmake --preset "$preset" >/dev/null

# The benchmark programs: name, executable, and the environment of their CTest smoke run.
# CTest knows them once configured: every eda_add_benchmark target is a test labelled
# "benchmark", whatever the generator, and only if it is built (bench-peers needs libnats).
discover() {
  ctest --preset "$preset" -N -L '^benchmark$' --show-only=json-v1 | "$python" -c '
import json, sys
for test in json.load(sys.stdin).get("tests", []):
    props = {p["name"]: p["value"] for p in test.get("properties", [])}
    labels = props.get("LABELS", [])
    if "benchmark" not in labels or not test.get("command") or not test["name"].endswith(".smoke"):
        continue
    env = props.get("ENVIRONMENT", [])
    print("\t".join([test["name"][: -len(".smoke")], test["command"][0], ";".join(env)]))
'
}
names=() exes=() envs=()
while IFS=$'\t' read -r name exe env; do
  [ -n "$only" ] && [ "$name" != "bench-$only" ] && continue
  names+=("$name") exes+=("$exe") envs+=("$env")
done < <(discover)
if [ ${#names[@]} -eq 0 ]; then
  if [ -n "$only" ]; then
    die "no benchmark program 'bench-$only'; the programs are: $(discover | cut -f1 | tr '\n' ' ')"
  fi
  die "no benchmark programs found (CTest tests labelled 'benchmark' in $build_dir;" \
      "is EDA_BUILD_BENCHMARKS on in the '$preset' preset?)"
fi

echo "== build (${names[*]})"
cmake --build --preset "$preset" --target "${names[@]}"

# ---- the machine: description and folder name
cpu="$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n1)"
[ -n "$cpu" ] || cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n1)"
[ -n "$cpu" ] || cpu="$(uname -m)"
cores="$(nproc)"
if [ -z "$machine" ]; then
  # "Intel(R) Xeon(R) Processor @ 2.50GHz" -> xeon, "AMD EPYC 7763 64-Core Processor" ->
  # epyc-7763, "Intel(R) Core(TM) i7-9700K CPU @ 3.60GHz" -> i7-9700k; then -<cores>c.
  model="$(printf '%s' "$cpu" | tr '[:upper:]' '[:lower:]' | sed -E \
    -e 's/\((r|tm|c)\)//g' -e 's/@.*$//' -e 's/ with .*$//' -e 's/[0-9]+-core//g' \
    -e 's/\b(intel|amd|cpu|processor|core|genuineintel|authenticamd)\b//g' \
    -e 's/[^a-z0-9]+/-/g' -e 's/^-+//' | cut -c1-24 | sed -E 's/-+$//')"
  machine="${model:-$(uname -m)}-${cores}c"
fi
today="$(date +%F)"
if [ "$quick" = 1 ]; then
  out="build/bench-quick/$today-$machine"
else
  out="docs/results/$today-$machine"
fi
logs="$build_dir/bench-logs"
mkdir -p "$out" "$logs"

version() {  # the installed Debian version of a package, for machine.txt
  dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "not installed"
}
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$build_dir/CMakeCache.txt" | head -n1; }
cxx="$(cache_value CMAKE_CXX_COMPILER)"
# shellcheck source=/dev/null
os="$(. /etc/os-release 2>/dev/null && echo "${PRETTY_NAME:-unknown}" || echo unknown)"
{
  echo "cpu: $cpu"
  echo "cores: $cores"
  echo "kernel: $(uname -sr)"
  echo "os: $os"
  # GCC names itself after argv[0] (c++, x86_64-linux-gnu-g++-12): call it g++, as people do.
  echo "compiler: $("${cxx:-c++}" --version 2>/dev/null | head -n1 |
    sed -E 's/^[^ ]*[cg]\+\+[^ ]* \(/g++ (/' || echo unknown)"
  echo "libzmq: $(version libzmq3-dev)"
  echo "cppzmq: $(version cppzmq-dev)"
  echo "msgpack-cxx: $(version libmsgpack-cxx-dev)"
  echo "benchmark: $(version libbenchmark-dev)"
  echo "nats-server: $(version nats-server)"
  echo "libnats: $(version libnats-dev)"
  echo "rabbitmq-server: $(version rabbitmq-server); librabbitmq: $(version librabbitmq-dev) (bench-brokers)"
  echo "strace: $(version strace) (bench-brokers counts the servers' fsyncs with it)"
  echo "sqlite: $(version libsqlite3-dev)"
  echo "postgresql: $(version postgresql-15) (server, bench-event-stores); libpq: $(version libpq-dev)"
  echo "build: $(cache_value CMAKE_BUILD_TYPE) (preset $preset)"
} >"$out/machine.txt"

# ---- run
args=(--benchmark_repetitions="$reps" --benchmark_report_aggregates_only=true
      --benchmark_out_format=json)
[ "$quick" = 1 ] && args+=(--benchmark_min_time=0.01)

if [ "$quick" = 0 ]; then
  for var in $(compgen -e | grep '^EDA_BENCH_' || true); do
    echo "bench.sh: note: $var=${!var} is set in your environment: it shrinks that workload"
  done
fi
load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)"
if awk -v l="$load" -v c="$cores" 'BEGIN { exit !(l > c / 2) }'; then
  echo "bench.sh: note: the machine is busy (load $load on $cores cores): results may be noisy"
fi

duration() {
  local s=$1
  if [ "$s" -ge 60 ]; then printf '%dm %02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}
run_program() {  # exe json log env...; the program's own output goes to the log
  local exe=$1 json=$2 log=$3
  shift 3
  if [ "$verbose" = 1 ]; then
    env "$@" "$exe" "${args[@]}" --benchmark_out="$json" 2>&1 | tee "$log"
  else
    env "$@" "$exe" "${args[@]}" --benchmark_out="$json" >"$log" 2>&1
  fi
}

echo "== run: ${#names[@]} program(s), $reps repetition(s) each$([ "$quick" = 1 ] &&
  echo ", quick") -> $out/"
suite_start=$SECONDS
for i in "${!names[@]}"; do
  name="${names[$i]}" short="${names[$i]#bench-}"
  [ -x "${exes[$i]}" ] || die "${exes[$i]} was not built"
  env_vars=()
  if [ "$quick" = 1 ] && [ -n "${envs[$i]}" ]; then
    IFS=';' read -r -a env_vars <<<"${envs[$i]}"
  fi
  printf '[%d/%d] %s ... (started %s)\n' $((i + 1)) ${#names[@]} "$name" "$(date +%T)"
  start=$SECONDS
  tmp="$logs/$short.json.tmp"  # moved into place only when the program succeeds
  if ! run_program "${exes[$i]}" "$tmp" "$logs/$short.log" "${env_vars[@]}"; then
    rm -f "$tmp"
    echo "bench.sh: $name failed; the last lines of $logs/$short.log:" >&2
    tail -n 20 "$logs/$short.log" | sed 's/^/    /' >&2
    exit 1
  fi
  mv "$tmp" "$out/$short.json"
  printf '      done in %s -> %s\n' "$(duration $((SECONDS - start)))" "$out/$short.json"
done
echo "== all ${#names[@]} program(s) done in $(duration $((SECONDS - suite_start)))"

echo "== plot"
"$python" bench/plot.py "$out"
echo "== results in $out/ (machine.txt, *.json, *.svg)"
