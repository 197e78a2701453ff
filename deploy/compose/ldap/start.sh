#!/bin/sh
# The sample directory of deploy/docker-compose.yml: Debian's slapd with
# dc=example,dc=org and sample.ldif (root entry included), serving plain
# LDAP on $LDAP_PORT (389). It runs in the official debian image (slapd is
# installed at the first start) and, unchanged, in deploy's test.
#   LDAP_ADMIN_PASSWORD  cn=admin,dc=example,dc=org's password (required)
#   LDAP_DIR             config and database (default /var/lib/ldap-sample)
#   LDAP_PORT            port (default 389)
set -eu
: "${LDAP_ADMIN_PASSWORD:?set LDAP_ADMIN_PASSWORD}"
dir=${LDAP_DIR:-/var/lib/ldap-sample}
port=${LDAP_PORT:-389}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v slapd >/dev/null 2>&1 && [ ! -x /usr/sbin/slapd ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slapd >/dev/null
fi
PATH=$PATH:/usr/sbin
mkdir -p "$dir/data"
cat > "$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
suffix "dc=example,dc=org"
rootdn "cn=admin,dc=example,dc=org"
rootpw $(slappasswd -s "$LDAP_ADMIN_PASSWORD")
directory $dir/data
index objectClass,uid,cn,member eq
access to attrs=userPassword by self =xw by anonymous auth by * none
access to * by * read
CONF
if [ ! -f "$dir/data/data.mdb" ]; then
  slapadd -f "$dir/slapd.conf" -l "$here/sample.ldif"
fi
# -d keeps slapd in the foreground, as a container's main process.
exec slapd -d 0 -f "$dir/slapd.conf" -h "ldap://0.0.0.0:$port/"
