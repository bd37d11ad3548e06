package embedded

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

// MongoDB wire protocol framing (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/):
// every message starts with a 16-byte header — messageLength (int32,
// little-endian, the header included), requestID, responseTo, opCode — and
// an OP_MSG continues with a uint32 of flag bits.
const (
	headerLen = 16
	opMsg     = 2013

	flagMoreToCome = 1 << 1

	// maxMessageLen is MongoDB's maxMessageSizeBytes, which FerretDB
	// advertises too.
	maxMessageLen = 48_000_000
)

// proxy serves the TCP listener of [Config.TCP] and forwards the MongoDB
// wire protocol messages it receives to FerretDB's socket, one connection
// upstream per connection accepted. Requests run one at a time, across all
// connections: the proxy holds turn from the moment a whole request is read
// until the whole reply is, so that FerretDB v1, which executes a
// conditional update as a read followed by a write, never interleaves two
// clients' updates, as MongoDB never does.
//
// FerretDB answers every request with exactly one reply. A request with
// moreToCome set expects no reply; FerretDB would send one anyway and the
// connection would fall out of step, so such requests are refused by
// closing the connection. exhaustAllowed is forwarded as it is: FerretDB
// ignores it, and should a reply carry moreToCome, the replies that
// follow are relayed, still in the request's turn, up to the one without
// it.
type proxy struct {
	upstream string // FerretDB's Unix socket
	log      *slog.Logger
	turn     sync.Mutex // held by the request in flight

	mu     sync.Mutex
	closed bool
	ln     net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newProxy(upstream string, log *slog.Logger) *proxy {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &proxy{upstream: upstream, log: log, conns: map[net.Conn]struct{}{}}
}

// serve accepts connections on ln until close.
func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = ln.Close()
		return
	}
	p.ln = ln
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					continue
				}
				return
			}
			if !p.track(c) {
				_ = c.Close()
				return
			}
			go func() {
				defer p.wg.Done()
				defer p.untrack(c)
				p.handle(c)
			}()
		}
	}()
}

// track registers a connection (and a goroutine for wg), or reports false
// once the proxy is closed.
func (p *proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	p.wg.Add(1)
	return true
}

// untrack forgets and closes a connection.
func (p *proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// close stops accepting, closes every connection and waits for their
// goroutines.
func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		_ = p.ln.Close()
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// handle relays one client connection until either side closes it or it
// breaks the protocol.
func (p *proxy) handle(c net.Conn) {
	up, err := net.Dial("unix", p.upstream)
	if err != nil {
		p.log.Error("FerretDB proxy: cannot reach FerretDB", "err", err)
		return
	}
	// Registered so that close also ends a read blocked upstream.
	p.mu.Lock()
	p.conns[up] = struct{}{}
	p.mu.Unlock()
	defer p.untrack(up)

	cr, ur := bufio.NewReader(c), bufio.NewReader(up)
	var buf, rbuf []byte
	for {
		buf, err = readMessage(cr, buf)
		switch {
		case errors.Is(err, errFraming):
			p.log.Warn("FerretDB proxy: dropping a client connection", "err", err)
			return
		case err != nil:
			// The client went away, possibly mid-message (killed).
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.log.Debug("FerretDB proxy: client connection ended", "err", err)
			}
			return
		}
		if isOpMsg(buf) && flags(buf)&flagMoreToCome != 0 {
			p.log.Warn("FerretDB proxy: dropping a client connection: requests without a reply (moreToCome) are not supported")
			return
		}
		rbuf, err = p.exchange(c, up, ur, buf, rbuf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				p.log.Warn("FerretDB proxy: dropping a client connection", "err", err)
			}
			return
		}
	}
}

// exchange forwards one request and relays its reply (or replies), holding
// turn until the last reply has been read from FerretDB.
func (p *proxy) exchange(c, up net.Conn, ur *bufio.Reader, req, rbuf []byte) ([]byte, error) {
	p.turn.Lock()
	locked := true
	defer func() {
		if locked {
			p.turn.Unlock()
		}
	}()
	if _, err := up.Write(req); err != nil {
		return rbuf, fmt.Errorf("forwarding a request: %w", err)
	}
	for {
		var err error
		rbuf, err = readMessage(ur, rbuf)
		if err != nil {
			return rbuf, fmt.Errorf("reading FerretDB's reply: %w", err)
		}
		more := isOpMsg(rbuf) && flags(rbuf)&flagMoreToCome != 0
		if !more {
			// The reply is whole in memory: the client may read it at
			// its own pace without holding up anyone.
			p.turn.Unlock()
			locked = false
		}
		if _, err := c.Write(rbuf); err != nil {
			return rbuf, fmt.Errorf("relaying a reply: %w", err)
		}
		if !more {
			return rbuf, nil
		}
	}
}

// errFraming marks a message whose length header is out of bounds.
var errFraming = errors.New("not a MongoDB wire protocol message")

// readMessage reads one whole message into buf (grown as needed).
func readMessage(r io.Reader, buf []byte) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return buf, err
	}
	n := int(int32(binary.LittleEndian.Uint32(h[:])))
	if n < headerLen || n > maxMessageLen {
		return buf, fmt.Errorf("%w: message length %d is outside [%d, %d]", errFraming, n, headerLen, maxMessageLen)
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	copy(buf, h[:])
	if _, err := io.ReadFull(r, buf[4:]); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf, nil
}

func isOpMsg(m []byte) bool {
	return len(m) >= headerLen+4 && binary.LittleEndian.Uint32(m[12:16]) == opMsg
}

func flags(m []byte) uint32 { return binary.LittleEndian.Uint32(m[16:20]) }
