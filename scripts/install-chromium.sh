#!/bin/sh
# Install the headless renderer used by `harmscope report --format pdf` and the browser tests.
# Idempotent: does nothing when /usr/bin/chromium is already there (the Makefile calls it on
# every set-up). Needs root (or sudo) because it uses the Debian package manager.
set -eu

if [ -x /usr/bin/chromium ]; then
    echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
    exit 0
fi

sh "$(dirname "$0")/apt-install.sh" chromium

if [ ! -x /usr/bin/chromium ]; then
    echo "install-chromium.sh: apt-get finished but /usr/bin/chromium is missing" >&2
    exit 1
fi
echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
