#!/usr/bin/env bash
# Benchmark of `ecsflow check` against `cat` on a generated corpus.
#
#   benches/check.sh [N] [SCALE_N]
#
#   N        files in the main corpus (default 1200, about 0.6 KB each)
#   SCALE_N  files in a second, larger corpus to show scaling (default 5000;
#            0 skips it)
#
# Environment:
#   RUNS=20        timed repetitions per command (the median is reported)
#   WARMUP=3       untimed runs before them (fills the page cache)
#   ECSFLOW_BIN=…  benchmark this binary instead of building target/release/ecsflow
#   COMPARE_BIN=…  also time `COMPARE_BIN check DIR` (e.g. a variant build)
#   KEEP_CORPUS=1  keep the generated corpora and print where they are
#   NO_HYPERFINE=1 use the bash timing loop even if hyperfine is installed
#
# For every corpus it generates N pipelines that all pass `ecsflow check` with no
# errors (exits 1 if they do not), then times, with the median of RUNS runs:
#   cat             cat DIR/*.ecsflow > /dev/null
#   check           ecsflow check DIR                       (directory walk)
#   check json      ecsflow check --format json DIR > /dev/null
#   check 1 thread  RAYON_NUM_THREADS=1 ecsflow check DIR   (one core, like cat)
#   check 1 file    ecsflow check ONE_FILE                  (start-up cost)
# and prints files/s, MB/s and the ratio to `cat`. It asserts no timings: it is a
# benchmark, not a test. Results are recorded in docs/performance.md.
set -euo pipefail

