// Command fakefeedd stands in for feedd in feeddproc's tests: it serves
// /healthz on --http and behaves as its flags say.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("http", "", "listen address")
	exit := flag.Int("exit", -1, "exit at once with this status (-1: serve)")
	unhealthy := flag.Bool("unhealthy", false, "answer /healthz 503")
	ignoreTerm := flag.Bool("ignore-term", false, "ignore SIGTERM")
	termStatus := flag.Int("term-status", 0, "exit status after SIGTERM")
	say := flag.String("say", "", "a line to print at start")
	flag.Parse()
	fmt.Println("fakefeedd starting", *say, os.Getenv("FAKEFEEDD_ENV"))
	fmt.Fprintln(os.Stderr, "fakefeedd stderr line")
	if *exit >= 0 {
		fmt.Println("fakefeedd exiting with", *exit)
		os.Exit(*exit)
	}
	ctx := context.Background()
	if *ignoreTerm {
		signal.Ignore(syscall.SIGTERM)
	} else {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, syscall.SIGTERM)
		defer stop()
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if *unhealthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: time.Second}
	go func() {
		<-ctx.Done()
		_ = srv.Shutdown(context.Background())
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Println("fakefeedd:", err)
		os.Exit(2)
	}
	fmt.Println("fakefeedd stopped cleanly")
	os.Exit(*termStatus)
}
