package embedded

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// buildOpMsg builds an OP_MSG with one body section.
func buildOpMsg(t *testing.T, requestID int32, flagBits uint32, cmd bson.D) []byte {
	t.Helper()
	body, err := bson.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	m := make([]byte, headerLen+4+1, headerLen+4+1+len(body))
	m = append(m, body...)
	binary.LittleEndian.PutUint32(m[0:], uint32(len(m)))
	binary.LittleEndian.PutUint32(m[4:], uint32(requestID))
	binary.LittleEndian.PutUint32(m[12:], opMsg)
	binary.LittleEndian.PutUint32(m[16:], flagBits)
	m[20] = 0 // section kind 0: body
	return m
}

// startProxied starts a server with the proxy on a loopback port.
func startProxied(t *testing.T) *Server {
	t.Helper()
	s, err := Start(t.Context(), Config{Dir: t.TempDir(), TCP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URI(), "mongodb://127.0.0.1:") {
		t.Fatalf("URI = %q, want the proxy's loopback address", s.URI())
	}
	return s
}

func dialProxy(t *testing.T, s *Server) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.proxy.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

func TestProxyFraming(t *testing.T) {
	s := startProxied(t)
	defer s.Close()

	t.Run("request and reply", func(t *testing.T) {
		c := dialProxy(t, s)
		// Two requests written at once, the first in two pieces: the
		// proxy frames by length, not by read.
		a := buildOpMsg(t, 7, 0, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
		b := buildOpMsg(t, 8, 0, bson.D{{Key: "buildInfo", Value: 1}, {Key: "$db", Value: "admin"}})
		if _, err := c.Write(a[:5]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
		if _, err := c.Write(append(a[5:], b...)); err != nil {
			t.Fatal(err)
		}
		for _, want := range []int32{7, 8} {
			m, err := readMessage(c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := int32(binary.LittleEndian.Uint32(m[8:])); got != want || !isOpMsg(m) {
				t.Fatalf("reply responseTo %d, opCode %d; want %d, OP_MSG", got, binary.LittleEndian.Uint32(m[12:]), want)
			}
			var doc struct{ Ok float64 }
			if err := bson.Unmarshal(m[headerLen+5:], &doc); err != nil || doc.Ok != 1 {
				t.Fatalf("reply to %d: %+v, %v", want, doc, err)
			}
		}
	})

	for _, tc := range []struct {
		name string
		msg  func() []byte
	}{
		{"moreToCome", func() []byte {
			return buildOpMsg(t, 9, flagMoreToCome, bson.D{{Key: "ping", Value: 1}, {Key: "$db", Value: "admin"}})
		}},
		{"short length", func() []byte { return []byte{8, 0, 0, 0, 0, 0, 0, 0} }},
		{"huge length", func() []byte { return binary.LittleEndian.AppendUint32(nil, maxMessageLen+1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialProxy(t, s)
			if _, err := c.Write(tc.msg()); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && (err == nil || !strings.Contains(err.Error(), "reset")) {
				t.Fatalf("read after a refused message: %v, want the connection closed", err)
			}
		})
	}
	// The server is unharmed.
	roundTrip(t, s.URI(), "after")
}

// TestProxyOneAtATime checks that a request waits while another one is
// in flight (the proxy's turn held).
func TestProxyOneAtATime(t *testing.T) {
	s := startProxied(t)
	defer s.Close()
	done := make(chan error, 1)
	s.proxy.turn.Lock()
	go func() {
		c, err := mongo.Connect(options.Client().ApplyURI(s.URI()).SetServerSelectionTimeout(10 * time.Second))
		if err != nil {
			done <- err
			return
		}
		defer func() { _ = c.Disconnect(t.Context()) }()
		done <- c.Database("embedded_test").RunCommand(t.Context(), bson.D{{Key: "ping", Value: 1}}).Err()
	}()
	select {
	case err := <-done:
		s.proxy.turn.Unlock()
		t.Fatalf("a request ran while another one was in flight (err %v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	s.proxy.turn.Unlock()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the request did not run after the one in flight ended")
	}
}

func TestProxyClose(t *testing.T) {
	s := startProxied(t)
	c := dialProxy(t, s)
	// A connection idle in the middle of a request does not hold up Close.
	if _, err := c.Write([]byte{100, 0, 0, 0}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close hung on a proxied connection")
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("proxied connection still open after Close")
	}
}