N=${1:-1200}
SCALE_N=${2:-5000}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Commands are built as plain space-separated argument lists: keep spaces out
# of TMPDIR and ECSFLOW_BIN.
work=$(mktemp -d "${TMPDIR:-/tmp}/ecsflow-bench.XXXXXX")
cleanup() {
    if [[ ${KEEP_CORPUS:-} == 1 ]]; then
        echo "corpora kept in $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# ------------------------------------------------------------------- the binary
absolute() { # absolute PROGRAM: its absolute path (the timings run in the corpus)
    local path
    path=$(command -v "$1") || { echo "error: $1 is not an executable" >&2; exit 2; }
    echo "$(cd "$(dirname "$path")" && pwd)/$(basename "$path")"
}

if [[ -n ${ECSFLOW_BIN:-} ]]; then
    bin=$(absolute "$ECSFLOW_BIN")
else
    echo "== cargo build --release" >&2
    (cd "$root" && cargo build --release --quiet)
    bin=$root/target/release/ecsflow
fi
[[ -x $bin ]] || { echo "error: $bin is not executable" >&2; exit 2; }
if [[ -n ${COMPARE_BIN:-} ]]; then
    COMPARE_BIN=$(absolute "$COMPARE_BIN")
fi

use_hyperfine=0
if [[ -z ${NO_HYPERFINE:-} ]] && command -v hyperfine > /dev/null; then
    use_hyperfine=1
fi

# ------------------------------------------------------------------- the corpus
# Deterministic (RANDOM is seeded): the same bash gives the same files for the
# same N, and the first 1,200 files of the 5,000-file corpus are the 1,200 ones.
# Five templates in turn: register from + container overrides with scaling held
# and a rollout; register with cpu/memory + run-task like + prune; two services
# in parallel; register family + forced redeploy + rollback to; a plain restart.
regions=(eu-west-1 eu-central-1 eu-north-1 us-east-1 us-west-2 ap-southeast-2 ca-central-1)
clusters=(prod staging shop payments internal edge batch platform)
services=(api web worker checkout search billing auth ledger catalog notifier gateway reports media inventory)
levels=(debug info warn error)
timeouts=(5m 8m 10m 12m 15m 20m 30m 45m 1h 1h30m)
graces=(15s 30s 45s 60s 90s 2m)
cpus=('"256"' '"512"' '"1024"' '"1 vCPU"' '"2 vCPU"' 512 1024)
memories=('"512"' '"1024"' '"2048"' '"2 GB"' '"4 GB"' 2048 4096)
registries=(
    "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    "210987654321.dkr.ecr.us-east-1.amazonaws.com"
    "public.ecr.aws/acme"
    "ghcr.io/acme"
)

pick() { # pick ARRAY_NAME -> $REPLY, a pseudo-random element
    local -n array=$1
    REPLY=${array[RANDOM % ${#array[@]}]}
}

# A rollout with desired count d that can make progress:
# ceil(d*min/100) < floor(d*max/100).
rollout() { # rollout D PAD -> $REPLY, two attribute lines padded to PAD
    local d=$1 pad=$2 min max
    min=$((50 + 10 * (RANDOM % 6)))  # 50..100
    max=$((150 + 25 * (RANDOM % 3))) # 150..200
    if ((d * max / 100 <= (d * min + 99) / 100)); then max=200; fi
    printf -v REPLY '%-*s= %d\n  %-*s= %d' "$pad" min-healthy-percent "$min" "$pad" max-percent "$max"
}

# Each template writes one pipeline to $1 for index $2, using builtins only.
gen_rollout() { # register from + container overrides, scaling held, update, rollback
    local file=$1 i=$2 svc region cluster to level reg d
    pick services; svc=$REPLY; pick regions; region=$REPLY; pick clusters; cluster=$REPLY
    pick timeouts; to=$REPLY; pick levels; level=$REPLY; pick registries; reg=$REPLY
    d=$((2 + RANDOM % 7))
    rollout "$d" 20
    printf '%s\n' "# Roll out ${svc} (${i}), autoscaling held still.
pipeline \"${svc}-rollout-${i}\"

region  = \"${region}\"
cluster = \"${cluster}\"

param tag = env(\"GITHUB_SHA\", \"dev\")
param replicas: int = ${d}

service ${svc} = \"${svc}-${i}\"

let td = register from ${svc} {
  container \"${svc}\" {
    image = \"${reg}/${svc}:\${tag}\"
    env   = { RELEASE = tag, LOG_LEVEL = \"${level}\" }
  }
}

suspend-scaling ${svc}

update ${svc} {
  task-definition     = td
  desired-count       = replicas
  ${REPLY}
  circuit-breaker     = rollback
}

await-stable ${svc} { timeout = ${to} }

resume-scaling ${svc}

on-failure {
  rollback ${svc}
}" > "$file"
}

gen_migration() { # register from with cpu/memory, run-task like, update, prune
    local file=$1 i=$2 svc region cluster to grace cpu mem reg keep
    pick services; svc=$REPLY; pick regions; region=$REPLY; pick clusters; cluster=$REPLY
    pick timeouts; to=$REPLY; pick graces; grace=$REPLY; pick cpus; cpu=$REPLY
    pick memories; mem=$REPLY; pick registries; reg=$REPLY
    keep=$((3 + RANDOM % 8))
    printf '%s\n' "# Migrate the ${svc} database (${i}), then roll out.
pipeline \"${svc}-migrate-${i}\"

region  = \"${region}\"
cluster = \"${cluster}\"

param image = \"${reg}/${svc}:1.$((RANDOM % 40)).$((RANDOM % 10))\"

service ${svc} = \"${svc}\"

let td = register from ${svc} {
  container \"app\" { image = image }
  cpu    = ${cpu}
  memory = ${mem}
}

let _migration = run-task td {
  like = ${svc}
  container \"app\" { command = [\"./manage\", \"migrate\", \"--no-input\"] }
  wait    = success
  timeout = ${to}
}

update ${svc} { task-definition = td, health-check-grace = ${grace} }

await-stable ${svc}

prune td keep ${keep}

on-failure {
  rollback ${svc}
}" > "$file"
}

gen_parallel() { # two services registered, updated and awaited in parallel
    local file=$1 i=$2 a b region cluster to reg n=${#services[@]} ia
    ia=$((RANDOM % n))
    a=${services[ia]}
    b=${services[(ia + 1 + RANDOM % (n - 1)) % n]} # never the same as a
    pick regions; region=$REPLY; pick clusters; cluster=$REPLY
    pick timeouts; to=$REPLY; pick registries; reg=$REPLY
    printf '%s\n' "# ${a} and ${b} (${i}) together.
pipeline \"${a}-${b}-${i}\"

region  = \"${region}\"
cluster = \"${cluster}\"

param tag = env(\"GITHUB_SHA\", \"dev\")

service ${a} = \"${a}\"
service ${b} = \"${b}\"

parallel {
  let ${a}_td = register from ${a} {
    container \"${a}\" { image = \"${reg}/${a}:\${tag}\" }
  }
  let ${b}_td = register from ${b} {
    container \"${b}\" { image = \"${reg}/${b}:\${tag}\" }
  }
}

parallel {
  update ${a} { task-definition = ${a}_td, circuit-breaker = rollback }
  update ${b} { task-definition = ${b}_td, circuit-breaker = on }
}

await-stable ${a}, ${b} { timeout = ${to} }

on-failure {
  parallel {
    rollback ${a}
    rollback ${b}
  }
}" > "$file"
}

gen_redeploy() { # redeploy in another cluster, with an explicit rollback target
    local file=$1 i=$2 svc cluster region to grace d
    pick services; svc=$REPLY; pick clusters; cluster=$REPLY; pick regions; region=$REPLY
    pick timeouts; to=$REPLY; pick graces; grace=$REPLY
    d=$((2 + RANDOM % 9))
    rollout "$d" 21
    printf '%s\n' "# Restart every ${svc} task (${i}) on a pinned revision.
pipeline \"${svc}-redeploy-${i}\"

region = env(\"AWS_REGION\", \"${region}\")

param stage = env(\"DEPLOY_ENV\", \"staging\")

service ${svc} = \"${cluster}/\${stage}-${svc}\"

let td = register family \"${svc}-${i}\" {
  container \"${svc}\" { image = \"${registries[0]}/${svc}:stable\" }
}

update ${svc} {
  task-definition      = td
  desired-count        = ${d}
  ${REPLY}
  force-new-deployment = true
  health-check-grace   = ${grace}
}

await-stable ${svc} { timeout = ${to} }

on-failure {
  rollback ${svc} to td
}" > "$file"
}

gen_restart() { # a forced redeploy on the same task definition
    local file=$1 i=$2 svc cluster region to grace
    pick services; svc=$REPLY; pick clusters; cluster=$REPLY; pick regions; region=$REPLY
    pick timeouts; to=$REPLY; pick graces; grace=$REPLY
    printf '%s\n' "# Restart ${svc} (${i}): picks up rotated secrets, no new revision.
pipeline \"${svc}-restart-${i}\"

region = env(\"AWS_REGION\", \"${region}\")

service ${svc} = \"${cluster}/${svc}\"

update ${svc} { force-new-deployment = true, health-check-grace = ${grace} }

await-stable ${svc} { timeout = ${to} }" > "$file"
}

generate() { # generate DIR N
    local dir=$1 n=$2 i file
    mkdir -p "$dir"
    RANDOM=20261122
    for ((i = 0; i < n; i++)); do
        printf -v file '%s/p%05d.ecsflow' "$dir" "$i"
        case $((i % 5)) in
            0) gen_rollout "$file" "$i" ;;
            1) gen_migration "$file" "$i" ;;
            2) gen_parallel "$file" "$i" ;;
            3) gen_redeploy "$file" "$i" ;;
            4) gen_restart "$file" "$i" ;;
        esac
    done
}

# ---------------------------------------------------------------------- timing
# time_cmd LABEL COMMAND [shell]: runs COMMAND WARMUP + RUNS times, stdout to
# /dev/null, and sets MEDIAN (seconds) and CPU (mean user+sys seconds, or "-").
# COMMAND is a plain argument list run without a shell, unless "shell" is given
# (hyperfine then subtracts the shell's start-up time it measures).
time_cmd() {
    local label=$1 cmd=$2 shell=${3:-none}
    if ((use_hyperfine)); then
        local csv=$work/hyperfine.csv
        [[ $shell == shell ]] && shell=sh
        hyperfine --style basic --shell="$shell" --output=null --warmup "$WARMUP" --runs "$RUNS" \
            --export-csv "$csv" --command-name "$label" "$cmd" >&2
        # command,mean,stddev,median,user,system,min,max
        MEDIAN=$(awk -F, 'NR == 2 { print $4 }' "$csv")
        CPU=$(awk -F, 'NR == 2 { printf "%.4f", $5 + $6 }' "$csv")
    else
        # EPOCHREALTIME (bash 5) reads the clock without a fork; older bash
        # falls back to date, whose fork adds about a millisecond to each run.
        local r t0 t1 times=()
        for ((r = 0; r < WARMUP + RUNS; r++)); do
            if [[ -n ${EPOCHREALTIME:-} ]]; then t0=$EPOCHREALTIME; else t0=$(date +%s.%N); fi
            if [[ $shell == shell ]]; then
                eval "$cmd" > /dev/null
            else
                $cmd > /dev/null # word splitting intended: a plain argument list
            fi
            if [[ -n ${EPOCHREALTIME:-} ]]; then t1=$EPOCHREALTIME; else t1=$(date +%s.%N); fi
            ((r >= WARMUP)) && times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
        done
        MEDIAN=$(printf '%s\n' "${times[@]}" | sort -g |
            awk '{ t[NR] = $1 } END { print (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2 }')
        CPU=-
        printf '  %-14s median %.2f ms over %d runs\n' "$label" "$(awk -v m="$MEDIAN" 'BEGIN { print m * 1000 }')" \
            "$RUNS" >&2
    fi
}

rows=()

bench_corpus() { # bench_corpus N
    local n=$1 dir=$work/corpus-$1 bytes out
    echo "== generating $n pipelines in $dir" >&2
    generate "$dir" "$n"
    bytes=$(cat "$dir"/*.ecsflow | wc -c)
    printf '   %d files, %d bytes, %.0f bytes per file\n' "$n" "$bytes" \
        "$(awk -v b="$bytes" -v n="$n" 'BEGIN { print b / n }')" >&2

    # The corpus must check cleanly; anything else makes the numbers meaningless.
    if ! out=$("$bin" check "$dir" 2>&1); then
        echo "$out" | tail -n 40 >&2
        echo "error: the generated corpus does not pass \`ecsflow check\`" >&2
        exit 1
    fi
    local summary=${out##*$'\n'}
    echo "   $summary" >&2
    if [[ $summary != "checked $n files: 0 errors, "* ]]; then
        echo "error: expected \"checked $n files: 0 errors, …\", got \"$summary\"" >&2
        exit 1
    fi

    local all=("$dir"/*.ecsflow)
    local one=${all[0]}
    local -a labels=("cat" "check" "check json" "check 1 thread" "check 1 file")
    # Plain argument lists, run in the corpus directory without a shell
    # (hyperfine -N), stdout to /dev/null. `cat` gets the expanded list, as
    # `cat DIR/*.ecsflow` would, with names relative to the corpus so that the
    # list fits in one argument to hyperfine (128 KiB); past that, a shell
    # expands the glob.
    local cat_cmd cat_shell=none
    cat_cmd="cat ${all[*]#"$dir/"}"
    if ((${#cat_cmd} > 120000)); then
        cat_cmd="cat ./*.ecsflow"
        cat_shell=shell
    fi
    local -a cmds=(
        "$cat_cmd"
        "$bin check $dir"
        "$bin check --format json $dir"
        "env RAYON_NUM_THREADS=1 $bin check $dir"
        "$bin check $one"
    )
    if [[ -n ${COMPARE_BIN:-} ]]; then
        labels+=("compare check")
        cmds+=("$COMPARE_BIN check $dir")
    fi

    local k cat_time=
    cd "$dir"
    for k in "${!labels[@]}"; do
        if ((k == 0)); then
            time_cmd "${labels[k]}" "${cmds[k]}" "$cat_shell"
        else
            time_cmd "${labels[k]}" "${cmds[k]}"
        fi
        [[ -z $cat_time ]] && cat_time=$MEDIAN
        local files=$n size=$bytes
        if [[ ${labels[k]} == "check 1 file" ]]; then
            files=1
            size=$(wc -c < "$one")
        fi
        rows+=("$(awk -v n="$n" -v files="$files" -v size="$size" -v label="${labels[k]}" -v t="$MEDIAN" \
            -v cpu="$CPU" -v cat="$cat_time" 'BEGIN {
                ratio = (label == "cat" || label == "check 1 file") ? "" : sprintf("%.1fx", t / cat)
                printf "%-6d %-14s %6d %9d %10.2f %9s %10.0f %8.2f %7s\n",
                    n, label, files, size, t * 1000, (cpu == "-") ? "-" : sprintf("%.2f", cpu * 1000),
                    files / t, size / t / 1e6, ratio
            }')")
    done
    cd "$root"
}

echo "== load before: $(uptime)" >&2
bench_corpus "$N"
if ((SCALE_N > 0)); then
    bench_corpus "$SCALE_N"
fi
load_after=$(uptime)

# --------------------------------------------------------------------- summary
echo
echo "ecsflow check benchmark — $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "binary:  $bin"
if [[ -z ${ECSFLOW_BIN:-} ]] && rev=$(git -C "$root" rev-parse --short HEAD 2> /dev/null); then
    dirty=$(git -C "$root" status --porcelain -- src grammar Cargo.toml Cargo.lock 2> /dev/null)
    echo "source:  commit $rev${dirty:+ plus uncommitted changes in src/ or grammar/}"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), $(rustc --version 2> /dev/null || echo 'rustc ?')"
echo "timing:  $( ((use_hyperfine)) && hyperfine --version || echo 'bash loop') — median of $RUNS runs after $WARMUP warm-up"
echo "load:    ${load_after#*load average: } (1, 5, 15 min, after the runs)"
echo
printf '%-6s %-14s %6s %9s %10s %9s %10s %8s %7s\n' \
    corpus command files bytes "wall ms" "cpu ms" "files/s" "MB/s" "vs cat"
printf '%s\n' "${rows[@]}"
echo
echo "wall ms: median wall-clock time; cpu ms: mean user+system time (hyperfine only);"
echo "vs cat: median time over the median time of cat on the same corpus."
