// Package harbortest builds a Harbor-shaped PostgreSQL database for the importer's tests and the end-to-end tests.
package harbortest

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// pyPBKDF2 computes hex(PBKDF2-HMAC-alg(password, salt, iter, 16 bytes))
// with Python's hashlib: independent of the Go code under test.
func PyPBKDF2(t testing.TB, alg string, iter int, password, salt string) string {
	t.Helper()
	out, err := exec.Command("python3", "-c",
		"import hashlib, sys; print(hashlib.pbkdf2_hmac(sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode(), int(sys.argv[4]), 16).hex())",
		alg, password, salt, strconv.Itoa(iter)).Output()
	if err != nil {
		t.Fatalf("python3 pbkdf2: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// Exec runs sql in the database at dsn.
func Exec(t testing.TB, dsn, sql string, args ...any) {
	t.Helper()
	c := connect(t, dsn)
	defer c.close()
	c.exec(sql, args...)
}

// conn is a connection to a test database whose failures fail the test.
type conn struct {
	t testing.TB
	c *pgx.Conn
}

func connect(t testing.TB, dsn string) conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	return conn{t, c}
}

func (c conn) close() { c.c.Close(context.Background()) }

// exec runs one statement.
func (c conn) exec(sql string, args ...any) {
	c.t.Helper()
	if _, err := c.c.Exec(context.Background(), sql, args...); err != nil {
		c.t.Fatalf("%s: %v", sql, err)
	}
}

// harborSchema is a Harbor-shaped database: the tables and columns the
// import reads, as the schema facts describe them (written for this test).
const harborSchema = `
CREATE TABLE harbor_user (
  user_id serial PRIMARY KEY, username varchar(255) UNIQUE, email varchar(255), password varchar(40) NOT NULL,
  realname varchar(255) NOT NULL, comment varchar(30), deleted boolean NOT NULL DEFAULT false, reset_uuid varchar(40),
  salt varchar(40), sysadmin_flag boolean NOT NULL DEFAULT false, creation_time timestamp DEFAULT now(),
  update_time timestamp DEFAULT now(), password_version varchar(16) DEFAULT 'sha256');
CREATE TABLE properties (id serial PRIMARY KEY, k varchar(64) NOT NULL UNIQUE, v varchar(1024) NOT NULL);
CREATE TABLE project (
  project_id serial PRIMARY KEY, owner_id int NOT NULL, name varchar(255) NOT NULL UNIQUE,
  creation_time timestamp DEFAULT now(), update_time timestamp DEFAULT now(), deleted boolean NOT NULL DEFAULT false,
  registry_id int);
CREATE TABLE project_metadata (id serial PRIMARY KEY, project_id int NOT NULL, name varchar(255) NOT NULL, value varchar(255));
CREATE TABLE user_group (id serial PRIMARY KEY, group_name varchar(255) NOT NULL, group_type smallint DEFAULT 0,
  ldap_group_dn varchar(512) NOT NULL);
CREATE TABLE project_member (id serial PRIMARY KEY, project_id int NOT NULL, entity_id int NOT NULL,
  entity_type char(1) NOT NULL, role int NOT NULL);
CREATE TABLE robot (id serial PRIMARY KEY, name varchar(255), description varchar(1024), project_id int,
  expiresat bigint, disabled boolean NOT NULL DEFAULT false, visible boolean NOT NULL DEFAULT true,
  secret varchar(2048), salt varchar(64), duration int);
CREATE TABLE role_permission (id serial PRIMARY KEY, role_type varchar(255) NOT NULL, role_id int NOT NULL,
  permission_policy_id int NOT NULL);
CREATE TABLE permission_policy (id serial PRIMARY KEY, scope varchar(255) NOT NULL, resource varchar(255),
  action varchar(255), effect varchar(255));
CREATE TABLE oidc_user (id serial PRIMARY KEY, user_id int NOT NULL, secret varchar(255), subject varchar(255));
`

// Passwords and secrets of the fixture: Passwords by Harbor user name,
// RobotSecrets by Harbor robot name.
var (
	Passwords = map[string]string{
		"admin": "harbor-admin-pw", "alice": "alice-sha1-pw", "bob": "bob-sha256-pw", "carol": "carol-pbkdf2-pw",
	}
	RobotSecrets = map[string]string{"team+ci": "Ci-Secret-1", "sys": "Sys-Secret-2", "team+old": "Old-Secret-3",
		"deployer": "Deployer-Secret-7"}
)

// Fill creates the schema and the fixture in the database at dsn: users of
// every password_version (hashes computed by Python's hashlib), a deleted
// user, an OIDC user, an LDAP-onboarded user; public, private, deleted and
// proxy-cache projects; user and group members of every role; a project
// robot, a system robot, an expired, an invisible and a secretless robot,
// a system robot on every project plus one project, and a system robot
// naming two projects (terraform's kind) and a deleted one.
func Fill(t testing.TB, dsn string) {
	t.Helper()
	c := connect(t, dsn)
	defer c.close()
	exec := c.exec
	exec(harborSchema)
	exec(`INSERT INTO properties (k, v) VALUES ('auth_mode', 'db_auth'), ('robot_name_prefix', 'robot$'),
		('ldap_url', 'ldaps://ldap.example.org'), ('ldap_base_dn', 'ou=people,dc=example,dc=org'), ('ldap_uid', 'uid'),
		('ldap_scope', '2'), ('ldap_search_dn', 'cn=reader,dc=example,dc=org'), ('ldap_filter', 'objectClass=person'),
		('ldap_group_base_dn', 'ou=groups,dc=example,dc=org'), ('ldap_group_admin_dn', 'cn=admins,ou=groups,dc=example,dc=org')`)
	users := []struct {
		id                            int
		name, version, password, salt string
		admin, deleted                bool
		comment                       string
	}{
		{1, "admin", "sha256", Passwords["admin"], "adminsalt0000000000000000000000a", true, false, ""},
		{2, "anonymous", "sha256", "anything", "anonsalt", false, true, ""},
		{3, "alice", "sha1", Passwords["alice"], "AliceSalt1234567890abcdefghijklm", false, false, ""},
		{4, "bob", "sha256", Passwords["bob"], "BobSalt01234567890abcdefghijklmn", true, false, ""},
		{5, "carol", "pbkdf2_sha256", Passwords["carol"], "CarolSalt1234567890abcdefghijklm", false, false, ""},
		{6, "dave#6", "sha256", "dave-pw", "DaveSalt", false, true, ""},
		{7, "eve", "sha256", "eve-pw", "EveSalt", false, false, ""},
		{8, "lena", "sha256", "12345678AbC", "LenaSalt", false, false, "from LDAP."},
	}
	iters := map[string]int{"sha1": 4096, "sha256": 4096, "pbkdf2_sha256": 600000}
	algs := map[string]string{"sha1": "sha1", "sha256": "sha256", "pbkdf2_sha256": "sha256"}
	for _, u := range users {
		h := PyPBKDF2(t, algs[u.version], iters[u.version], u.password, u.salt)
		exec(`INSERT INTO harbor_user (user_id, username, email, password, realname, comment, deleted, salt, sysadmin_flag,
			password_version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			u.id, u.name, u.name+"@example.org", h, "Real "+u.name, u.comment, u.deleted, u.salt, u.admin, u.version)
	}
	exec(`INSERT INTO oidc_user (user_id, secret, subject) VALUES (7, 'encrypted', 'sub-eve')`)
	exec(`INSERT INTO project (project_id, owner_id, name, deleted, registry_id) VALUES
		(1, 1, 'library', false, NULL), (2, 3, 'team', false, NULL), (3, 1, 'old#3', true, NULL), (4, 1, 'cache', false, 1)`)
	exec(`INSERT INTO project_metadata (project_id, name, value) VALUES (1, 'public', 'true'), (2, 'public', 'false'),
		(4, 'public', 'false'), (2, 'auto_scan', 'true')`)
	exec(`INSERT INTO user_group (id, group_name, group_type, ldap_group_dn) VALUES
		(1, 'devs', 1, 'cn=devs,ou=groups,dc=example,dc=org'), (2, 'proxyusers', 2, '')`)
	// Every role: alice projectAdmin, bob developer, carol guest, lena
	// maintainer, the devs group limitedGuest; devs developer on library.
	exec(`INSERT INTO project_member (project_id, entity_id, entity_type, role) VALUES
		(2, 3, 'u', 1), (2, 4, 'u', 2), (2, 5, 'u', 3), (2, 8, 'u', 4), (2, 1, 'g', 5), (1, 1, 'g', 2),
		(3, 3, 'u', 1), (2, 7, 'u', 2), (2, 2, 'g', 3)`)
	past := time.Now().Add(-time.Hour).Unix()
	robots := []struct {
		id                 int
		name               string
		project            int
		expires            int64
		visible            bool
		secret, salt, desc string
	}{
		{1, "team+ci", 2, -1, true, RobotSecrets["team+ci"], "ci-salt-0123456789", "CI pushes"},
		{2, "sys", 0, -1, true, RobotSecrets["sys"], "sys-salt-0123456789", "system puller"},
		{3, "team+old", 2, past, true, RobotSecrets["team+old"], "old-salt-0123456789", "expired"},
		{4, "team+hidden", 2, -1, false, "x", "hidden-salt", "internal"},
		{5, "team+legacy", 2, -1, true, "", "", "from 2.1"},
		{6, "multi", 0, -1, true, "Multi-Secret", "multi-salt", "all projects and one"},
		{7, "deployer", 0, -1, true, RobotSecrets["deployer"], "deployer-salt-0123", "two projects"},
	}
	for _, r := range robots {
		secret := ""
		if r.secret != "" {
			secret = PyPBKDF2(t, "sha256", 4096, r.secret, r.salt)
		}
		exec(`INSERT INTO robot (id, name, description, project_id, expiresat, visible, secret, salt)
			VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, ''), NULLIF($8, ''))`,
			r.id, r.name, r.desc, r.project, r.expires, r.visible, secret, r.salt)
	}
	policies := []struct {
		id                      int
		scope, resource, action string
	}{
		{1, "/project/2", "repository", "pull"}, {2, "/project/2", "repository", "push"},
		{3, "/project/2", "artifact", "read"}, {4, "/project/*", "repository", "pull"},
		{5, "/project/1", "repository", "push"}, {6, "/system", "project", "create"},
		{7, "/project/1", "repository", "pull"}, {8, "/project/3", "repository", "pull"},
	}
	for _, p := range policies {
		exec(`INSERT INTO permission_policy (id, scope, resource, action, effect) VALUES ($1, $2, $3, $4, 'allow')`,
			p.id, p.scope, p.resource, p.action)
	}
	grants := map[int][]int{1: {1, 2, 3}, 2: {4, 6}, 3: {1, 2}, 4: {1}, 5: {1}, 6: {4, 5}, 7: {7, 2, 8}}
	for robot, ps := range grants {
		for _, p := range ps {
			exec(`INSERT INTO role_permission (role_type, role_id, permission_policy_id) VALUES ('robot', $1, $2)`, robot, p)
		}
	}
}
