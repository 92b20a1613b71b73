#!/usr/bin/env bash
# Holds deskd to its own OpenAPI document: schemathesis (from PyPI, in a
# virtual environment kept under target/) runs every check, stateful
# included, as the demo admin against a seeded deskd, with a fixed seed and
# a bounded number of examples per operation. Any failure fails the script.
#
#   tools/schemathesis.sh             # DESK_SCHEMATHESIS_EXAMPLES=20 by default
#
# Needs python3 (with venv) and network access to PyPI the first time.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
EXAMPLES="${DESK_SCHEMATHESIS_EXAMPLES:-20}"
VENV="$PWD/target/schemathesis-$VERSION"
DESKD=target/debug/deskd

if [ ! -x "$VENV/bin/schemathesis" ]; then
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$VERSION"
fi
cargo build --locked --quiet -p desk-server --bin deskd

DATA=$(mktemp -d)
LOG="$DATA/deskd.log"
cleanup() {
    if [ -n "${PID:-}" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT

"$DESKD" seed-demo --data "$DATA" --tickets 40 2>/dev/null
# Limits off: one address sends everything, and fast.
DESK_LIMITS__LOGIN_PER_MINUTE=0 DESK_LIMITS__API_PER_MINUTE=0 \
    DESK_LIMITS__EMBED_PER_MINUTE=0 DESK_LOG__LEVEL=warn,desk_server=info \
    "$DESKD" serve --bind 127.0.0.1:0 --data "$DATA" 2>"$LOG" &
PID=$!
URL=""
for _ in $(seq 100); do
    URL=$(grep -o 'listening on http://[0-9.:]*' "$LOG" | head -n1 | cut -d' ' -f3 || true)
    [ -n "$URL" ] && break
    kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
    sleep 0.1
done
[ -n "$URL" ] || { echo "deskd did not start" >&2; cat "$LOG" >&2; exit 1; }

TOKEN=$("$VENV/bin/python" - "$URL" <<'EOF'
import json, sys, urllib.request
request = urllib.request.Request(
    sys.argv[1] + "/api/v1/auth/login",
    data=json.dumps({"email": "carol@example.com", "password": "carol123"}).encode(),
    headers={"Content-Type": "application/json"},
)
print(json.load(urllib.request.urlopen(request))["access_token"])
EOF
)

# Signing out would end the session the run uses: those two operations are
# left to server/tests/auth.rs. Run from the scratch folder, where
# schemathesis keeps its cache of past failures, so each run starts afresh.
CONFIG="$PWD/tools/schemathesis.toml"
cd "$DATA"
"$VENV/bin/schemathesis" --config-file "$CONFIG" run "$URL/api/v1/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $TOKEN" \
    --seed 42 \
    --max-examples "$EXAMPLES" \
    --generation-database none \
    --workers 2 \
    --exclude-operation-id post_auth_logout_everywhere --exclude-operation-id post_auth_logout \
    --no-color
