#!/usr/bin/env bash
# The house style and the static checks, over the project's own C++ files: first the format
# (.clang-format: every file exactly as clang-format writes it; any difference fails), then
# clang-tidy (.clang-tidy: the short list of checks that matter here). clang-tidy fails on new
# findings: tools/clang-tidy-baseline.txt counts, per file and check, the findings the tree
# had when the checks came in; more than that in any file, for any check, fails.
#
#   bash scripts/lint.sh                    # every file (about 7 s of CPU per source file)
#   bash scripts/lint.sh --changed main     # only the files changed since a commit, and the
#                                           # sources that include a changed header
#   bash scripts/lint.sh --format           # rewrite the files in the house style, then stop
#   bash scripts/lint.sh --update-baseline  # every file; write what it finds as the baseline
#
# Tests are checked without three checks their idioms trip (Catch2 macros make long, deeply
# nested functions; sizes written as 3 * 7; vectors filled in loops): see tidy_tests below.
# clang-tidy reads how each file is compiled from build/default/compile_commands.json, so the
# script configures and builds the default preset first (incremental: nothing, when it is
# built). It installs clang-format and clang-tidy when they are missing (scripts/deps.sh --lint).
set -euo pipefail
cd "$(dirname "$0")/.."

changed_since=""
format_only=false
update_baseline=false
baseline=tools/clang-tidy-baseline.txt
while [ $# -gt 0 ]; do
  case "$1" in
    --changed)
      [ $# -ge 2 ] || { echo "lint.sh: --changed needs a commit (e.g. main, HEAD~3)" >&2; exit 2; }
      git rev-parse --verify --quiet "$2^{commit}" >/dev/null ||
        { echo "lint.sh: '$2' is not a commit of this repository" >&2; exit 2; }
      changed_since=$2
      shift 2 ;;
    --format) format_only=true; shift ;;
    --update-baseline) update_baseline=true; shift ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "lint.sh: unknown option '$1' (try --help)" >&2; exit 2 ;;
  esac
done

bash scripts/deps.sh --lint

# The project's own C++ files, as git knows them (nothing under build/, nothing generated).
mapfile -t all_files < <(git ls-files '*.cpp' '*.hpp' '*.inc')

if $format_only; then
  clang-format -i "${all_files[@]}"
  echo "lint.sh: ${#all_files[@]} files written in the house style"
  exit 0
fi

echo "== format (${#all_files[@]} files)"
if ! clang-format --dry-run -Werror "${all_files[@]}" 2>/tmp/lint-format.$$; then
  grep -E '^[^ ].*: (error|warning):' /tmp/lint-format.$$ | cut -d: -f1,2 | sort -u | head -40 >&2
  rm -f /tmp/lint-format.$$
  echo "lint.sh: these lines are not in the house style; 'bash scripts/lint.sh --format' fixes them" >&2
  exit 1
fi
rm -f /tmp/lint-format.$$

# The translation units to check: every compiled .cpp, or those touched since a commit.
cmake --preset default >/dev/null
cmake --build --preset default >/dev/null
database=build/default/compile_commands.json
mapfile -t compiled < <(grep -o '"file": "[^"]*"' "$database" | cut -d'"' -f4 |
                        grep "^$PWD/" | grep -v "^$PWD/build/" | sort -u)
if [ -n "$changed_since" ]; then
  mapfile -t touched < <(git diff --name-only "$changed_since" -- '*.cpp' '*.hpp' '*.inc')
  selected=()
  for unit in "${compiled[@]}"; do
    for file in "${touched[@]}"; do
      case "$file" in
        *.cpp) [ "$unit" = "$PWD/$file" ] && selected+=("$unit") ;;
        # A header is checked through the sources that include it (by its file name).
        *) grep -q "#include \".*$(basename "$file")\"" "$unit" && selected+=("$unit") ;;
      esac
    done
  done
  mapfile -t compiled < <(printf '%s\n' "${selected[@]}" | sort -u | sed '/^$/d')
