// Command ferretserver runs FerretDB (SQLite backend) on a loopback port for
// the mongo package's tests and prints its MongoDB URI on the first line of
// its standard output; it stops when its standard input closes (the test
// process ended) or on SIGTERM.
//
// The tests run it as a separate process, built without the race detector:
// under -race FerretDB's debug build records a stack trace for every
// iterator it opens, a fifth of the package's CPU, and the race detector
// slows the rest of it, while what the tests check is the mongo package
// and the driver, not FerretDB.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dir := flag.String("data", "", "directory of the SQLite databases (required)")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "ferretserver: -data is required")
		os.Exit(2)
	}
	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Handler:   "sqlite",
		SQLiteURL: "file:" + *dir + "/",
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferretserver:", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()
	fmt.Println(f.MongoDBURI())
	<-done
}
