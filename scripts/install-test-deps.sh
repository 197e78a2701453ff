#!/usr/bin/env bash
# Installs everything the test suite needs that Go's own test runner cannot
# fetch: Debian packages (slapd, ldap-utils, skopeo, docker-registry) and the
# Go-built registry v3 and clients (crane, oras, regctl). Binaries are cached in
# $AUTHSERVER_TOOLS (default ~/.cache/authserver-tools/bin) between runs.
# Idempotent: a second run with everything present takes well under a second.
set -euo pipefail

TOOLS="${AUTHSERVER_TOOLS:-$HOME/.cache/authserver-tools}"
BIN="$TOOLS/bin"
mkdir -p "$BIN"

log() { printf 'install-test-deps: %s\n' "$*" >&2; }

# --- Debian packages -------------------------------------------------------
need_apt=()
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || need_apt+=(slapd)
command -v ldapadd >/dev/null 2>&1 || need_apt+=(ldap-utils)
command -v skopeo >/dev/null 2>&1 || need_apt+=(skopeo)
command -v docker-registry >/dev/null 2>&1 || need_apt+=(docker-registry)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # Debian starts the packaged daemons; tests run their own instances.
  for svc in slapd docker-registry; do
    (service "$svc" stop >/dev/null 2>&1 || true)
    (systemctl disable --now "$svc" >/dev/null 2>&1 || true)
  done
  pkill -x slapd 2>/dev/null || true
fi

# --- Go-built programs -------------------------------------------------------
go_tool() { # name module@version
  local name=$1 pkg=$2 stamp="$BIN/.$1.version"
  if [ -x "$BIN/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then return; fi
  log "go install $pkg"
  GOBIN="$BIN" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install "$pkg"
  echo "$pkg" >"$stamp"
}
go_tool registry github.com/distribution/distribution/v3/cmd/registry@v3.1.2
go_tool crane github.com/google/go-containerregistry/cmd/crane@v0.22.1
go_tool oras oras.land/oras/cmd/oras@v1.3.6
go_tool regctl github.com/regclient/regclient/cmd/regctl@v0.11.7

for b in registry crane oras regctl; do
  [ -x "$BIN/$b" ] || { log "missing $BIN/$b"; exit 1; }
done
command -v skopeo >/dev/null || { log "skopeo missing"; exit 1; }
command -v docker-registry >/dev/null || { log "docker-registry missing"; exit 1; }
log "ok: tools in $BIN"
