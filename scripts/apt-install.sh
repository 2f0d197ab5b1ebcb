#!/bin/sh
# Install Debian packages as root, or through sudo: `scripts/apt-install.sh PACKAGE...`.
# Shared by install-chromium.sh and install-postgres.sh, which first check that their program
# is missing (so set-up stays idempotent and needs no root on a machine that has it).
set -eu

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "apt-install.sh: not root and no sudo; run as root: apt-get install -y $*" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y "$@"
