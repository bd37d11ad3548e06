// Command ferretdb-server is the MongoDB-compatible server the integration
// tests run in a container when no MongoDB image can be pulled: FerretDB
// v1 on SQLite in-process ([github.com/rosterhq/roster/internal/embedded],
// the mongo store's test double) listening on TCP.
//
// Clients reach FerretDB through the embedded package's wire-protocol
// proxy, which runs one request at a time. FerretDB v1 executes a
// conditional update as a read followed by a write; without the proxy two
// Roster processes updating one document at once could both pass its
// condition, which MongoDB itself never allows. With it the server behaves,
// for Roster's single-document writes, like MongoDB does.
//
// It is built as a static binary (CGO_ENABLED=0) and copied into a FROM
// scratch image; see the Dockerfile beside this file and .ci/run.
//
// Usage:
//
//	ferretdb-server [--addr 0.0.0.0:27017] [--data /data]
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/rosterhq/roster/internal/embedded"
)

func main() {
	addr := flag.String("addr", "0.0.0.0:27017", "TCP address to listen on")
	data := flag.String("data", "/data", "data directory (SQLite databases)")
	debug := flag.Bool("debug", false, "log every FerretDB record, not only errors")
	flag.Parse()

	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	srv, err := embedded.Start(ctx, embedded.Config{Dir: *data, Logger: log, TCP: *addr})
	if err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %v\n", err)
		os.Exit(1)
	}
	// The same words as mongod's start-up line, for tools that wait for it.
	fmt.Printf("Waiting for connections on %s (data in %s)\n", *addr, srv.Dir())

	<-ctx.Done()
	fmt.Println("Shutting down")
	if err := srv.Close(); err != nil {
		fmt.Fprintf(os.Stderr, "ferretdb-server: %v\n", err)
		os.Exit(1)
	}
}
