#!/usr/bin/env bash
# Runs schemathesis against docs/openapi.yaml and the real backup-api on a free loopback port,
# for a bounded number of examples per operation (MAX_EXAMPLES). Fails on any 5xx, on a status
# code the document does not list, and on a response that breaks its schema.
# Needs the debug build (make build) and the venv (make .venv/bin/schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."
max_examples="${MAX_EXAMPLES:-10}"
bin="$(swift build --show-bin-path)"
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

scripts/seed-demo.sh "$work/app.sqlite" >/dev/null
token="schemathesis-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BACKUP_API_TOKEN="$token" "$bin/backup-api" --host 127.0.0.1 --port "$port" --data-dir "$work" \
  --restart-mode exit --log-level warning >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.1
done
# One real backup, so that listing, showing and downloading have something to return.
curl -fs -X POST -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/backups" >/dev/null

# /api/events never ends by design; restore would restart the server in the middle of the run;
# import takes a gzip body schemathesis cannot generate (ReliabilityTests send it real and damaged bundles).
set +e
.venv/bin/schemathesis run docs/openapi.yaml \
  --url "http://127.0.0.1:$port" \
  --header "Authorization: Bearer $token" \
  --max-examples "$max_examples" \
  --phases examples,coverage,fuzzing \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --exclude-path /api/events --exclude-path /api/backups/import --exclude-path-regex '/restore$' \
  --request-timeout 30 --seed "${BACKUP_TEST_SEED:-1}" --no-color 2>&1 | tee "$work/st.log"
status=${PIPESTATUS[0]}
set -e
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "schemathesis: backup-api died during the run"; cat "$work/server.log"; exit 1
fi
summary="$(grep -A1 -E '^Test cases:' "$work/st.log" | tail -1 | tr -s ' ' | sed 's/^ //')"
echo "reliability figure: schemathesis: $summary test cases (max-examples $max_examples per operation), exit status $status"
exit "$status"
