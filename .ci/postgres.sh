# shellcheck shell=bash
# Sourced by .ci/run: exports BOT_TEST_POSTGRES_DSN for the PostgreSQL store tests.
#
#   - BOT_TEST_POSTGRES_DSN already set: used as it is.
#   - A PostgreSQL answers at BOT_CI_PG_HOST:BOT_CI_PG_PORT (127.0.0.1:5432): connect with
#     trust auth as postgres, root or the current user; create database BOT_CI_PG_DB (test)
#     if it is missing.
#   - None answers: install PostgreSQL with apt-get if initdb is missing (root only), start a
#     throwaway server (initdb into a temporary directory, trust auth, listening only on
#     BOT_CI_PG_HOST:BOT_CI_PG_PORT, run as the postgres user when we are root), create the
#     database, and stop and delete the server when .ci/run exits.
#
# The overrides exist so the "none answers" path can be tried next to a running server, e.g.
#   BOT_CI_PG_PORT=55432 bash -c 'source .ci/postgres.sh && psql "$BOT_TEST_POSTGRES_DSN" -c "select 1"'

bot_ci_pg_host=${BOT_CI_PG_HOST:-127.0.0.1}
bot_ci_pg_port=${BOT_CI_PG_PORT:-5432}
bot_ci_pg_db=${BOT_CI_PG_DB:-test}

bot_ci_pg_log() { echo "postgres.sh: $*" >&2; }

# bot_ci_pg_answers: something accepts TCP connections at host:port.
bot_ci_pg_answers() {
  (exec 3<>"/dev/tcp/$bot_ci_pg_host/$bot_ci_pg_port") 2>/dev/null
}

# bot_ci_pg_psql USER DB ARGS...: psql without a password prompt, quiet, unaligned.
bot_ci_pg_psql() {
  local user=$1 db=$2
  shift 2
  PGCONNECT_TIMEOUT=5 psql -X -q -A -t -w \
    "host=$bot_ci_pg_host port=$bot_ci_pg_port user=$user dbname=$db" "$@"
}

# bot_ci_pg_use: find a user trust auth lets in, create the database if missing, export the DSN.
bot_ci_pg_use() {
  local user found=
  for user in postgres root "$(id -un)"; do
    if bot_ci_pg_psql "$user" postgres -c 'select 1' >/dev/null 2>&1; then
      found=$user
      break
    fi
  done
  if [ -z "$found" ]; then
    bot_ci_pg_log "PostgreSQL at $bot_ci_pg_host:$bot_ci_pg_port does not let postgres, root or $(id -un) in without a password; set BOT_TEST_POSTGRES_DSN"
    return 1
  fi
  if [ "$(bot_ci_pg_psql "$found" postgres -c "select 1 from pg_database where datname = '$bot_ci_pg_db'")" != 1 ]; then
    bot_ci_pg_log "creating database $bot_ci_pg_db"
    bot_ci_pg_psql "$found" postgres -c "CREATE DATABASE \"$bot_ci_pg_db\"" || return 1
  fi
  export BOT_TEST_POSTGRES_DSN="postgres://$found@$bot_ci_pg_host:$bot_ci_pg_port/$bot_ci_pg_db?sslmode=disable"
  bot_ci_pg_log "BOT_TEST_POSTGRES_DSN=$BOT_TEST_POSTGRES_DSN"
}

# bot_ci_pg_bindir: the directory of initdb and pg_ctl, newest version first.
bot_ci_pg_bindir() {
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  return 1
}

bot_ci_pg_install() {
  if [ "$(id -u)" != 0 ]; then
    bot_ci_pg_log "no PostgreSQL at $bot_ci_pg_host:$bot_ci_pg_port and no initdb; installing one needs root. Set BOT_TEST_POSTGRES_DSN or install postgresql"
    return 1
  fi
  # Debian's package would create and start a "main" cluster with password auth on 5432;
  # the throwaway server below replaces it, so ask for none (only if nobody configured this).
  if [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    mkdir -p /etc/postgresql-common
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  fi
  bot_ci_pg_log "installing postgresql with apt-get"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# bot_ci_pg_run CMD...: run as the postgres user when we are root (PostgreSQL refuses root).
bot_ci_pg_run() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

bot_ci_pg_start() {
  local bin
  if ! bin=$(bot_ci_pg_bindir); then
    bot_ci_pg_install || return 1
    bin=$(bot_ci_pg_bindir) || {
      bot_ci_pg_log "cannot find initdb after installing postgresql"
      return 1
    }
  fi
  bot_ci_pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/bot-ci-pg.XXXXXX")
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || { bot_ci_pg_log "there is no postgres user to run the server as"; return 1; }
    chown postgres: "$bot_ci_pg_dir"
  fi
  bot_ci_pg_log "starting a throwaway PostgreSQL ($bin) in $bot_ci_pg_dir on $bot_ci_pg_host:$bot_ci_pg_port"
  bot_ci_pg_run "$bin/initdb" -D "$bot_ci_pg_dir/data" -U postgres -A trust -E UTF8 --no-sync >"$bot_ci_pg_dir/initdb.log" 2>&1 || {
    cat "$bot_ci_pg_dir/initdb.log" >&2
    return 1
  }
  trap bot_ci_pg_stop EXIT
  bot_ci_pg_run "$bin/pg_ctl" -D "$bot_ci_pg_dir/data" -l "$bot_ci_pg_dir/server.log" -w -t 60 \
    -o "-c listen_addresses=$bot_ci_pg_host -p $bot_ci_pg_port -k $bot_ci_pg_dir" start >/dev/null || {
    cat "$bot_ci_pg_dir/server.log" >&2
    return 1
  }
  bot_ci_pg_bin=$bin
}

bot_ci_pg_stop() {
  if [ -n "${bot_ci_pg_dir:-}" ]; then
    if [ -n "${bot_ci_pg_bin:-}" ]; then
      bot_ci_pg_run "$bot_ci_pg_bin/pg_ctl" -D "$bot_ci_pg_dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$bot_ci_pg_dir"
    bot_ci_pg_log "stopped and removed the throwaway PostgreSQL"
  fi
}

if [ -n "${BOT_TEST_POSTGRES_DSN:-}" ]; then
  bot_ci_pg_log "using the BOT_TEST_POSTGRES_DSN already set"
else
  if ! bot_ci_pg_answers; then
    bot_ci_pg_start
  fi
  if ! command -v psql >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      bot_ci_pg_log "psql is missing and installing it needs root; set BOT_TEST_POSTGRES_DSN or install postgresql-client"
      return 1
    fi
    bot_ci_pg_log "installing postgresql-client with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  fi
  bot_ci_pg_use
fi
