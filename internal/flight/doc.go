// Package flight lets concurrent identical calls share one run and its result.
package flight
