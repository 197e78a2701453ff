#!/usr/bin/env bash
# Installs everything the test suite needs that Go's own test runner cannot
# fetch: Debian packages (slapd, ldap-utils, skopeo, docker-registry, podman,
# buildah, containerd, curl, jq, nginx, Samba's AD DC, chromium) and the Go-built registry v3 and clients (crane, oras,
# regctl, helm). Binaries are cached in $AUTHSERVER_TOOLS (default
# ~/.cache/authserver-tools/bin) between runs. The docker CLI and kubectl come
# with the machine image; their absence fails the run. Idempotent: a second run with
# everything present takes well under a second.
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
command -v podman >/dev/null 2>&1 || need_apt+=(podman)
command -v buildah >/dev/null 2>&1 || need_apt+=(buildah)
# podman on this kind of machine runs containers with runc (crun fails: ../shared TESTING.md).
command -v runc >/dev/null 2>&1 || [ -x /usr/sbin/runc ] || need_apt+=(runc)
{ command -v containerd >/dev/null 2>&1 && command -v ctr >/dev/null 2>&1; } || need_apt+=(containerd)
# PostgreSQL 15's initdb and postgres (internal/testenv starts a throwaway one).
[ -x "${AUTHSERVER_TEST_PG_BIN:-/usr/lib/postgresql/15/bin}/initdb" ] || need_apt+=(postgresql-15)
# curl and jq: the GitHub Actions snippet of docs/FEDERATION.md runs them.
command -v curl >/dev/null 2>&1 || need_apt+=(curl)
command -v jq >/dev/null 2>&1 || need_apt+=(jq)
# nginx: the load balancer in front of three replicas (e2e/ha_test.go runs its
# own instance with its own config, prefix and pid file; never the service).
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
# promtool checks and unit-tests deploy/monitoring's alert rules (Debian's
# prometheus package ships it; its service is never started, see below).
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# systemd-analyze verifies deploy/systemd's unit.
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
# Debian's chromium: the SSO browser tests (e2e/sso_test.go) drive it
# headless through chromedp, as root with --no-sandbox.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
# Samba's Active Directory domain controller (internal/testenv.Samba: the
# e2e tests of Active Directory provision a throw-away domain). ldb-tools
# for ldbsearch/ldbmodify when debugging a test domain by hand.
{ [ -x /usr/sbin/samba ] && [ -x /usr/sbin/winbindd ] && command -v samba-tool >/dev/null 2>&1 &&
  command -v ldbsearch >/dev/null 2>&1 && [ -d /usr/share/samba/setup ]; } || need_apt+=(samba samba-ad-dc samba-ad-provision winbind ldb-tools)
if [ ${#need_apt[@]} -gt 0 ]; then
  log "apt-get install ${need_apt[*]}"
  # Debian's maintainer scripts start packaged daemons (slapd, docker-registry,
  # containerd, nginx, prometheus, samba) through invoke-rc.d; guarded_apt_install puts a
  # policy-rc.d that answers 101 in place for the install, so none starts
  # at all, and puts /etc/nsswitch.conf back as it was (winbind's scripts
  # edit it). The tests run their own instances.
  # shellcheck source=scripts/apt-guard.sh
  source "$(dirname "${BASH_SOURCE[0]}")/apt-guard.sh"
  guarded_apt_install "${need_apt[@]}"
  # If a daemon was started anyway (a policy-rc.d that could not be
  # replaced), stop it through its own service command; never by process name.
  for svc in slapd docker-registry containerd nginx prometheus prometheus-node-exporter samba-ad-dc smbd nmbd winbind; do
    (service "$svc" stop >/dev/null 2>&1 || true)
    (systemctl disable --now "$svc" >/dev/null 2>&1 || true)
  done
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
go_tool helm helm.sh/helm/v3/cmd/helm@v3.22.0

for b in registry crane oras regctl helm; do
  [ -x "$BIN/$b" ] || { log "missing $BIN/$b"; exit 1; }
done
for b in skopeo docker-registry podman buildah containerd ctr curl jq promtool systemd-analyze samba-tool; do
  command -v "$b" >/dev/null || { log "$b missing after apt-get install"; exit 1; }
done
{ command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || { log "nginx missing after apt-get install"; exit 1; }
[ -x /usr/bin/chromium ] || { log "chromium missing after apt-get install"; exit 1; }
# The docker CLI is part of the machine image (no daemon is needed or used).
command -v docker >/dev/null || { log "docker CLI missing: expected at /usr/local/bin/docker on this machine image"; exit 1; }
# kubectl too: e2e runs the kubectl commands of docs/FEDERATION.md (against a loopback API server stand-in).
command -v kubectl >/dev/null || { log "kubectl missing: expected on PATH on this machine image"; exit 1; }
log "ok: tools in $BIN"
