// Package ldap checks passwords against an LDAP directory or Active Directory and reads users' groups and account state from it (authn.DirectoryAuthenticator).
package ldap
