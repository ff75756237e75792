#!/usr/bin/env bash
# Benchmark of the execution engine: `ecsflow run` against the ECS rollout
# emulator (harness/ecs_emulator.py on top of moto), on loopback.
#
#   benches/run.sh [--runs N] [--time-scale S] [--services N] [--scenarios LIST]
#                  [--trace] [--model] [--json FILE] [--no-build]
#
#   --runs N          repetitions per scenario (default 5); median and max reported
#   --time-scale S    the emulator's real seconds per emulated second (default 1.0,
#                     so rollouts take realistic emulated time: a task starts in 1 s)
#   --services N      services in the parallel scenario (default 10)
#   --scenarios LIST  comma-separated: happy,failure,parallel (the default),
#                     polling, throttle (issue 10; not in the default: polling
#                     takes about 4 min a run), strategies (issue 11; with
#                     `--minute 60`, about 2 min a strategy and run)
#   --strategies LIST strategies: which of rolling,blue-green,linear,canary (all)
#   --minute S        the emulator's emulated seconds per minute of bake time
#                     (default 60: real minutes)
#   --poll-hold S     polling: the new tasks' start delay, image `slow-Ss` (default 75)
#   --poll-skip S     polling: the counted minute starts S s after await-stable (default 5)
#   --throttle-seconds S  throttle: the window's length (default 6)
#   --throttle-slow S     throttle: the new tasks' start delay (default 3), so
#                     ECS completes the rollout inside the window
#   --trace           also one traced happy and failed run: every call with its
#                     time and latency, next to the emulator's timeline
#   --model           also follow real rollouts with ecsflow's poll schedule and
#                     alternatives, in Python: how late each sees the end
#   --json FILE       every run's numbers as JSON
#   --emulator-nodelay  run the emulator with TCP_NODELAY on its connections (via
#                     benches/run_bench.py; harness/ unchanged): without it, each
#                     response's body can wait ~40 ms for a delayed ACK
#   --no-build        use target/release/ecsflow as it is
#
# Environment: ECSFLOW_BIN=… benchmarks that binary instead of building one;
# PYTHON=… the interpreter with boto3 (default .venv/bin/python, which
# harness/start creates).
#
# Scenarios (each run on fresh services: desired 2, 50/200, breaker + rollback):
#   happy     register from the service with a new image, update, await-stable:
#             wall time, the rollout itself (timeline `started` -> `completed`),
#             the time beyond it, API calls by action (moto's recorder), polling
#             (DescribeServices during await-stable) vs the rest
#   failure   the same with image `…:v2-crash-1` and `circuit-breaker = rollback`:
#             the time from the timeline's `failed` to the process's exit
#   parallel  N services registered and updated in `parallel { }` and awaited in
#             one `await-stable`, interleaved with the same for one service
#   polling   a rollout held by `slow-75s`, awaited for one service, for N in one
#             `await-stable`, and for N `await-stable`s in `parallel`: moto's
#             recording is read at await-stable + 5 s and 60 s later, and the
#             DescribeServices in between counted, with the services each asked for
#   strategies  for each strategy, a service configured with it (bakes of one
#             minute) deployed and awaited: the service deployment's SUCCESSFUL
#             (finishedAt) -> exit, and Describe calls per minute while it bakes
#   throttle  a rollout (`slow-3s`) that ECS completes, with `on-failure {
#             rollback s0 }`, without and with DescribeServices throttled for 6 s
#             from await-stable's start (POST /_emulator/faults), through a
#             timestamping proxy: COMPLETED -> exit, exit code, end state
#
# It asserts no timings (a benchmark, not a test); it exits 1 if a run that
# should succeed fails (or the failure scenario does not fail with exit 1).
# Results: docs/performance.md (the `ecsflow run` section).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=5
scale=1.0
services=10
scenarios=happy,failure,parallel
build=1
nodelay=0
minute=60
extra=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --time-scale) scale=$2; shift 2 ;;
        --services) services=$2; shift 2 ;;
        --scenarios) scenarios=$2; shift 2 ;;
        --trace|--model) extra+=("$1"); shift ;;
        --poll-hold|--poll-skip|--throttle-seconds|--throttle-slow|--strategies) extra+=("$1" "$2"); shift 2 ;;
        --minute) minute=$2; shift 2 ;;
        --json) extra+=(--json "$(realpath -m "$2")"); shift 2 ;;
        --no-build) build=0; shift ;;
        --emulator-nodelay) nodelay=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

