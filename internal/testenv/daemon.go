package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// daemon is one foreground server process owned by the test process
// (PostgreSQL, slapd), run as a Process: its output is appended to a log
// file, it dies with the test process, it is probed until ready, and it is
// stopped with a signal. Stop and start may alternate, for outage tests.
type daemon struct {
	name     string         // for messages: "postgres", "slapd"
	logPath  string         // output of every run, appended
	stopSig  syscall.Signal // asks for a quick, clean exit
	stopWait time.Duration  // then SIGKILL

	mu   sync.Mutex
	proc *Process // the running process, nil when stopped
}

// init names the daemon and makes its temporary directory, which holds its
// log (name.log) and which it returns.
func (d *daemon) init(name string, stopSig syscall.Signal, stopWait time.Duration) (string, error) {
	dir, err := os.MkdirTemp("", "authserver-"+name+"-")
	if err != nil {
		return "", err
	}
	d.name, d.logPath, d.stopSig, d.stopWait = name, filepath.Join(dir, name+".log"), stopSig, stopWait
	return dir, nil
}

// start runs cmd and polls ready until it succeeds (nil), the process exits
// or startTimeout passes. The error carries the log.
func (d *daemon) start(cmd *exec.Cmd, ready func() error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		return errors.New(d.name + " already running")
	}
	p, err := StartProcess(cmd, d.logPath)
	if err != nil {
		return fmt.Errorf("start %s: %w", d.name, err)
	}
	d.proc = p
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
		case <-d.proc.Done():
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
	if d.proc == nil {
		return
	}
	d.proc.Stop(d.stopSig, d.stopWait)
	d.proc = nil
}

// log returns everything the daemon has written so far.
func (d *daemon) log() string {
	b, err := os.ReadFile(d.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// A server is a daemon with its directory: Remove stops it and deletes it.
type server interface{ Remove() }

var (
	launchedMu sync.Mutex
	launched   []server // every server started, for Main to remove
)

// launch prepares s (setup) and starts it on free ports (written to ports
// before each start). A port can be taken between probing and binding, so
// it tries a few times. s is removed when it fails (the error carries the
// log), and by Main at the end otherwise.
func launch(s server, setup, start func() error, ports ...*int) error {
	launchedMu.Lock()
	launched = append(launched, s)
	launchedMu.Unlock()
	err := setup()
	if err == nil {
		err = startOnFreePorts(start, ports)
	}
	if err != nil {
		s.Remove()
	}
	return err
}

func startOnFreePorts(start func() error, ports []*int) (err error) {
	for range 3 {
		for _, p := range ports {
			if *p, err = freePort(); err != nil {
				return err
			}
		}
		if err = start(); err == nil {
			return nil
		}
	}
	return err
}

// forTest starts a dedicated server with start for one test, failing it
// when the server cannot start, and removes the server when the test ends.
func forTest[S server](tb testing.TB, what string, start func() (S, error)) S {
	tb.Helper()
	s, err := start()
	if err != nil {
		tb.Fatalf("testenv: start %s: %v", what, err)
	}
	tb.Cleanup(s.Remove)
	return s
}

// removeAll removes every server launch started.
func removeAll() {
	launchedMu.Lock()
	defer launchedMu.Unlock()
	for _, s := range launched {
		s.Remove()
	}
	launched = nil
}
