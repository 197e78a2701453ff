// Package benchmain is the main function the bench commands share: run until SIGINT or SIGTERM, exit with the command's code.
package benchmain

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Run calls realMain with the command line, stdout and stderr and a context
// cancelled on SIGINT or SIGTERM, and exits with the code it returns.
func Run(realMain func(ctx context.Context, args []string, stdout, stderr io.Writer) int) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := realMain(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
