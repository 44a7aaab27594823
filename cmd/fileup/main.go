// Command fileup uploads files to the kie.ai and evolink.ai File Upload
// APIs (or any server speaking them), reads evolink's quota, runs fileup's
// reference server, and load-tests a server.
//
// Usage:
//
//	fileup upload [flags] FILE...          stream files through wrapper/, print URLs
//	fileup upload --base64 [flags] FILE... the same with the Base64 upload
//	fileup upload --from-url URL [flags]   the server downloads the file
//	fileup quota [flags]                   evolink's file quota
//	fileup serve [flags]                   run the reference server (both APIs)
//	fileup bench [flags]                   bounded load test with integrity checks
//
// Run "fileup COMMAND -h" for a command's flags. Exit status: 0 success,
// 1 failure, 2 usage error.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// errUsage marks a command-line mistake (exit 2); the command has already
// printed what was wrong.
var errUsage = errors.New("usage error")

// command is one subcommand.
type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error
}

var commands = []command{
	{"upload", "upload files (streaming, with progress), or a file from a URL", runUpload},
	{"quota", "show the API key's file quota (evolink)", runQuota},
	{"serve", "run the reference server for both APIs", runServe},
	{"bench", "load-test a server and verify every upload", runBench},
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "fileup: upload to and serve the kie.ai / evolink.ai File Upload APIs\n\nUsage:\n  fileup COMMAND [flags] [args]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'fileup COMMAND -h' for a command's flags.\n")
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes the command line and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdin, stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.Is(err, errUsage):
			return exitUsage
		default:
			fmt.Fprintf(stderr, "fileup %s: %v\n", c.name, err)
			return exitFailure
		}
	}
	fmt.Fprintf(stderr, "fileup: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

// newFlagSet returns a FlagSet that reports errors as errUsage.
func newFlagSet(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("fileup "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: fileup %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags; -h is flag.ErrHelp, any other mistake errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// usageErr prints a usage message and returns errUsage.
func usageErr(fs *flag.FlagSet, format string, a ...any) error {
	fmt.Fprintf(fs.Output(), "%s: %s\n", fs.Name(), fmt.Sprintf(format, a...))
	fs.Usage()
	return errUsage
}

// envOr returns the environment variable's value, or def.
func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
