// Package throttle slows down password guessing: failed logins are counted per (username, client network) and per client network, with exponential backoff past a limit, and the slow credential checks that run at once are bounded, overall and per client network.
package throttle
