# Sourced by install-test-deps.sh (and by internal/testenv's test of it).
#
# guarded_apt_install PKG...: apt-get install that leaves the machine as it
# was apart from the packages themselves:
#   - no packaged service starts: a policy-rc.d that answers 101 is in place
#     for the install (an existing one is put back afterwards, byte for byte;
#     none is left behind when there was none);
#   - /etc/nsswitch.conf is put back exactly as it was (Samba's packages add
#     winbind to its passwd: and group: lines), and the install fails if it
#     cannot be.
# Both are restored on any exit, a failed install or an interrupt included.
# APT_GUARD_APT, APT_GUARD_POLICY and APT_GUARD_NSSWITCH replace apt-get and
# the two paths (the test points them at a fake apt-get and temp files).
guarded_apt_install() (
  set -euo pipefail
  apt=${APT_GUARD_APT:-apt-get}
  policy=${APT_GUARD_POLICY:-/usr/sbin/policy-rc.d}
  nss=${APT_GUARD_NSSWITCH:-/etc/nsswitch.conf}
  saved=$(mktemp -d)
  [ -e "$policy" ] && cp -p "$policy" "$saved/policy-rc.d"
  [ -e "$nss" ] && cp -p "$nss" "$saved/nsswitch.conf"
  restore() {
    local rc=$?
    if [ -e "$saved/policy-rc.d" ]; then cp -p "$saved/policy-rc.d" "$policy"; else rm -f "$policy"; fi
    if [ -e "$saved/nsswitch.conf" ] && ! cmp -s "$saved/nsswitch.conf" "$nss"; then
      printf 'install-test-deps: %s was changed by the install: putting it back\n' "$nss" >&2
      cp -p "$saved/nsswitch.conf" "$nss"
      if ! cmp -s "$saved/nsswitch.conf" "$nss"; then
        printf 'install-test-deps: cannot restore %s\n' "$nss" >&2
        rc=1
      fi
    fi
    rm -rf "$saved"
    exit "$rc"
  }
  trap restore EXIT
  trap 'exit 130' INT TERM
  printf '#!/bin/sh\n# install-test-deps: no packaged service may start\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  export DEBIAN_FRONTEND=noninteractive
  "$apt" update -qq
  "$apt" install -y -qq --no-install-recommends "$@" >/dev/null
)
