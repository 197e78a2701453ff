// Package config loads, defaults and validates authserver's YAML configuration.
package config
