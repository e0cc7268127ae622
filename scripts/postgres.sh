#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on 127.0.0.1 only.
#
#   bash scripts/postgres.sh start    install PostgreSQL if missing, create and start a fresh
#                                     cluster, print its URL (if already running: just the URL)
#   bash scripts/postgres.sh url      print the URL of the running server
#   bash scripts/postgres.sh status   say whether it is running
#   bash scripts/postgres.sh stop     stop the server and delete the cluster
#
# The URL (postgresql+psycopg://assistgate@127.0.0.1:PORT/assistgate_test) is the only thing
# written to stdout, so `url=$(bash scripts/postgres.sh start)` works; progress goes to stderr.
# The role `assistgate` may log in and create databases (tests make one per test); it is not a
# superuser. Authentication is `trust`: the server listens on loopback only and holds test data.
#
# State (cluster path, port, URL) lives in var/pg/ (git-ignored), or in ASSISTGATE_PG_STATE_DIR
# when set: scripts/test.sh gives every run its own state dir, so runs in parallel, and a server
# started by hand, never stop each other's server.
#
# Where the cluster lives: in a `mktemp -d` directory under /tmp (ASSISTGATE_PG_TMPDIR to
# change), not inside the repository. As root, initdb and the server must run as the `postgres`
# user, who may not be able to reach the repository (a clone under /root, say, is mode 700);
# /tmp is always reachable. It also keeps the Unix socket path short (the kernel caps it at 107
# bytes, and a deep checkout path would exceed it). var/pg/cluster records the directory.
#
# Settings: ASSISTGATE_PG_PORT (first port tried, default 54329; the next free one is taken if it
# is busy), PG_BINDIR (PostgreSQL's bin directory; default: newest /usr/lib/postgresql/*/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

