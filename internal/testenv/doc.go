// Package testenv hands tests what they share: the real services they need (PostgreSQL, OpenLDAP, a Samba Active Directory domain controller), a free port, the test key pair, readers of JSON and errcode reply bodies, and the one process runner that ties a child's life to the test.
package testenv
