// Package harborimport reads a Harbor database (read-only) and brings its users, groups, projects, members and robots into authserver through internal/admin.
package harborimport