prog="postgres.sh"
db_name="assistgate_test"
db_user="assistgate"
first_port="${ASSISTGATE_PG_PORT:-54329}"
tmp_base="${ASSISTGATE_PG_TMPDIR:-/tmp}"
state_dir="${ASSISTGATE_PG_STATE_DIR:-$repo/var/pg}"
case "$state_dir" in /*) ;; *) state_dir="$repo/$state_dir" ;; esac

say() { echo "$prog: $*" >&2; }
die() {
    echo "$prog: error: $*" >&2
    exit 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }

find_bindir() {
    if [ -n "${PG_BINDIR:-}" ]; then
        echo "$PG_BINDIR"
        return
    fi
    local dir
    dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
        echo "$dir"
    fi
}

install_postgresql() {
    if ! is_root; then
        die "PostgreSQL is not installed, and installing it needs root. Run this script as root, or" \
            "install it first: sudo apt-get install --no-install-recommends postgresql"
    fi
    command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get to install it with"
    say "PostgreSQL is not installed: installing Debian's package (apt-get update; apt-get install postgresql)"
    # Debian's postinst would create and start a default cluster 'main' on port 5432; we use our
    # own throwaway cluster, so tell it not to (a drop-in, removed again after the install).
    local dropin=/etc/postgresql-common/createcluster.d/assistgate-no-main-cluster.conf
    mkdir -p "$(dirname "$dropin")"
    echo "create_main_cluster = false" >"$dropin"
    local ok=1
    export DEBIAN_FRONTEND=noninteractive
    # Wait for the dpkg lock rather than fail if another apt is running (parallel test runs).
    apt-get -o DPkg::Lock::Timeout=600 update -q >&2 || ok=0
    if [ "$ok" = 1 ]; then
        apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends postgresql >&2 || ok=0
    fi
    rm -f "$dropin"
    [ "$ok" = 1 ] || die "installing PostgreSQL with apt-get failed (see above)"
}

# Run a PostgreSQL server program as the cluster's owner: initdb and pg_ctl refuse to run as
# root, so as root they run as `postgres`, from / (the current directory may be unreachable).
as_owner() {
    if is_root; then
        (cd / && runuser -u postgres -- "$@")
    else
        "$@"
    fi
}

cluster_dir() {
    [ -f "$state_dir/cluster" ] && cat "$state_dir/cluster"
    return 0
}

# The postmaster's PID, if the cluster recorded in the state dir has a live server. Checked in
# /proc (the process must be a postgres for *this* data directory), not with `pg_ctl status`,
# which also believes a PID that a killed server's zombie, or an unrelated process, now holds.
server_pid() {
    local cluster pid
    cluster=$(cluster_dir)
    [ -n "$cluster" ] && [ -f "$cluster/data/postmaster.pid" ] || return 1
    pid=$(head -n 1 "$cluster/data/postmaster.pid" 2>/dev/null) || return 1
    case "$pid" in '' | *[!0-9]*) return 1 ;; esac
    [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "-D $cluster/data" || return 1
    echo "$pid"
}

# True if that server is up and answers on its port.
running() {
    local bindir port
    server_pid >/dev/null || return 1
    [ -f "$state_dir/port" ] || return 1
    port=$(cat "$state_dir/port")
    bindir=$(find_bindir)
    [ -n "$bindir" ] || return 1
    "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -t 10
}

port_in_use() {
    # A connection that succeeds means something already listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

next_free_port() {
    local port=$1 last=$(($1 + 200))
    while [ "$port" -le "$last" ]; do
        if ! port_in_use "$port"; then
            echo "$port"
            return
        fi
        port=$((port + 1))
    done
    die "no free port on 127.0.0.1 between $1 and $last"
}

remove_cluster() {
    local cluster=$1
    # Only ever delete a directory this script made.
    case "$(basename "$cluster")" in
        assistgate-pg.*) rm -rf -- "$cluster" ;;
        *) say "not deleting $cluster: not a directory this script created" ;;
    esac
}

cmd_stop() {
    local cluster bindir
    cluster=$(cluster_dir)
    if [ -z "$cluster" ]; then
        say "no test cluster recorded in $state_dir: nothing to stop"
        return 0
    fi
    bindir=$(find_bindir)
    if [ -n "$bindir" ] && server_pid >/dev/null; then
        if ! as_owner "$bindir/pg_ctl" -D "$cluster/data" -m fast -w -t 60 stop >&2; then
            say "fast shutdown failed; trying immediate shutdown"
            as_owner "$bindir/pg_ctl" -D "$cluster/data" -m immediate -w -t 30 stop >&2 || true
            if server_pid >/dev/null; then
                die "could not stop the server of $cluster (PID $(server_pid); log: $cluster/postgres.log)"
            fi
        fi
    fi
    remove_cluster "$cluster"
    rm -f "$state_dir/cluster" "$state_dir/port" "$state_dir/url"
    rmdir "$state_dir" 2>/dev/null || true
    say "stopped and removed $cluster"
}

cmd_url() {
    if ! { [ -f "$state_dir/url" ] && running; }; then
        die "no test PostgreSQL server is running for $state_dir; start one with: bash scripts/postgres.sh start"
    fi
    cat "$state_dir/url"
}

cmd_start() {
    if [ -f "$state_dir/url" ] && running; then
        cat "$state_dir/url"
        return 0
    fi
    if [ -n "$(cluster_dir)" ]; then
        say "found a stale test cluster (server not running): removing it"
        cmd_stop
    fi

    local bindir
    bindir=$(find_bindir)
    if [ -z "$bindir" ]; then
        install_postgresql
        bindir=$(find_bindir)
        [ -n "$bindir" ] || die "PostgreSQL was installed but no /usr/lib/postgresql/*/bin/initdb was found"
    fi
    for tool in initdb pg_ctl psql pg_isready; do
        [ -x "$bindir/$tool" ] || die "$bindir/$tool is missing (set PG_BINDIR to PostgreSQL's bin directory)"
    done
    if is_root; then
        command -v runuser >/dev/null || die "runuser (util-linux) is needed to run PostgreSQL as the postgres user"
        id -u postgres >/dev/null 2>&1 ||
            die "running as root, but there is no 'postgres' user to run the server as" \
                "(Debian's postgresql package creates it; or run this script as an ordinary user)"
    fi

    mkdir -p "$state_dir"
    local cluster
    cluster=$(mktemp -d "$tmp_base/assistgate-pg.XXXXXX") || die "cannot create a directory under $tmp_base"
    echo "$cluster" >"$state_dir/cluster" # recorded first, so that `stop` cleans up a failed start
    if is_root; then
        chown postgres:postgres "$cluster"
        # The postgres user must be able to reach the directory: not so if ASSISTGATE_PG_TMPDIR
        # points inside a directory closed to others.
        runuser -u postgres -- test -w "$cluster" ||
            die "the postgres user cannot write to $cluster: pick another ASSISTGATE_PG_TMPDIR"
    fi
    chmod 700 "$cluster"

    say "creating a test cluster in $cluster ($("$bindir/pg_ctl" --version))"
    if ! as_owner "$bindir/initdb" -D "$cluster/data" -U postgres -A trust -E UTF8 --locale=C \
        >"$cluster/initdb.log" 2>&1; then
        cat "$cluster/initdb.log" >&2
        die "initdb failed (output above)"
    fi
    cat >>"$cluster/data/postgresql.conf" <<EOF

