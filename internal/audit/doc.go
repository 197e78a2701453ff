// Package audit records token requests in the store without holding them up: records are buffered, written in batches, and dropped (and counted) when the buffer is full.
package audit