python=${PYTHON:-$root/.venv/bin/python}
export PYTHONDONTWRITEBYTECODE=1
[[ -x $python ]] || { echo "error: $python missing: run harness/start once (it creates .venv)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/ecsflow-run-bench.XXXXXX")
emu_pid=
cleanup() {
    if [[ -n $emu_pid ]]; then
        kill -TERM "$emu_pid" 2> /dev/null || true
        wait "$emu_pid" 2> /dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------- the binary
if [[ -n ${ECSFLOW_BIN:-} ]]; then
    bin=$ECSFLOW_BIN
else
    if [[ $build == 1 ]]; then
        # Waits for the build lock if another cargo holds it; a cold release
        # build of the AWS SDK takes 10+ minutes on two cores.
        echo "== cargo build --release" >&2
        (cd "$root" && cargo build --release --quiet)
    fi
    bin=$root/target/release/ecsflow
fi
[[ -x $bin ]] || { echo "error: $bin is not executable" >&2; exit 2; }
# A private copy: another build replacing target/release/ecsflow mid-run would
# otherwise mix two binaries in one set of results.
cp "$bin" "$work/ecsflow"
bin=$work/ecsflow

# ------------------------------------------------------------------- the emulator
if [[ $nodelay == 1 ]]; then
    echo "== starting the emulator (time scale $scale, TCP_NODELAY)" >&2
    emulator=("$root/benches/run_bench.py" serve-emulator-nodelay)
else
    echo "== starting the emulator (time scale $scale)" >&2
    emulator=("$root/harness/ecs_emulator.py")
fi
# cd: moto's recorder file and any stray output stay in the scratch directory.
(cd "$work" && exec "$python" "${emulator[@]}" --port 0 --time-scale "$scale" --minute "$minute") \
    > "$work/emulator.out" 2> "$work/emulator.err" &
emu_pid=$!
url=
for _ in $(seq 1 1200); do
    if url=$(awk '/^ready /{print $2; exit}' "$work/emulator.out") && [[ -n $url ]]; then
        break
    fi
    if ! kill -0 "$emu_pid" 2> /dev/null; then
        echo "error: the emulator exited:" >&2
        cat "$work/emulator.err" >&2
        exit 2
    fi
    sleep 0.1
done
[[ -n $url ]] || { echo "error: the emulator printed no ready line in 120 s" >&2; exit 2; }
echo "== emulator at $url" >&2

# ------------------------------------------------------------------- the machine
echo "== $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) CPUs; $(uptime | sed 's/^ *//')" >&2
head=$(git -C "$root" rev-parse --short HEAD 2> /dev/null || echo unknown)
git -C "$root" diff --quiet HEAD -- src Cargo.toml Cargo.lock 2> /dev/null || head+=" + uncommitted changes"
if [[ -n ${ECSFLOW_BIN:-} || $build == 0 ]]; then
    head="a binary not built by this run (HEAD is $head)"
fi
echo "== $("$bin" --version 2> /dev/null || echo ecsflow); source: $head" >&2

status=0
"$python" "$root/benches/run_bench.py" --endpoint "$url" --bin "$bin" --runs "$runs" \
    --services "$services" --time-scale "$scale" --scenarios "$scenarios" "${extra[@]}" || status=$?
echo "== done; $(uptime | sed 's/^ *//')" >&2
exit $status