# --- assistgate test cluster (scripts/postgres.sh) ---
listen_addresses = '127.0.0.1'
unix_socket_directories = '$cluster'
# Durability stays as in production: tests check what survives a crash.
fsync = on
synchronous_commit = on
full_page_writes = on
# Test databases are created and dropped by the hundred: an autovacuum worker connected to one
# would make DROP DATABASE ... WITH (FORCE) fail for a role that is not a superuser.
autovacuum = off
include = 'assistgate_port.conf'
EOF

    # Take the first free port from $first_port on; if another process grabs it between the check
    # and the server's bind, try the next one.
    local port=$first_port attempt started=0
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$(next_free_port "$port")
        echo "port = $port" >"$cluster/data/assistgate_port.conf"
        chmod 644 "$cluster/data/assistgate_port.conf"
        is_root && chown postgres:postgres "$cluster/data/assistgate_port.conf"
        : >"$cluster/postgres.log"
        is_root && chown postgres:postgres "$cluster/postgres.log"
        if as_owner "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/postgres.log" -w -t 60 start >&2; then
            started=1
            break
        fi
        if grep -qE 'could not bind|Address already in use|could not create any TCP/IP sockets' \
            "$cluster/postgres.log"; then
            say "port $port was taken while starting (attempt $attempt); trying the next one"
            port=$((port + 1))
            continue
        fi
        tail -n 30 "$cluster/postgres.log" >&2 || true
        die "the server did not start (log above, in $cluster/postgres.log); clean up with: bash scripts/postgres.sh stop"
    done
    [ "$started" = 1 ] || die "the server did not start after 10 ports; clean up with: bash scripts/postgres.sh stop"

    if ! PGCONNECT_TIMEOUT=10 "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" \
        -U postgres -d postgres \
        -c "CREATE ROLE $db_user LOGIN CREATEDB" \
        -c "CREATE DATABASE $db_name OWNER $db_user" >&2; then
        die "could not create the role and database; clean up with: bash scripts/postgres.sh stop"
    fi

    local url="postgresql+psycopg://$db_user@127.0.0.1:$port/$db_name"
    echo "$port" >"$state_dir/port"
    echo "$url" >"$state_dir/url"
    say "PostgreSQL is running on 127.0.0.1:$port (cluster $cluster)"
    echo "$url"
}

cmd_status() {
    if running; then
        echo "running: $(cat "$state_dir/url" 2>/dev/null) (cluster $(cluster_dir))"
    else
        echo "not running"
        return 3
    fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    url) cmd_url ;;
    status) cmd_status ;;
    *)
        echo "usage: bash scripts/postgres.sh start|stop|url|status" >&2
        exit 2
        ;;
esac
