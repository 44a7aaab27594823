package catalog_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/fileup/fileup/catalog"
	"github.com/fileup/fileup/catalog/catalogtest"
)

// crashEnv names the SQLite DSN a child process of TestSQLiteKill commits
// to until it is killed.
const crashEnv = "FILEUP_CATALOG_CRASH_DSN"

var crashTime = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)

// crashFile is the i-th file the child commits.
func crashFile(i int) catalog.File {
	s := strconv.Itoa(i)
	return catalog.File{ID: "id" + s, Tenant: "t", Path: "p", Name: "n" + s, Link: "l" + s, Object: "o" + s, Size: 1, Created: crashTime}
}

// TestSQLiteKill: a process killed with SIGKILL loses no commit it was
// told had succeeded, and leaves the database consistent.
func TestSQLiteKill(t *testing.T) {
	if dsn := os.Getenv(crashEnv); dsn != "" {
		commitUntilKilled(dsn)
		return
	}
	dsn := catalogtest.SQLiteDSN(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestSQLiteKill$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dsn)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it mid-stream, once it has acknowledged 200 commits.
	acked := -1
	lines := bufio.NewScanner(out)
	for acked < 200 && lines.Scan() {
		if n, err := strconv.Atoi(lines.Text()); err == nil {
			acked = n
		}
	}
	_ = cmd.Process.Kill() // SIGKILL; an error means it had exited already
	_ = cmd.Wait()
	if acked < 200 {
		t.Fatalf("the child acknowledged only %d commits", acked)
	}
	c := catalogtest.OpenDSN(t, dsn, catalog.Options{})
	for i := 0; i <= acked; i++ {
		if _, err := c.File(ctx, "t", "p", crashFile(i).Name, crashTime); err != nil {
			t.Fatalf("file %d of %d acknowledged before the kill: %v", i, acked, err)
		}
	}
	u, err := c.Usage(ctx, "t", crashTime)
	if err != nil || u.Files < int64(acked)+1 || u.Files != u.Bytes {
		t.Fatalf("Usage after the kill = %+v, %v; want %d files or more, one byte each", u, err, acked+1)
	}
	write, _ := catalog.DBs(c)
	var check string
	if err := write.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after the kill = %q, %v", check, err)
	}
}

// commitUntilKilled commits files to the catalog at dsn, printing the
// number of each once Commit has returned, until the process is killed.
func commitUntilKilled(dsn string) {
	c, err := catalog.Open(ctx, dsn, catalog.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		f := crashFile(i)
		if err := c.Begin(ctx, catalog.Upload{Object: f.Object, Tenant: "t", Bytes: 1, Lease: crashTime.Add(time.Hour)}, catalog.Limits{}, crashTime); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if _, err := c.Commit(ctx, f, nil, catalog.Limits{}, crashTime); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Println(i)
	}
}
