// Package store is the interface to authserver's state (users, groups, projects, members, robots, tokens, audit): one SQL implementation in sqldb with a dialect per database (sqlite, postgres), checked by storetest.
package store
