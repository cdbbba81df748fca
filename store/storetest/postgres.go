// Package storetest gives tests a private PostgreSQL: one cluster per test
// package, started on first use from Debian's postgresql binaries, and a
// fresh database for each test. Tests of store, desk and ui share it; it
// imports nothing of ours, so store's own tests can use it too.
//
// A package that uses it runs its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
//
// or, to run every test of the package on both engines without a line of
// engine code in the tests, through Twice, with Data making each test's
// database.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

var (
	mainRan atomic.Bool
	pgPass  atomic.Bool // Twice's second pass is running
	once    sync.Once
	cl      *cluster
	clErr   error // why there is no cluster: the tests that need one skip with it
	dbSeq   atomic.Int64

	prepare func(url string) error // readies the template (SetTemplate)
)

// SetTemplate makes each new test database a copy of one readied once by
// prepare (a migrated schema, say), which is much faster than readying
// each. Call it before the first test database is made.
func SetTemplate(p func(url string) error) { prepare = p }

// Main runs the package's tests and then stops the cluster, if a test
// started one.
func Main(m *testing.M) int {
	mainRan.Store(true)
	useSecretKey()
	code := m.Run()
	if cl != nil {
		cl.stop()
	}
	return code
}

// useSecretKey gives the package's test databases one key: a PostgreSQL
// database keeps its secrets under ONEDESK_SECRET_KEY (store/secrets.go).
// A benchmark's database (ONEDESK_BENCH_DB) keeps its own key beside it.
func useSecretKey() {
	if os.Getenv("ONEDESK_SECRET_KEY") != "" {
		return
	}
	if bench := os.Getenv("ONEDESK_BENCH_DB"); bench != "" {
		if key, err := os.ReadFile(bench + ".key"); err == nil {
			os.Setenv("ONEDESK_SECRET_KEY", strings.TrimSpace(string(key)))
			return
		}
	}
	key := make([]byte, 32)
	rand.Read(key)
	os.Setenv("ONEDESK_SECRET_KEY", base64.StdEncoding.EncodeToString(key))
}

// Twice runs the package's tests once on SQLite and, when PostgreSQL is
// installed, once more on it: Data gives each test its database on the
// pass's engine. A package's tests stay engine-blind (the differences
// belong in store), and a test body is not wrapped or repeated.
// ONEDESK_TEST_ENGINES=sqlite or =postgres runs one pass only.
func Twice(m *testing.M) int {
	mainRan.Store(true)
	useSecretKey()
	engines := os.Getenv("ONEDESK_TEST_ENGINES")
	if fuzzing() {
		// Fuzzing is of parsers, not engines; and a cluster started in a
		// fuzz worker would hold the coordinator's pipe open after the
		// worker ends, so the coordinator would wait for ever.
		return m.Run()
	}
	code := 0
	if engines != "postgres" {
		code = m.Run()
	}
	if engines != "sqlite" {
		once.Do(func() { cl, clErr = startCluster() })
		if clErr != nil {
			fmt.Printf("storetest: PostgreSQL pass skipped: %v\n", clErr)
		} else {
			fmt.Println("storetest: the same tests on PostgreSQL")
			pgPass.Store(true)
			if c := m.Run(); c != 0 {
				code = c
			}
		}
	}
	if cl != nil {
		cl.stop()
	}
	return code
}

// fuzzing tells whether the test binary runs `go test -fuzz` (as the
// coordinator or one of its workers).
func fuzzing() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	for _, name := range []string{"test.fuzz", "test.fuzzworker"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" && f.Value.String() != "false" {
			return true
		}
	}
	return false
}

// OnPostgres tells whether Twice's PostgreSQL pass is running.
func OnPostgres() bool { return pgPass.Load() }

// Data is where t's new empty database lives on the pass's engine: a
// SQLite file in t's temporary directory, or a fresh PostgreSQL database.
func Data(t testing.TB) string {
	t.Helper()
	if OnPostgres() {
		t.Log("on PostgreSQL") // shown with a failure, to tell the passes apart
		return PostgresURL(t)
	}
	return filepath.Join(t.TempDir(), "t.db")
}

// SQLiteOnly skips t on the PostgreSQL pass, saying why: for a test of
// SQLite itself (its file, its crash recovery), not for a difference a
// test happens to meet, which store must settle.
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if OnPostgres() {
		t.Skip("SQLite only: " + why)
	}
}

// PostgresURL returns the URL of a new empty database in the package's
// cluster, dropped when t ends. It skips t, saying why, when PostgreSQL is
// not installed (Debian's postgresql package) or will not start.
func PostgresURL(t testing.TB) string {
	t.Helper()
	if !mainRan.Load() {
		t.Fatal("storetest.PostgresURL needs the package's TestMain to run storetest.Main")
	}
	once.Do(func() { cl, clErr = startCluster() })
	if clErr != nil {
		t.Skipf("PostgreSQL tests skipped: %v", clErr)
	}
	spareOnce.Do(func() { go makeSpares() })
	var db spare
	select {
	case db = <-spares:
	case <-time.After(2 * time.Minute):
		t.Fatal("no test database within 2 minutes")
	}
	if db.err != nil {
		t.Fatalf("create test database: %v", db.err)
	}
	// Dropped in the background (the test need not wait): the cluster,
	// and so every database left, goes at Main's end anyway.
	t.Cleanup(func() {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+db.name+" WITH (FORCE)")
		}()
	})
	return cl.url(db.name)
}

