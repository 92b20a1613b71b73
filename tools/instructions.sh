#!/usr/bin/env bash
# Instructions per request, counted by callgrind: a figure the machine's
# noise does not move (time-based figures on a shared host move by ±20%), for
# comparing two versions of the server's request path.
#
#   tools/instructions.sh                  # embed reads, this checkout's deskd
#   tools/instructions.sh OLD NEW …        # other builds, one after another;
#                                          # the first seeds: give the oldest first
#   tools/instructions.sh create [OLD NEW …]   # durable creates instead
#                                          # (`embed`, the default, may be named too)
#
# Seeds 20k tickets, then runs deskd under callgrind: a warm-up, counters
# zeroed, 6 s of wrk, counters dumped. Embed reads: 16 connections over 1,000
# tokens (read through the API as the admin). Creates: 64 connections, each
# `POST /api/v1/tickets` as a customer. Prints the user-space instructions
# per request of all of deskd's threads. Under callgrind SHA-256 runs
# without SHA-NI, so token digests weigh more than on the real CPU.
set -euo pipefail
workload=embed
case "${1:-}" in embed | create) workload=$1 && shift ;; esac
binaries=()
for deskd in "$@"; do binaries+=("$(realpath "$deskd")"); done
cd "$(dirname "$0")/.."

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
need() { command -v "$1" >/dev/null || { $sudo apt-get update -qq && $sudo apt-get install -y -qq "$2"; }; }
need wrk wrk
need callgrind_control valgrind

if [ ${#binaries[@]} -eq 0 ]; then
    cargo build --release --locked -p desk-server --bin deskd
    binaries=(target/release/deskd)
fi

work=$(mktemp -d)
server=""
stop() { [ -z "$server" ] || { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }; server=""; }
trap 'stop; rm -rf "$work"' EXIT
export RUST_LOG=warn DESK_LIMITS__EMBED_PER_MINUTE=0 DESK_LIMITS__API_PER_MINUTE=0
url=http://127.0.0.1:7798

"${binaries[0]}" seed-demo --tickets 20000 --data "$work/seed" >"$work/seed.log" 2>&1 ||
    { cat "$work/seed.log"; exit 1; }
wait_up() {
    for _ in $(seq 120); do curl -sf -o /dev/null "$url/health" && return; sleep 0.5; done
    echo "deskd did not answer on $url (is the port taken?)" >&2
    exit 1
}

sign_in() {
    curl -sf "$url/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"email\":\"$1\",\"password\":\"$2\"}" |
        grep -o '"access_token":"[^"]*"' | cut -d'"' -f4 | grep . ||
        { echo "cannot sign in as $1 on $url" >&2; exit 1; }
}

"${binaries[0]}" serve --bind 127.0.0.1:7798 --data "$work/seed" >/dev/null 2>&1 &
server=$!
wait_up
if [ "$workload" = embed ]; then
    # The tokens, from the API: an admin sees every ticket's embed URL.
    token=$(sign_in carol@example.com carol123)
    for page in 1 2 3 4 5; do
        curl -sf "$url/api/v1/tickets?per_page=200&page=$page" -H "authorization: Bearer $token"
    done | grep -o '"embed_url":"[^"]*"' | sed 's|.*/api/v1/|/api/v1/|; s|"$||' >"$work/paths"
    {
        echo 'local paths = {}'
        sed 's|.*|table.insert(paths, "&")|' "$work/paths"
        echo 'local i = 0'
        echo 'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
    } >"$work/load.lua"
    connections=16
else
    # Every build serves a copy of the seeded folder, signing secret
    # included, so this token is good for each; it lives for 15 minutes.
    token=$(sign_in alice@example.com alice123)
    cat >"$work/load.lua" <<LUA
wrk.method = "POST"
wrk.path = "/api/v1/tickets"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [[{"subject":"Printer on fire","priority":"high"}]]
LUA
    connections=64
fi
stop

for deskd in "${binaries[@]}"; do
    rm -rf "$work/data" && cp -a "$work/seed" "$work/data"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$deskd" serve --bind 127.0.0.1:7798 --data "$work/data" >/dev/null 2>&1 &
    server=$!
    wait_up
    wrk -t1 -c"$connections" -d3s -s "$work/load.lua" "$url" >/dev/null
    callgrind_control -z "$server" >/dev/null 2>&1
    wrk -t1 -c"$connections" -d6s -s "$work/load.lua" "$url" >"$work/wrk.out"
    callgrind_control -d "$server" >/dev/null 2>&1
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "$deskd: some requests failed:" >&2
        cat "$work/wrk.out" >&2
        exit 1
    fi
    requests=$(awk '/requests in/{print $1}' "$work/wrk.out")
    sleep 1
    instructions=$(awk '/^totals:/{print $2}' "$work/cg.out.1")
    echo "$deskd: $requests requests ($workload), $((instructions / requests)) instructions each"
    stop
    rm -f "$work"/cg.out*
done
