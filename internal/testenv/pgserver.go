package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGBinDir holds initdb and postgres; $AUTHSERVER_TEST_PG_BIN overrides it.
var PGBinDir = "/usr/lib/postgresql/15/bin"

const startTimeout = 30 * time.Second

// PGServer is a throw-away PostgreSQL server: its own data directory, trust
// authentication, listening on 127.0.0.1 at Port, tuned for speed rather than
// durability. Stop and Start keep the port and data directory, so a test can
// take the database away from a running authserver and bring it back.
type PGServer struct {
	Dir  string // temporary directory: data/, the unix socket and postgres.log
	Port int

	proc daemon
}

// NewPGServer starts a dedicated server for one test (for example, one whose
// outage the test provokes), removed when the test ends. It always starts a
// local server, even when AUTHSERVER_TEST_PG_DSN is set.
func NewPGServer(tb testing.TB) *PGServer {
	tb.Helper()
	return forTest(tb, "PostgreSQL", StartPGServer)
}

// CreateDatabase returns the DSN of a new empty database on s, dropped when
// the test ends (if s is still running then).
func (s *PGServer) CreateDatabase(tb testing.TB) string {
	tb.Helper()
	return createDatabase(tb, s.DSN("postgres"))
}

// StartPGServer initialises a data directory and starts a server on a free
// port. As root, initdb and postgres run as the "postgres" OS user. The
// caller must Remove it; Main removes any left over.
func StartPGServer() (*PGServer, error) {
	if dir := os.Getenv("AUTHSERVER_TEST_PG_BIN"); dir != "" {
		PGBinDir = dir
	}
	s := &PGServer{}
	var err error
	if s.Dir, err = s.proc.init("postgres", syscall.SIGINT, 30*time.Second); err != nil {
		return nil, err
	}
	if err := launch(s, s.initdb, s.Start, &s.Port); err != nil {
		return nil, err
	}
	return s, nil
}

// DSN returns a URL for database db on s.
func (s *PGServer) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// Start (re)starts the server on its port and data directory and waits until
// it accepts connections. The error includes the server log.
func (s *PGServer) Start() error {
	cmd := s.command("postgres", "-D", filepath.Join(s.Dir, "data"),
		"-c", "listen_addresses=127.0.0.1", "-p", strconv.Itoa(s.Port), "-k", s.Dir,
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
		"-c", "max_connections=200", "-c", "logging_collector=off")
	return s.proc.start(cmd, s.ping)
}

// ping connects once.
func (s *PGServer) ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return err
	}
	return conn.Close(ctx)
}

// Stop shuts the server down (fast shutdown: open sessions are cut) and
// waits for it to exit. Stopping a stopped server does nothing.
func (s *PGServer) Stop() { s.proc.stop() }

// Remove stops the server and deletes its directory.
func (s *PGServer) Remove() {
	s.Stop()
	os.RemoveAll(s.Dir)
}

func (s *PGServer) initdb() error {
	if err := s.chown(s.Dir); err != nil {
		return err
	}
	cmd := s.command("initdb", "-D", filepath.Join(s.Dir, "data"), "-U", "postgres",
		"-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	return nil
}

// command builds a PostgreSQL command that runs as the postgres OS user when
// we are root (PostgreSQL refuses to run as root).
func (s *PGServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(PGBinDir, name), args...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGQUIT}
	if uid, gid, ok := postgresUser(); ok {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uid, Gid: gid}
	}
	return cmd
}

// chown gives dir to the postgres user when running as root.
func (s *PGServer) chown(dir string) error {
	uid, gid, ok := postgresUser()
	if !ok {
		return nil
	}
	if err := os.Chown(dir, int(uid), int(gid)); err != nil {
		return fmt.Errorf("chown %s: %w", dir, err)
	}
	return nil
}

// postgresUser returns the postgres user's ids when we run as root.
func postgresUser() (uid, gid uint32, ok bool) {
	if os.Geteuid() != 0 {
		return 0, 0, false
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, false
	}
	id, _ := strconv.Atoi(u.Uid)
	g, _ := strconv.Atoi(u.Gid)
	return uint32(id), uint32(g), true
}
