#!/usr/bin/env bash
# The whole stack on one machine, on loopback, as plain processes (no systemd, no root needed):
# a PostgreSQL cluster, two `assistgate serve` processes in production mode, and nginx in
# front terminating TLS with a self-signed certificate made now (never committed), using the
# shipped TLS and proxy settings (deploy/nginx/assistgate-tls.conf, assistgate-proxy.conf).
#
#   bash deploy/stack.sh up       start everything; print the https URL on stdout
#   bash deploy/stack.sh status   say what runs (exit 3 if something is down)
#   bash deploy/stack.sh down     stop everything and delete the stack's folder
#
# The stack's folder is ASSISTGATE_STACK_DIR (default: $TMPDIR/assistgate-stack, outside the
# source tree, as production wants): settings (assistgate.env), data and keys, certificate,
# nginx configuration, logs, pids, and `url`, `http_url`, `backends`. Progress goes to stderr.
# `up` on a running stack prints its URL again. As root, nginx's workers run as nobody and
# PostgreSQL as postgres (scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
prog="stack.sh"
stack="${ASSISTGATE_STACK_DIR:-${TMPDIR:-/tmp}/assistgate-stack}"
case "$stack" in /*) ;; *) stack="$repo/$stack" ;; esac
exe="$repo/.venv/bin/assistgate"
marker="$stack/.assistgate-stack"

say() { echo "$prog: $*" >&2; }
die() {
    echo "$prog: error: $*" >&2
    exit 1
}

find_nginx() {
    command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Print the first free loopback port from $1 on, skipping the ones given after it.
free_port() {
    local port=$1
    shift
    while port_in_use "$port" || [[ " $* " == *" $port "* ]]; do
        port=$((port + 1))
        [ "$port" -lt 65000 ] || die "no free port on 127.0.0.1"
    done
    echo "$port"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# True if http://127.0.0.1:$1$2 answers 200 (plain bash: no interpreter started per try).
answers_200() {
    local status
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
    IFS= read -r -t 5 status <&3 || status=""
    exec 3<&- 3>&-
    [[ "$status" == "HTTP/1."?" 200 "* ]]
}

wait_ready() {
    local port=$1 path=$2 log=$3 i
    for i in $(seq 1 300); do
        answers_200 "$port" "$path" 2>/dev/null && return 0
        sleep 0.1
    done
    tail -n 20 "$log" >&2 || true
    die "http://127.0.0.1:$port$path did not answer 200 within 30 s (log above: $log)"
}

cmd_up() {
    if [ -f "$stack/url" ] && cmd_status >/dev/null 2>&1; then
        cat "$stack/url"
        return 0
    fi
    [ -x "$exe" ] || die "no $exe: run 'bash scripts/setup.sh' first"
    local nginx
    nginx=$(find_nginx)
    [ -n "$nginx" ] || die "nginx is not installed (Debian: apt-get install nginx-light)"
    command -v openssl >/dev/null || die "openssl is not installed"
    if [ -e "$stack" ] && [ ! -f "$marker" ]; then
        die "$stack exists and is not a stack's folder; set ASSISTGATE_STACK_DIR to another"
    fi
    [ -e "$stack" ] && cmd_down
    mkdir -p "$stack"/{data,tls,nginx/tmp,logs}
    touch "$marker"
    chmod 700 "$stack" "$stack/data" "$stack/tls"

    say "PostgreSQL"
    local db_url
    db_url=$(ASSISTGATE_PG_STATE_DIR="$stack/pg" bash scripts/postgres.sh start)

    # Production mode: the stack passes the same start-up checks a real installation does.
    umask 077
    cat >"$stack/assistgate.env" <<EOF
ASSISTGATE_ENVIRONMENT=production
ASSISTGATE_DATA_DIR=$stack/data
ASSISTGATE_DATABASE_URL=$db_url
ASSISTGATE_LOG_LEVEL=info
EOF
    umask 022
    set -a
    # shellcheck source=/dev/null
    . "$stack/assistgate.env"
    set +a
    "$exe" keys init >/dev/null
    "$exe" db upgrade >&2

    local p1 p2 https http
    p1=$(free_port 18001)
    p2=$(free_port $((p1 + 1)))
    https=$(free_port 18443 "$p1" "$p2")
    http=$(free_port 18080 "$p1" "$p2" "$https")
    echo "127.0.0.1:$p1 127.0.0.1:$p2" >"$stack/backends"
    local n port
    n=0
    for port in "$p1" "$p2"; do
        n=$((n + 1))
        say "assistgate serve #$n on 127.0.0.1:$port"
        nohup "$exe" serve --host 127.0.0.1 --port "$port" >>"$stack/logs/serve-$n.log" 2>&1 &
        echo $! >"$stack/serve-$n.pid"
    done
    wait_ready "$p1" /readyz "$stack/logs/serve-1.log"
    wait_ready "$p2" /readyz "$stack/logs/serve-2.log"

    say "self-signed certificate for localhost and 127.0.0.1"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$stack/tls/key.pem" -out "$stack/tls/cert.pem" 2>/dev/null ||
        die "openssl could not make the certificate"
    chmod 600 "$stack/tls/key.pem"
    chmod 644 "$stack/tls/cert.pem"

    local user_line=""
    if [ "$(id -u)" -eq 0 ]; then
        user_line="user nobody nogroup;"
        chown -R nobody:nogroup "$stack/nginx/tmp"
    fi
    cat >"$stack/nginx/nginx.conf" <<EOF
# Made by deploy/stack.sh for a loopback stack; the site's shipped form is
# deploy/nginx/assistgate.conf. The TLS and proxy settings are the shipped snippets.
$user_line
worker_processes 1;
pid $stack/nginx/nginx.pid;
error_log $stack/logs/nginx-error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    client_body_temp_path $stack/nginx/tmp/body;
    proxy_temp_path $stack/nginx/tmp/proxy;
    fastcgi_temp_path $stack/nginx/tmp/fastcgi;
    uwsgi_temp_path $stack/nginx/tmp/uwsgi;
    scgi_temp_path $stack/nginx/tmp/scgi;
    log_format assistgate '\$time_iso8601 \$request_id "\$request_method \$uri" \$status '
                          '\$body_bytes_sent \$request_time \$upstream_addr';
    upstream assistgate {
        server 127.0.0.1:$p1 max_fails=3 fail_timeout=10s;
        server 127.0.0.1:$p2 max_fails=3 fail_timeout=10s;
        keepalive 8;
    }
    server {
        listen 127.0.0.1:$http;
        server_tokens off;
        access_log $stack/logs/nginx-access.log assistgate;
        location / { return 301 https://\$host:$https\$request_uri; }
    }
    server {
        listen 127.0.0.1:$https ssl http2;
        ssl_certificate $stack/tls/cert.pem;
        ssl_certificate_key $stack/tls/key.pem;
        ssl_stapling off;
        access_log $stack/logs/nginx-access.log assistgate;
        include $repo/deploy/nginx/assistgate-tls.conf;
        # The loopback stack only: which process answered, so its test can tell them apart.
        add_header X-Assistgate-Upstream \$upstream_addr always;
        include $repo/deploy/nginx/assistgate-proxy.conf;
    }
}
EOF
    "$nginx" -t -q -p "$stack/nginx" -c "$stack/nginx/nginx.conf" >&2 ||
        die "nginx refused the configuration in $stack/nginx/nginx.conf"
    "$nginx" -p "$stack/nginx" -c "$stack/nginx/nginx.conf" ||
        die "nginx did not start (see $stack/logs/nginx-error.log)"
    echo "https://127.0.0.1:$https/" >"$stack/url"
    echo "http://127.0.0.1:$http/" >"$stack/http_url"
    say "up: https://127.0.0.1:$https/ (certificate $stack/tls/cert.pem; settings $stack/assistgate.env)"
    say "add people with: set -a; . $stack/assistgate.env; set +a; $exe user add NAME --role admin --name 'Full name'"
    cat "$stack/url"
}

cmd_down() {
    if [ ! -e "$stack" ]; then
        say "no stack in $stack: nothing to stop"
        return 0
    fi
    [ -f "$marker" ] || die "$stack is not a stack's folder: not touching it"
    local nginx pidfile pid i
    nginx=$(find_nginx)
    if alive "$stack/nginx/nginx.pid" && [ -n "$nginx" ]; then
        "$nginx" -p "$stack/nginx" -c "$stack/nginx/nginx.conf" -s quit 2>/dev/null || true
    fi
    for pidfile in "$stack"/serve-*.pid "$stack/nginx/nginx.pid"; do
        [ -f "$pidfile" ] || continue
        pid=$(cat "$pidfile")
        kill -TERM "$pid" 2>/dev/null || true
        for i in $(seq 1 100); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            say "process $pid did not stop in 10 s; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    if [ -d "$stack/pg" ]; then
        ASSISTGATE_PG_STATE_DIR="$stack/pg" bash scripts/postgres.sh stop || true
    fi
    rm -rf -- "$stack"
    say "down: stopped and removed $stack"
}

cmd_status() {
    local down=0 n
    if [ ! -f "$marker" ]; then
        echo "no stack in $stack"
        return 3
    fi
    if ASSISTGATE_PG_STATE_DIR="$stack/pg" bash scripts/postgres.sh status >/dev/null 2>&1; then
        echo "postgresql: running"
    else
        echo "postgresql: down"
        down=1
    fi
    for n in 1 2; do
        if alive "$stack/serve-$n.pid"; then
            echo "serve #$n: running (pid $(cat "$stack/serve-$n.pid"))"
        else
            echo "serve #$n: down"
            down=1
        fi
    done
    if alive "$stack/nginx/nginx.pid"; then
        echo "nginx: running at $(cat "$stack/url" 2>/dev/null)"
    else
        echo "nginx: down"
        down=1
    fi
    [ "$down" -eq 0 ] || return 3
}

case "${1:-}" in
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    *)
        echo "usage: bash deploy/stack.sh up|down|status" >&2
        exit 2
        ;;
esac
