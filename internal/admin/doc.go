// Package admin is what an administrator may do (users, groups, projects, members, robots, tokens, explain), validated, permission-checked and written in one transaction, for the CLI and the REST API alike.
package admin
