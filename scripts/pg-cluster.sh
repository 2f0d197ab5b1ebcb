#!/bin/sh
# A private PostgreSQL cluster in a folder: `make serve` and the tests' `pg_url` fixture use it.
#
#   scripts/pg-cluster.sh start DIR   initdb (first time), start, create database "harmscope"
#   scripts/pg-cluster.sh stop DIR    stop it (fast shutdown); the data stay in DIR
#   scripts/pg-cluster.sh url DIR     print its postgresql:// URL
#   scripts/pg-cluster.sh status DIR  exit 0 when it is running
#
# The cluster listens on a unix socket inside DIR only (no TCP port, so nothing outside this
# machine can reach it, and clusters in different folders never clash). The socket folder is
# mode 0700, so only its owner (and root) can connect; inside, connections are trusted.
# PostgreSQL refuses to run as root: when run as root the folder is given to the `postgres`
# account (the Debian package makes it) and the server runs as that account.
# Environment: PGPORT (default 5432; only names the socket file), PG_FAST=1 (tests: no fsync,
# a throwaway cluster needs no crash safety).
set -eu

cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
    echo "usage: pg-cluster.sh start|stop|url|status DIR" >&2
    exit 2
fi
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data="$dir/data"
port=${PGPORT:-5432}
db=harmscope

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "pg-cluster.sh: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run: make postgres" >&2
    exit 1
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

url() {
    echo "postgresql://postgres@/$db?host=$dir&port=$port"
}

case "$cmd" in
    url)
        url
        ;;
    status)
        [ -f "$data/PG_VERSION" ] && as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1
        ;;
    stop)
        if [ -f "$data/postmaster.pid" ]; then
            mode=fast
            # A throwaway test cluster needs no clean shutdown checkpoint.
            [ "${PG_FAST:-0}" = 1 ] && mode=immediate
            as_owner "$bindir/pg_ctl" -D "$data" -m "$mode" -w stop >/dev/null
        fi
        ;;
    start)
        if [ "$(id -u)" -eq 0 ]; then
            chown postgres:postgres "$dir"
        fi
        chmod 0700 "$dir"
        if [ ! -f "$data/PG_VERSION" ]; then
            nosync=""
            [ "${PG_FAST:-0}" = 1 ] && nosync="--no-sync"
            as_owner "$bindir/initdb" -D "$data" -U postgres --auth=trust -E UTF8 \
                --locale=C.UTF-8 $nosync >"$dir/initdb.log" 2>&1 || {
                cat "$dir/initdb.log" >&2
                exit 1
            }
            {
                echo "listen_addresses = ''"
                echo "unix_socket_directories = '$dir'"
                echo "port = $port"
                if [ "${PG_FAST:-0}" = 1 ]; then
                    echo "fsync = off"
                    echo "synchronous_commit = off"
                    echo "full_page_writes = off"
                fi
            } >>"$data/postgresql.conf"
        fi
        if ! as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
            as_owner "$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null || {
                tail -n 20 "$dir/server.log" >&2
                exit 1
            }
        fi
        if ! "$bindir/psql" -h "$dir" -p "$port" -U postgres -d postgres -tAc \
            "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
            "$bindir/createdb" -h "$dir" -p "$port" -U postgres "$db"
        fi
        url
        ;;
    *)
        echo "pg-cluster.sh: unknown command '$cmd' (start|stop|url|status)" >&2
        exit 2
        ;;
esac
