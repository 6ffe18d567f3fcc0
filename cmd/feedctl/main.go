package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// env is what a command may touch, so tests can run commands in process.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	client *http.Client
}

// cmdFunc runs one command with the arguments after its name.
type cmdFunc func(ctx context.Context, e *env, args []string) error

type command struct {
	summary string
	run     cmdFunc
}

// commands are feedctl's subcommands ("help" is built in).
var commands = map[string]command{
	"token":   {"print a signed access token for a user (or a service)", cmdToken},
	"publish": {"POST events from a file or stdin to /v1/events in batches", cmdPublish},
	"feed":    {"fetch and print one page of a user's feed", cmdFeed},
	"migrate": {"create the Cassandra keyspace and apply the CQL migrations (idempotent)", cmdMigrate},
	"topics":  {"create the Kafka topics (idempotent)", cmdTopics},
	"rewind":  {"replay the event topic: move the fan-out group to the oldest events", cmdRewind},

	"deadletters": {"list dead letters (reason, event id, source) or replay chosen ones onto the event log", cmdDeadLetters},
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		client: &http.Client{Timeout: 60 * time.Second},
	}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit status.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		help(e.stderr)
		return 2
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 {
			if c, ok := commands[rest[0]]; ok {
				// A command prints its flags on -h.
				_ = c.run(ctx, &env{stdout: e.stdout, stderr: e.stdout, getenv: e.getenv, stdin: e.stdin, client: e.client}, []string{"-h"})
				return 0
			}
			fmt.Fprintf(e.stderr, "feedctl: unknown command %q\n", rest[0])
			return 2
		}
		help(e.stdout)
		return 0
	}
	c, ok := commands[name]
	if !ok {
		fmt.Fprintf(e.stderr, "feedctl: unknown command %q (run feedctl help)\n", name)
		return 2
	}
	err := c.run(ctx, e, rest)
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "feedctl %s: %v (see feedctl help %s)\n", name, err, name)
		return 2
	default:
		fmt.Fprintf(e.stderr, "feedctl %s: %v\n", name, err)
		return 1
	}
}

func help(w io.Writer) {
	fmt.Fprint(w, `feedctl: Lenta admin tool

Usage: feedctl <command> [flags]

Commands:
`)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprint(w, `  help       this text; "feedctl help <command>" lists a command's flags

Tokens are signed with FEED_AUTH_SECRET (or the file given by --secret-file,
such as lenta-data/auth.secret that an embedded feedd keeps). The server
address defaults to FEED_ADDR, else http://127.0.0.1:8080.
`)
}

// newFlags makes a command's flag set; usage goes to e.stderr.
func newFlags(e *env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: feedctl %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and refuses positional arguments.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}
