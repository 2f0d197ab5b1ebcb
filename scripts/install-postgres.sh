#!/bin/sh
# Install the PostgreSQL server used by the shared workspace (`make serve`, `--db postgresql://`)
# and by the tests (`make test` starts and stops its own throwaway cluster).
# Idempotent: does nothing when a server's initdb is already there (the Makefile calls it on
# every set-up). Needs root (or sudo) because it uses the Debian package manager.
set -eu

found=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -n "$found" ] && [ -x "$found" ]; then
    echo "postgresql already installed: $("$found" --version 2>/dev/null || echo "$found")"
    exit 0
fi

# The Debian package's own cluster service is not used: harmscope runs its clusters itself
# (scripts/pg-cluster.sh), in a project folder, on a unix socket and loopback only.
sh "$(dirname "$0")/apt-install.sh" postgresql

found=$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$found" ]; then
    echo "install-postgres.sh: apt-get finished but /usr/lib/postgresql/*/bin/initdb is missing" >&2
    exit 1
fi
echo "postgresql installed: $("$found" --version 2>/dev/null || echo "$found")"
