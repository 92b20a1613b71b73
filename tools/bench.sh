#!/usr/bin/env bash
# Runs Desk's benchmarks, installing what they need first (wrk and taskset,
# from Debian's packages). Each bench prints a Markdown table of figures
# beside baselines measured in the same run.
#
#   tools/bench.sh              # all four: http, sync, console, postgres
#   tools/bench.sh http         # only some: http, sync, console, postgres, soak
#   tools/bench.sh soak         # the five-minute soak (never part of "all")
#
# postgres needs a PostgreSQL whose user may create databases, at
# DESK_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test).
#
# DESK_BENCH_TICKETS (default 100000), DESK_BENCH_SECS (http: seconds per
# wrk run, default 5) and DESK_SOAK_SECS (default 300) make a run quicker.
set -euo pipefail
cd "$(dirname "$0")/.."

install() {
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq "$@"
}

benches=("$@")
[ ${#benches[@]} -gt 0 ] || benches=(http sync console postgres)

for bench in "${benches[@]}"; do
    case "$bench" in
        http)
            command -v wrk >/dev/null || install wrk
            command -v taskset >/dev/null || install util-linux
            cargo bench --locked -p desk-server --bench http
            ;;
        sync) cargo bench --locked -p desk-server --bench sync ;;
        console) cargo bench --locked -p desk-tui --bench console ;;
        postgres) cargo bench --locked -p desk-server --bench postgres ;;
        soak) cargo bench --locked -p desk-server --bench soak ;;
        *)
            echo "error: unknown bench '$bench' (http, sync, console, postgres, soak)" >&2
            exit 1
            ;;
    esac
done
