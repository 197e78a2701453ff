// Package login is the one gate every request that carries credentials passes through (the token endpoint, the REST API, a web sign-in): the limits, the throttle, the bounded password check, the audit record and the metrics, in that order, once.
package login
