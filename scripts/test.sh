#!/usr/bin/env bash
# The whole test suite, on a fresh machine: `bash scripts/test.sh` (what .ci/run runs).
#
# PostgreSQL tests never skip: this script uses $VIGIE_TEST_POSTGRES, else the server at 127.0.0.1:5432
# (starting the machine's cluster if it is down), else installs PostgreSQL from Debian and starts a throwaway
# cluster in a temporary directory (VIGIE_TEST_THROWAWAY_PG=1 forces that). If none of that works it fails with a
# clear message.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

say() { printf '==> %s\n' "$*" >&2; }

pg_up() { # URL
  python3 - "$1" <<'PY' 2>/dev/null
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
s = socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=2)
s.close()
PY
}

PG_TMP=""; PG_BIN=""; PG_RUN=()
stop_throwaway_cluster() {
  if [ -n "$PG_TMP" ]; then
    "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -m fast stop >/dev/null 2>&1 || true
    rm -rf "$PG_TMP"
  fi
}

start_throwaway_cluster() {
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    say "installing PostgreSQL from Debian"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
  fi
  local port=54329
  PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  PG_TMP=$(mktemp -d /tmp/vigie-pg.XXXXXX)
  if [ "$(id -u)" = 0 ]; then chown postgres "$PG_TMP"; PG_RUN=(runuser -u postgres --); fi
  trap stop_throwaway_cluster EXIT
  say "starting a throwaway PostgreSQL cluster in $PG_TMP on port $port"
  "${PG_RUN[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -A trust -U postgres >/dev/null
  "${PG_RUN[@]}" "$PG_BIN/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/log" -w \
    -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1" start >/dev/null
  "${PG_RUN[@]}" "$PG_BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres test
  export VIGIE_TEST_POSTGRES="postgres://postgres@127.0.0.1:$port/test"
}

if [ "${VIGIE_TEST_THROWAWAY_PG:-}" = 1 ]; then
  start_throwaway_cluster
fi
if [ -n "${VIGIE_TEST_POSTGRES:-}" ]; then
  pg_up "$VIGIE_TEST_POSTGRES" || { echo "error: VIGIE_TEST_POSTGRES is set but nothing answers there" >&2; exit 1; }
