package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// daemon is one foreground server process owned by the test process
// (PostgreSQL, slapd): its output is appended to a log file, it dies with
// the test process (Pdeathsig, set by the caller on the command), it is
// probed until ready, and it is stopped with a signal. Stop and start may
// alternate, for outage tests.
type daemon struct {
	name     string         // for messages: "postgres", "slapd"
	logPath  string         // output of every run, appended
	stopSig  syscall.Signal // asks for a quick, clean exit
	stopWait time.Duration  // then SIGKILL

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when the running process exits
}

// start runs cmd and polls ready until it succeeds (nil), the process exits
// or startTimeout passes. The error carries the log.
func (d *daemon) start(cmd *exec.Cmd, ready func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return errors.New(d.name + " already running")
	}
	logf, err := os.OpenFile(d.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	done := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// Pdeathsig is delivered when the starting OS thread exits, not the
		// process: keep this thread alive for as long as the daemon runs.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err == nil {
			cmd.Wait()
		}
		close(done)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", d.name, err)
	}
	d.cmd, d.done = cmd, done
	if err := d.waitReady(ready); err != nil {
		d.stopLocked()
		return fmt.Errorf("%w\n--- %s log ---\n%s", err, d.name, d.log())
	}
	return nil
}

func (d *daemon) waitReady(ready func() error) error {
	deadline := time.Now().Add(startTimeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		select {
		case <-d.done:
			return fmt.Errorf("%s exited on start", d.name)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %v: %w", d.name, startTimeout, err)
		}
	}
}

// stop shuts the daemon down and waits for it to exit; open connections
// are cut. Stopping a stopped daemon does nothing.
func (d *daemon) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.stopLocked()
}

func (d *daemon) stopLocked() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(d.stopSig)
	select {
	case <-d.done:
	case <-time.After(d.stopWait):
		d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd, d.done = nil, nil
}

// log returns everything the daemon has written so far.
func (d *daemon) log() string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}
