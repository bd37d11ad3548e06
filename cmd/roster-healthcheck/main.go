// Command roster-healthcheck probes a Roster server's /healthz and exits 0
// when it answers 200 OK, 1 otherwise (no answer within 3 seconds, or any
// other status). It is the container image's HEALTHCHECK: the image is
// built FROM scratch, with no shell, curl or wget, so the probe is a
// static binary of its own beside roster.
//
//	roster-healthcheck [URL]
//
// The URL probed is, in this order: the argument; ROSTER_HEALTHCHECK_URL;
// /healthz on the port of ROSTER_ADDR (the address 'roster serve' listens
// on), on 127.0.0.1 when that address is a wildcard ("0.0.0.0:8080",
// ":8080", "[::]:8080") and on its own host otherwise; else
// http://127.0.0.1:8080/healthz.
//
// It prints one line to stderr when the check fails, which Docker keeps
// in the container's health log (docker inspect).
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// Environment variables the probe reads.
const (
	envURL  = "ROSTER_HEALTHCHECK_URL"
	envAddr = "ROSTER_ADDR"
)

const (
	defaultURL = "http://127.0.0.1:8080/healthz"
	// timeout bounds the whole probe; Docker's own --timeout is the same.
	timeout = 3 * time.Second
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run probes the URL that args and getenv name and returns the exit code.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	if len(args) > 1 {
		fmt.Fprintln(stderr, "usage: roster-healthcheck [URL]")
		return 2
	}
	url, err := target(args, getenv)
	if err != nil {
		fmt.Fprintf(stderr, "roster-healthcheck: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := probe(ctx, url); err != nil {
		fmt.Fprintf(stderr, "roster-healthcheck: %v\n", err)
		return 1
	}
	return 0
}

// target returns the URL to probe.
func target(args []string, getenv func(string) string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	if u := getenv(envURL); u != "" {
		return u, nil
	}
	addr := getenv(envAddr)
	if addr == "" {
		return defaultURL, nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%s=%q: %w", envAddr, addr, err)
	}
	if port == "0" {
		return "", fmt.Errorf("%s=%q picks a free port, which a probe cannot guess: set %s", envAddr, addr, envURL)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		// A wildcard listener on Linux accepts IPv4 loopback connections
		// too ("[::]" is dual-stack unless the kernel says otherwise).
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}

// probe sends GET url and returns nil if the answer is 200 OK.
func probe(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// No proxy: the server probed is this container's own.
	c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
