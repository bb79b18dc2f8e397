#!/usr/bin/env bash
# Runs every Lifebuoy test on this machine: unit tests, the API on SQLite and PostgreSQL, and the browser story
# in headless Chromium. Installs what is missing (Debian packages) and, where no PostgreSQL answers, starts a
# throw-away one in a temporary directory. Usage: scripts/test.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
need_pkg() { # need_pkg COMMAND PACKAGE...
  command -v "$1" >/dev/null 2>&1 && return 0
  shift
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

need_pkg chromium chromium
need_pkg chromedriver chromium-driver
need_pkg python3 python3
# A real SMTP peer for the mail tests.
python3 -m pip --version >/dev/null 2>&1 || need_pkg __no_such_cmd__ python3-pip
python3 -c 'import aiosmtpd' 2>/dev/null || { log "installing aiosmtpd"; python3 -m pip install -q aiosmtpd 2>/dev/null || python3 -m pip install -q --break-system-packages aiosmtpd; }
# A real IMAP server (Dovecot, started by the tests on a free port with a temporary config) and openssl for the
# tests' throw-away certificates.
need_pkg dovecot dovecot-imapd
need_pkg openssl openssl
fc-list 2>/dev/null | grep -qi 'noto sans cjk' || need_pkg __no_such_cmd__ fonts-noto-cjk
# pdftotext reads back the records PDF (crates/records/tests/render.rs).
need_pkg pdftotext poppler-utils

# PostgreSQL: the machine's own (or LIFEBUOY_TEST_PG), else a private one started here.
PG_TMP=""
cleanup() {
  if [ -n "${NATS_PID:-}" ]; then kill "$NATS_PID" 2>/dev/null || true; fi
  if [ -n "$PG_TMP" ]; then
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}
trap cleanup EXIT
pg_ok() { python3 - "$1" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.socket(); s.settimeout(2)
try:
    s.connect((u.hostname or "127.0.0.1", u.port or 5432)); sys.exit(0)
except OSError:
    sys.exit(1)
PY
}
export LIFEBUOY_TEST_PG=${LIFEBUOY_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}
if ! pg_ok "$LIFEBUOY_TEST_PG"; then
  log "no PostgreSQL at $LIFEBUOY_TEST_PG: starting a private one"
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_pkg __no_such_cmd__ postgresql
  PG_BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
  PG_TMP=$(mktemp -d); chown postgres "$PG_TMP"
  port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_TMP/data" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" start >/dev/null
  export LIFEBUOY_TEST_PG=postgres://postgres@127.0.0.1:$port/postgres
fi
log "PostgreSQL for tests: $LIFEBUOY_TEST_PG"

# NATS for the two-node chat test: the machine's own (or LIFEBUOY_TEST_NATS), else a private one started here.
NATS_PID=""
export LIFEBUOY_TEST_NATS=${LIFEBUOY_TEST_NATS:-nats://127.0.0.1:4222}
if ! pg_ok "${LIFEBUOY_TEST_NATS/nats:/http:}"; then
  need_pkg nats-server nats-server
  nats_port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
  log "no NATS at $LIFEBUOY_TEST_NATS: starting a private one on port $nats_port"
  nats-server -a 127.0.0.1 -p "$nats_port" >/dev/null 2>&1 &
  NATS_PID=$!
  export LIFEBUOY_TEST_NATS=nats://127.0.0.1:$nats_port
  for _ in $(seq 50); do pg_ok "http://127.0.0.1:$nats_port" && break; sleep 0.1; done
fi
log "NATS for tests: $LIFEBUOY_TEST_NATS"

log "licences of every dependency (cargo deny)"
command -v cargo-deny >/dev/null 2>&1 || cargo install --locked cargo-deny
cargo deny --offline check licenses bans || cargo deny check licenses bans

log "security advisories of every dependency (cargo deny)"
# RustSec's advisory database is a git repository on GitHub: fetch it when GitHub answers (bounded, so an
# unreachable GitHub cannot hang the run), then check offline against the local copy (the crates themselves are
# in cargo's cache after the licence check). Advisories found fail the run. Without a copy of the database,
# say plainly that advisories were NOT checked instead of failing: licences and bans need only crates.io.
timeout 120 cargo deny fetch db >/dev/null 2>&1 || echo "could not fetch the RustSec advisory database (github.com unreachable?)"
adv_log=$(mktemp)
if cargo deny --offline check advisories >"$adv_log" 2>&1; then
  cat "$adv_log"
  echo "advisories: checked, nothing found"
elif grep -qE '^(error|warning)\[[a-z-]+\]' "$adv_log"; then
  cat "$adv_log"
  rm -f "$adv_log"
  echo "advisories: found (above)"
  exit 1
else
  sed -n '1,5p' "$adv_log"
  echo "!! WARNING: security advisories were NOT checked: no copy of the RustSec advisory database could be had."
  echo "!!          Run 'cargo deny fetch db' where github.com is reachable, then run this script again."
fi
rm -f "$adv_log"

log "formatting (cargo fmt --check) and lints (cargo clippy -D warnings)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

log "cargo test (workspace)"
# --no-fail-fast: a failing test binary does not keep the others from running. The closing line counts every
# binary's result, on failure too; a binary that died without a result line (a crash, a build error) counts as
# one failure, named from cargo's own list of failed targets.
out=$(mktemp)
set +e
cargo test --workspace --locked --no-fail-fast "$@" 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
set -e
python3 - "$out" "$status" <<'PY'
import re, sys
text = open(sys.argv[1], errors="replace").read()
status = int(sys.argv[2])
passed = failed = ignored = filtered = 0
results = failed_results = 0
for m in re.finditer(r"test result: (\w+)\. (\d+) passed; (\d+) failed; (\d+) ignored; \d+ measured; (\d+) filtered out", text):
    results += 1
    failed_results += m.group(1) != "ok"
    passed += int(m.group(2)); failed += int(m.group(3)); ignored += int(m.group(4)); filtered += int(m.group(5))
# cargo names the targets that failed: "error: N targets failed:" then one "`-p crate --test x`" a line, or
# "error: test failed, to rerun pass `-p crate --test x`" for a single one.
targets = re.findall(r"^\s+`(-p [^`]+)`\s*$", text, re.M) + re.findall(r"to rerun pass `(-p [^`]+)`", text)
targets = list(dict.fromkeys(targets))
silent = max(0, len(targets) - failed_results)
if status != 0 and not targets and failed == 0:
    silent = 1  # cargo failed before any test ran (a build error)
failed += silent
line = f"\nall: {passed} passed, {failed} failed, {ignored} ignored"
if filtered:
    line += f", {filtered} filtered out"
print(line + f" ({results} test binaries)")
if targets:
    print("failed targets: " + "; ".join(targets))
if silent and not targets:
    print(f"cargo test exited {status} before any test result (a build error?): see above")
elif silent:
    print(f"{silent} of them ended without a test result (crashed or did not build): their tests are not in the counts")
PY
rm -f "$out"
exit "$status"
