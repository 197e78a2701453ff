// Package throttle slows down password guessing: failed logins are counted per (username, client network) and per client network, with exponential backoff past a limit.
package throttle
