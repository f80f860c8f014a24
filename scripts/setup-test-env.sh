#!/usr/bin/env bash
# Creates (or refreshes) the Python virtualenv at .venv that the tests use:
# boto3 and the AWS CLI v1 as real control-plane clients, pytest for the
# end-to-end suite, awslambdaric for the Runtime API tests, moto's S3 server as
# an S3 implementation not written here (code from an external S3).
#
# Idempotent and fast when nothing changed: a stamp file inside .venv records
# the requirements it was built from; a matching stamp and importable packages
# mean there is nothing to do.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
STAMP="$VENV/.lambdabox-requirements.stamp"

# Pinned to a compatible-release range: patch updates are fine, a new minor
# (which for boto3 means a new botocore) is taken deliberately by editing this.
REQUIREMENTS=(
  "boto3~=1.44.0"
  "awscli~=1.46.0"
  "pytest~=9.2"
  "awslambdaric~=4.2"
  "moto[server]~=5.2.0"
)

log() { printf 'setup-test-env: %s\n' "$*" >&2; }

venv_works() {
  [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1
}

install_debian_venv() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "python3 -m venv failed and apt-get is not available to install python3-venv"
    return 1
  fi
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  log "installing Debian's python3-venv"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip >/dev/null
}

create_venv() {
  rm -rf "$VENV"
  local err
  err="$(mktemp)"
  if python3 -m venv "$VENV" 2>"$err"; then rm -f "$err"; return 0; fi
  log "python3 -m venv failed: $(tail -n 3 "$err")"
  rm -rf "$VENV"
  if [ -x /usr/bin/python3 ] && /usr/bin/python3 -m venv "$VENV" 2>"$err"; then rm -f "$err"; return 0; fi
  rm -rf "$VENV"
  # Debian splits ensurepip out of the interpreter package.
  install_debian_venv
  rm -f "$err"
  if [ -x /usr/bin/python3 ]; then
    /usr/bin/python3 -m venv "$VENV"
  else
    python3 -m venv "$VENV"
  fi
}

stamp_value() {
  {
    printf '%s\n' "${REQUIREMENTS[@]}"
    "$VENV/bin/python" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1
}

packages_importable() {
  "$VENV/bin/python" -c 'import boto3, botocore, pytest, awslambdaric, moto.server' >/dev/null 2>&1 &&
    [ -x "$VENV/bin/aws" ] && [ -x "$VENV/bin/moto_server" ] && [ -x "$VENV/bin/pytest" ]
}

# `aws logs tail` exists only in the AWS CLI v2: Debian's awscli package.
if [ ! -x /usr/bin/aws ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
  log "installing Debian's awscli (v2) for aws logs tail"
  env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq awscli >/dev/null
fi

if ! venv_works; then
  log "creating virtualenv at $VENV"
  create_venv
fi

want="$(stamp_value)"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && packages_importable; then
  exit 0
fi

log "installing ${REQUIREMENTS[*]}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
"$VENV/bin/python" -m pip install -q --no-input "${REQUIREMENTS[@]}"
packages_importable || { log "packages still not importable after install"; exit 1; }
printf '%s\n' "$want" >"$STAMP"
log "ready: $("$VENV/bin/python" -m pip freeze 2>/dev/null | grep -iE '^(boto3|awscli|pytest|awslambdaric|moto)==' | tr '\n' ' ')"