// A database is made before a test asks for it, while the one before
// runs: making one (a copy of the template, or an empty one) costs a
// checkpoint's worth of file work that would otherwise add to each test.
var (
	spares    = make(chan spare, 1)
	spareOnce sync.Once
	admin     *sql.DB // the cluster's maintenance connection pool
)

type spare struct {
	name string
	err  error
}

func makeSpares() {
	var err error
	if admin, err = sql.Open("pgx", cl.url("postgres")); err != nil {
		for {
			spares <- spare{err: err}
		}
	}
	ctx := context.Background()
	create := "CREATE DATABASE %s"
	if prepare != nil {
		if err := makeTemplate(ctx, admin); err != nil {
			for {
				spares <- spare{err: fmt.Errorf("template database: %w", err)}
			}
		}
		create += " TEMPLATE onedesk_template"
	}
	for {
		name := fmt.Sprintf("t_%d", dbSeq.Add(1))
		_, err := admin.ExecContext(ctx, fmt.Sprintf(create, name))
		spares <- spare{name: name, err: err}
	}
}

// makeTemplate makes and readies the database new ones copy; prepare must
// leave no connection to it open, or the copies are refused.
func makeTemplate(ctx context.Context, admin *sql.DB) error {
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE onedesk_template"); err != nil {
		return err
	}
	return prepare(cl.url("onedesk_template"))
}

type cluster struct {
	dir    string
	port   int
	pgCtl  []string       // the pg_ctl command, through runuser when we are root
	guard  io.WriteCloser // closing it (or our death) stops the cluster
	waitCh chan error
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://onedesk@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// binDir finds the PostgreSQL server binaries: ONEDESK_PG_BIN, else the
// newest of Debian's /usr/lib/postgresql/N/bin, else initdb on PATH.
func binDir() (string, error) {
	if d := os.Getenv("ONEDESK_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("ONEDESK_PG_BIN=%s has no initdb", d)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("initdb not found (install Debian's postgresql package, or set ONEDESK_PG_BIN)")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

func startCluster() (*cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	// PostgreSQL refuses to run as root: run it as the postgres user the
	// package makes.
	var prefix []string
	if os.Geteuid() == 0 {
		if _, err := user.Lookup("postgres"); err != nil {
			return nil, errors.New("running as root and there is no postgres user to run PostgreSQL as")
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return nil, errors.New("running as root and runuser is missing")
		}
		prefix = []string{runuser, "-u", "postgres", "--"}
	}
	// A short path: the server's socket lives in it too.
	dir, err := os.MkdirTemp("", "onedesk-pg-")
	if err != nil {
		return nil, err
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	cmd := func(name string, args ...string) *exec.Cmd {
		argv := append(append(append([]string{}, prefix...), filepath.Join(bin, name)), args...)
		c := exec.Command(argv[0], argv[1:]...)
		c.Dir = dir
		return c
	}
	if out, err := cmd("initdb", "-D", data, "-U", "onedesk", "--auth=trust", "-E", "UTF8", "--no-sync").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	// Durability buys a test nothing; speed does.
	// Another package's cluster may take the free port first: try again.
	var port int
	for try := 1; ; try++ {
		if port, err = freePort(); err != nil {
			return nil, err
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
		out, err := cmd("pg_ctl", "-D", data, "-l", filepath.Join(dir, "log"), "-w", "-t", "120", "-o", opts, "start").CombinedOutput()
		if err == nil {
			break
		}
		if try == 3 {
			log, _ := os.ReadFile(filepath.Join(dir, "log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pg_ctl start: %v: %s %s", err, out, log)
		}
	}
	c := &cluster{dir: dir, port: port, waitCh: make(chan error, 1)}
	// A guard process stops the cluster when its stdin closes: at Main's
	// end, or when the test binary dies (a timeout, kill -9), so no
	// server outlives its tests.
	stop := fmt.Sprintf("cat >/dev/null; %q -D %q -m immediate -w stop >/dev/null 2>&1", filepath.Join(bin, "pg_ctl"), data)
	argv := append(append([]string{}, prefix...), "sh", "-c", stop)
	guard := exec.Command(argv[0], argv[1:]...)
	w, err := guard.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := guard.Start(); err != nil {
		return nil, err
	}
	c.guard = w
	go func() { c.waitCh <- guard.Wait() }()
	return c, nil
}

func (c *cluster) stop() {
	c.guard.Close()
	select {
	case <-c.waitCh:
	case <-time.After(time.Minute):
	}
	os.RemoveAll(c.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