else
  export VIGIE_TEST_POSTGRES="postgres://postgres@127.0.0.1:5432/test"
  if ! pg_up "$VIGIE_TEST_POSTGRES"; then
    if [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null; then
      say "PostgreSQL is down: starting the machine's cluster"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start || true
      sleep 2
    fi
    pg_up "$VIGIE_TEST_POSTGRES" || start_throwaway_cluster
  fi
fi
pg_up "$VIGIE_TEST_POSTGRES" || { echo "error: no PostgreSQL could be reached or started for the tests" >&2; exit 1; }
# crates/vigie/tests/pg_restart.rs restarts a PostgreSQL server of its own under load: it needs the server's binaries.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  say "installing PostgreSQL's server binaries from Debian (for the PostgreSQL restart test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null \
    || { echo "error: could not install postgresql (its binaries are needed by the PostgreSQL restart test)" >&2; exit 1; }
fi
# crates/vigie/tests/pg_failover.rs runs a pg_auto_failover formation of that server's version.
if ! command -v pg_autoctl >/dev/null 2>&1; then
  major="$(basename "$(dirname "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)")")"
  say "installing pg_auto_failover from Debian (postgresql-${major}-auto-failover, for the PostgreSQL failover test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "postgresql-${major}-auto-failover" >/dev/null \
    || { echo "error: could not install postgresql-${major}-auto-failover (needed by the PostgreSQL failover test)" >&2; exit 1; }
fi
say "PostgreSQL for tests: ${VIGIE_TEST_POSTGRES}"

# Command checks are tested with real Nagios plugins (Debian monitoring-plugins-basic), TLS expiry against a real
# `openssl s_server`.
if [ ! -x /usr/lib/nagios/plugins/check_dummy ] || ! command -v openssl >/dev/null; then
  say "installing the Nagios plugins (monitoring-plugins-basic) and openssl from Debian"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq monitoring-plugins-basic openssl >/dev/null \
    || { echo "error: could not install monitoring-plugins-basic and openssl (needed by the monitoring tests)" >&2; exit 1; }
fi

# The Table API is tested with the real pysnow client, installed from PyPI into a virtual environment.
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
  say "installing python3-venv from Debian (for the pysnow test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-venv >/dev/null \
    || { echo "error: could not install python3-venv (needed by the pysnow test)" >&2; exit 1; }
fi

# The cluster test drives traffic through Debian's HAProxy, with the configuration Vigie ships (deploy/haproxy.cfg).
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  say "installing HAProxy from Debian (for the cluster test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq haproxy >/dev/null \
    || { echo "error: could not install haproxy (needed by the cluster test)" >&2; exit 1; }
fi

# Notifications are tested against a real SMTP server: Debian's python3-aiosmtpd, run by Debian's interpreter.
if ! /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
  say "installing python3-aiosmtpd from Debian (for the notifications' test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-aiosmtpd >/dev/null \
    || { echo "error: could not install python3-aiosmtpd (needed by the notifications' test)" >&2; exit 1; }
fi

# Reports' PDFs are read back by poppler's pdftotext (Debian poppler-utils).
if ! command -v pdftotext >/dev/null 2>&1; then
  say "installing poppler-utils from Debian (pdftotext, for the reports' tests)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq poppler-utils >/dev/null \
    || { echo "error: could not install poppler-utils (pdftotext is needed by the reports' tests)" >&2; exit 1; }
fi

# The web UI is tested end to end in a real headless Chromium (Debian's), driven by playwright-core from npm.
if [ ! -x /usr/bin/chromium ]; then
  say "installing Chromium from Debian (for the web UI's end-to-end test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null \
    || { echo "error: could not install chromium (needed by the web UI's end-to-end test)" >&2; exit 1; }
fi
if [ ! -d e2e/node_modules/playwright-core ] || [ ! -d e2e/node_modules/axe-core ]; then
  say "installing playwright-core and axe-core from npm (e2e/package-lock.json)"
  npm ci --prefix e2e --no-audit --no-fund >/dev/null \
    || { echo "error: could not install playwright-core and axe-core from npm (needed by the web UI's end-to-end test)" >&2; exit 1; }
fi
# The web UI's modules are type-checked (JSDoc, tsc --noEmit over web/tsconfig.json) with TypeScript and Leaflet's
# types from npm (web/package-lock.json); the build installs the packages it embeds by itself (crates/vigie-server/build.rs).
if [ ! -x web/node_modules/.bin/tsc ]; then
  say "installing TypeScript and the map's types from npm (web/package-lock.json)"
  npm ci --prefix web --no-audit --no-fund >/dev/null \
    || { echo "error: could not install the web UI's packages from npm (web/package.json)" >&2; exit 1; }
fi

# What Vigie serves is checked by the ecosystem's validators (crates/vigie/tests/validators.rs): /metrics by
# promtool (Debian's prometheus package), the OpenAPI document by openapi-spec-validator from PyPI, installed into a
# virtual environment under target/ that the test finds through $VIGIE_TEST_VENV.
if ! command -v promtool >/dev/null; then
  say "installing promtool (prometheus) from Debian (for the /metrics validator test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null \
    || { echo "error: could not install prometheus (promtool is needed by the /metrics validator test)" >&2; exit 1; }
fi
# The real Alertmanager posts to Vigie in crates/vigie/tests/alertmanager.rs (Debian's prometheus-alertmanager).
if [ ! -x /usr/bin/prometheus-alertmanager ]; then
  say "installing prometheus-alertmanager from Debian (for the Alertmanager end-to-end test)"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus-alertmanager >/dev/null \
    || { echo "error: could not install prometheus-alertmanager (needed by the Alertmanager end-to-end test)" >&2; exit 1; }
fi
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0
export VIGIE_TEST_VENV="$PWD/target/test-venv"
if ! "$VIGIE_TEST_VENV/bin/python" -c "import importlib.metadata as m, sys
sys.exit(m.version('openapi-spec-validator') != '$OPENAPI_SPEC_VALIDATOR_VERSION')" >/dev/null 2>&1; then
  say "installing openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION from PyPI into $VIGIE_TEST_VENV"
  { python3 -m venv "$VIGIE_TEST_VENV" \
    && "$VIGIE_TEST_VENV/bin/pip" install --quiet --disable-pip-version-check \
         "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION"; } \
    || { echo "error: could not install openapi-spec-validator into $VIGIE_TEST_VENV (needed by the OpenAPI validator test)" >&2; exit 1; }
fi

# The ecosystem's own checks come first: formatting, then clippy with every warning an error.
cargo fmt --version >/dev/null 2>&1 || { echo "error: cargo fmt is missing: rustup component add rustfmt" >&2; exit 1; }
cargo clippy --version >/dev/null 2>&1 || { echo "error: cargo clippy is missing: rustup component add clippy" >&2; exit 1; }
say "cargo fmt --all -- --check"
cargo fmt --all -- --check \
  || { echo "error: the code is not formatted as rustfmt formats it: run cargo fmt --all" >&2; exit 1; }
say "tsc --noEmit -p web, and -p web/tsconfig.core.json (strict) (the web UI's modules, type-checked)"
{ web/node_modules/.bin/tsc -p web && web/node_modules/.bin/tsc -p web/tsconfig.core.json; } \
  || { echo "error: the web UI's modules do not type-check (above): fix them" >&2; exit 1; }
say "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings \
  || { echo "error: clippy found warnings (above); fix them, every warning is an error" >&2; exit 1; }

say "cargo test (all crates; the validators in crates/vigie/tests/validators.rs, the bounded fuzzing pass in crates/vigie-fuzz/tests/fuzz.rs)"
cargo test --workspace --locked
