#!/usr/bin/env bash
# Instructions per embed read, counted by callgrind: a figure the machine's
# noise does not move (time-based figures on a shared host move by ±20%), for
# comparing two versions of the server's request path.
#
#   tools/instructions.sh                  # this checkout's deskd
#   tools/instructions.sh OLD NEW …        # other builds, one after another;
#                                          # the first seeds: give the oldest first
#
# Seeds 20k tickets, reads 1,000 embed tokens through the API as the admin,
# then runs deskd under callgrind: a warm-up, counters zeroed, 6 s of wrk
# (16 connections over the 1,000 tokens), counters dumped. Prints the
# user-space instructions per request of all of deskd's threads. Under
# callgrind SHA-256 runs without SHA-NI, so token digests weigh more than on
# the real CPU.
set -euo pipefail
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

# The tokens, from the API: an admin sees every ticket's embed URL.
"${binaries[0]}" serve --bind 127.0.0.1:7798 --data "$work/seed" >/dev/null 2>&1 &
server=$!
wait_up
token=$(curl -sf "$url/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"email":"carol@example.com","password":"carol123"}' |
    grep -o '"access_token":"[^"]*"' | cut -d'"' -f4)
for page in 1 2 3 4 5; do
    curl -sf "$url/api/v1/tickets?per_page=200&page=$page" -H "authorization: Bearer $token"
done | grep -o '"embed_url":"[^"]*"' | sed 's|.*/api/v1/|/api/v1/|; s|"$||' >"$work/paths"
stop
{
    echo 'local paths = {}'
    sed 's|.*|table.insert(paths, "&")|' "$work/paths"
    echo 'local i = 0'
    echo 'request = function() i = i % #paths + 1; return wrk.format("GET", paths[i]) end'
} >"$work/embeds.lua"

for deskd in "${binaries[@]}"; do
    rm -rf "$work/data" && cp -a "$work/seed" "$work/data"
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
        "$deskd" serve --bind 127.0.0.1:7798 --data "$work/data" >/dev/null 2>&1 &
    server=$!
    wait_up
    wrk -t1 -c16 -d3s -s "$work/embeds.lua" "$url" >/dev/null
    callgrind_control -z "$server" >/dev/null 2>&1
    wrk -t1 -c16 -d6s -s "$work/embeds.lua" "$url" >"$work/wrk.out"
    callgrind_control -d "$server" >/dev/null 2>&1
    if grep -q "Non-2xx" "$work/wrk.out"; then
        echo "$deskd: some embed reads failed:" >&2
        cat "$work/wrk.out" >&2
        exit 1
    fi
    requests=$(awk '/requests in/{print $1}' "$work/wrk.out")
    sleep 1
    instructions=$(awk '/^totals:/{print $2}' "$work/cg.out.1")
    echo "$deskd: $requests embed reads, $((instructions / requests)) instructions each"
    stop
    rm -f "$work"/cg.out*
done
