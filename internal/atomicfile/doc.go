// Package atomicfile writes a file so that readers never see it half written: a temporary file in the same directory, synced, then renamed over the target.
package atomicfile
