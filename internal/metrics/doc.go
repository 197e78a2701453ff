// Package metrics defines authserver's Prometheus metrics and serves them.
package metrics
