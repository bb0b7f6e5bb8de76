package probe_test

import (
	"context"
	"io"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"lunbench/iscsi/probe"
)

// The login watch on a fake clock: a portal that answers no login for the
// first 2.5 s after the inject, then accepts them. Each attempt gives up
// after 1 s; the tick that came meanwhile starts the next at once, so the
// portal is seen back at the first attempt that starts after 2.5 s.
func TestWatchLoginsFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := &promiscuous{}
		inject := time.Now()
		down := 2500 * time.Millisecond
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			client, server := net.Pipe()
			if time.Since(inject) < down {
				go func() { io.Copy(io.Discard, server) }() // accepts, says nothing
			} else {
				go func() { defer server.Close(); f.serve(server) }()
			}
			return client, nil
		}
		cfg := probe.Config{Portals: []string{"198.18.0.1"}, Dialer: dial}
		w := probe.WatchLogins(context.Background(), cfg, "iqn.2026-11.test:lbprb.t", inject, probe.WatchOptions{})
		if !w.Recovered || w.Failures != 3 || w.Attempts != 4 {
			t.Fatalf("watch %+v: expected 3 failed logins (at 0, 1 and 2 s), then one accepted", w)
		}
		// The fourth attempt starts at 3 s and succeeds at once (the fake
		// clock does not move while nothing sleeps).
		if w.Back != 3*time.Second {
			t.Errorf("back after %s, expected 3s", w.Back)
		}
		if w.Slowest != time.Second {
			t.Errorf("slowest login %s, expected the 1 s timeout", w.Slowest)
		}
	})
}
