// Package pgtest gives tests real, empty PostgreSQL databases.
//
// With $WHARF_TEST_POSTGRES_DSN set (a DSN of a role that may CREATE
// DATABASE), databases are created on that server and dropped after the
// test. Otherwise the first NewDatabase starts a throwaway server from
// Debian's binaries (/usr/lib/postgresql/*/bin, the newest version) in a
// temporary directory on a free loopback port, shared by the whole test
// binary; each test still gets a database of its own. Without binaries
// the test fails, naming the package to install: it never skips.
//
// A package using it should call Main from TestMain, which stops the
// server and removes its directory. Should the test binary die first, the
// server dies with it (it runs with a parent-death signal).
//
// NewServer starts a private server that a test may Stop and Start, to
// see what a store does while PostgreSQL is away.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the variable that points the tests at an existing server.
const EnvDSN = "WHARF_TEST_POSTGRES_DSN"

// server is where test databases are created.
type server struct {
	adminDSN string
	external bool // from EnvDSN: drop what we create, stop nothing

	dir    string              // temporary directory: data, socket, log
	bin    string              // PostgreSQL's bin directory
	cred   *syscall.Credential // whom the server runs as (nil: us)
	port   int
	proc   *os.Process   // the postmaster, while it runs
	exited chan struct{} // closed when proc has exited
}

var (
	once    sync.Once
	srv     *server
	srvErr  error
	counter atomic.Int64
)

// Main runs the tests and then stops the server NewDatabase may have
// started. Call it from TestMain: func TestMain(m *testing.M) { pgtest.Main(m) }.
func Main(m *testing.M) {
	code := m.Run()
	if srv != nil {
		srv.remove()
	}
	os.Exit(code)
}

// NewDatabase creates an empty database on the shared server and returns
// its DSN.
func NewDatabase(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if dsn := os.Getenv(EnvDSN); dsn != "" {
			srv = &server{adminDSN: dsn, external: true}
		} else {
			srv, srvErr = startLocal()
		}
	})
	if srvErr != nil {
		t.Fatalf("pgtest: %v", srvErr)
	}
	return srv.newDatabase(t)
}

// Server is a private server for tests that stop and restart PostgreSQL
// under a running store (fault tests). It always runs from the local
// binaries, whatever EnvDSN says, and is removed when the test ends.
type Server struct{ s *server }

// NewServer starts a private server.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := startLocal()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.remove)
	return &Server{s}
}

// NewDatabase creates an empty database and returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string { t.Helper(); return s.s.newDatabase(t) }

// Stop shuts the server down at once, as a crash or an administrator would.
func (s *Server) Stop() { s.s.halt() }

// Start starts a stopped server again on the same port and data.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if err := s.s.launch(); err != nil {
		t.Fatalf("pgtest: restart: %v", err)
	}
}

func (s *server) newDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("wharf_test_%d_%d", os.Getpid(), counter.Add(1))
	if err := s.admin(fmt.Sprintf("CREATE DATABASE %s", name)); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if s.external {
		t.Cleanup(func() {
			if err := s.admin(fmt.Sprintf("DROP DATABASE %s WITH (FORCE)", name)); err != nil {
				t.Errorf("pgtest: %v", err)
			}
		})
	}
	dsn, err := withDatabase(s.adminDSN, name)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// admin runs one statement as the administrator.
func (s *server) admin(stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.adminDSN)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, stmt)
	return err
}

// withDatabase returns dsn with its database replaced by name.
func withDatabase(dsn, name string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("%s: %w", EnvDSN, err)
		}
		u.Path = "/" + name
		return u.String(), nil
	}
	return dsn + " dbname=" + name, nil // keyword/value: the last setting wins
}

// startLocal initializes a cluster in a new temporary directory and
// starts it.
func startLocal() (*server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "wharf-pg-")
	if err != nil {
		return nil, err
	}
	s := &server{dir: dir, bin: bin}
	s.cred, err = s.owner()
	if err == nil {
		err = run(s.cred, filepath.Join(bin, "initdb"), "-D", filepath.Join(dir, "data"), "-U", "postgres",
			"-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	}
	// A port found free can be taken before the server binds it; try again.
	for attempt := 0; err == nil && attempt < 5; attempt++ {
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.launch(); err == nil {
			return s, nil
		}
		if !strings.Contains(err.Error(), "could not bind") && !strings.Contains(err.Error(), "could not create") {
			break
		}
		err = nil
	}
	os.RemoveAll(dir)
	return nil, err
}

// findBin returns the bin directory of the newest PostgreSQL installed.
func findBin() (string, error) {
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		return "", errors.New("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb): " +
			"install them with `apt-get install -y postgresql`, or set " + EnvDSN + " to a server's admin DSN")
	}
	version := func(p string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(p)))); return n }
	newest := slices.MaxFunc(initdbs, func(a, b string) int { return version(a) - version(b) })
	return filepath.Dir(newest), nil
}

// owner returns the credentials the server runs with: the "postgres"
// system user when we are root (initdb and postgres refuse to run as root),
// to whom the directory then belongs; nil (ourselves) otherwise.
func (s *server) owner() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL needs an unprivileged user: %w "+
			"(`apt-get install -y postgresql` creates the postgres user)", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(s.dir, uid, gid); err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func run(cred *syscall.Credential, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w\n%s", filepath.Base(name), err, out)
	}
	return nil
}

// launch starts the postmaster on s.port and waits until it accepts
// connections. fsync is off: the data outlives a crash of the server
// (which Stop is), not one of the machine, and dies with the test run
// anyway. Commits stay synchronous, so a committed row survives Stop.
func (s *server) launch() error {
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := exec.Command(filepath.Join(s.bin, "postgres"), "-D", filepath.Join(s.dir, "data"),
		"-p", strconv.Itoa(s.port), "-k", s.dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "full_page_writes=off",
		"-c", "max_connections=500", "-c", "shared_buffers=32MB")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig fires when the thread that started the child exits, so the
	// child is started, and waited for, from a goroutine locked to its
	// thread: the server dies with the test binary, not with a thread.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	s.exited = make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer close(s.exited)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
	}()
	if err := <-started; err != nil {
		return err
	}
	s.proc = cmd.Process
	s.adminDSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)

	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, s.adminDSN)
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return nil
		}
		select {
		case <-s.exited:
			s.proc = nil
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited at start:\n%s", bytes.TrimSpace(log))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.halt()
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres did not accept connections within a minute: %v\n%s", err, bytes.TrimSpace(log))
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// halt shuts the server down at once (immediate mode: nothing to keep).
func (s *server) halt() {
	if s.proc == nil {
		return
	}
	s.proc.Signal(syscall.SIGQUIT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.proc.Kill()
		<-s.exited
	}
	s.proc = nil
}

// remove halts the server and deletes its directory.
func (s *server) remove() {
	s.halt()
	if s.dir != "" {
		os.RemoveAll(s.dir)
	}
}