fi

echo "== clang-tidy (${#compiled[@]} translation units, 2 at a time)"
if [ ${#compiled[@]} -eq 0 ]; then
  echo "lint.sh: nothing to check"
  exit 0
fi
started=$SECONDS
log=$(mktemp)
found=$(mktemp)
trap 'rm -f "$log" "$found"' EXIT
sources=()
tests=()
for unit in "${compiled[@]}"; do
  case "$unit" in
    */tests/*|*/fuzz/*) tests+=("$unit") ;;
    *) sources+=("$unit") ;;
  esac
done
# The compile commands carry GCC's warning flags, some of which clang does not know.
tidy=(run-clang-tidy -quiet -j 2 -p build/default -extra-arg=-Wno-unknown-warning-option)
tidy_tests=(-checks=-readability-function-size,-bugprone-implicit-widening-of-multiplication-result,-performance-inefficient-vector-operation)
[ ${#sources[@]} -eq 0 ] || "${tidy[@]}" "${sources[@]}" >>"$log" 2>&1 || true
[ ${#tests[@]} -eq 0 ] || "${tidy[@]}" "${tidy_tests[@]}" "${tests[@]}" >>"$log" 2>&1 || true
# One finding per file, line and check (a header's findings repeat in every source that
# includes it); then counted per file and check: "FILE CHECK COUNT". (A clean log has no
# finding at all: grep's "nothing matched" must not end the script under pipefail.)
sed 's/\x1b\[[0-9;]*m//g' "$log" |
  { grep -E '^/.*:[0-9]+:[0-9]+: (error|warning): .*\[[a-z0-9.-]+(,-warnings-as-errors)?\]$' || true; } |
  sed -E "s|^$PWD/||; s|^([^:]+):([0-9]+):[0-9]+: [a-z]+: .*\[([a-z0-9.-]+)(,-warnings-as-errors)?\]$|\1 \2 \3|" |
  sort -u | awk '{count[$1 " " $3]++} END {for (k in count) print k, count[k]}' | sort >"$found"
# run-clang-tidy names each clang-tidy it runs: a log without one means nothing was checked.
if ! grep -q "^clang-tidy" <(sed 's/\x1b\[[0-9;]*m//g' "$log"); then
  tail -20 "$log" >&2
  echo "lint.sh: clang-tidy did not run" >&2
  exit 1
fi
if $update_baseline; then
  [ -z "$changed_since" ] || { echo "lint.sh: --update-baseline needs every file (no --changed)" >&2; exit 2; }
  { echo "# clang-tidy findings the tree is allowed to keep: FILE CHECK COUNT (scripts/lint.sh)"
    cat "$found"; } >"$baseline"
  echo "lint.sh: $(wc -l <"$found") file/check pairs written to $baseline ($(( SECONDS - started )) s)"
  exit 0
fi
# New: more findings of a check in a file than the baseline allows (none, without a baseline).
new=$(awk -v baseline="$baseline" '
  BEGIN { while ((getline line < baseline) > 0) { if (line !~ /^#/) { split(line, f, " "); allowed[f[1] " " f[2]] = f[3] } } }
  { key = $1 " " $2; if ($3 > allowed[key] + 0) print $1 ": " $2 " (" $3 " found, " allowed[key] + 0 " allowed)" }' "$found")
if [ -n "$new" ]; then
  echo "$new" >&2
  grep -F -f <(echo "$new" | cut -d: -f1 | sort -u) <(sed 's/\x1b\[[0-9;]*m//g' "$log") |
    grep -E ': (error|warning): ' | sed "s|^$PWD/||" | sort -u | head -40 >&2 || true
  echo "lint.sh: clang-tidy found new problems, listed above ($(( SECONDS - started )) s)" >&2
  exit 1
fi
echo "lint.sh: no new findings ($(wc -l <"$found") file/check pairs, all within $baseline; $(( SECONDS - started )) s)"
