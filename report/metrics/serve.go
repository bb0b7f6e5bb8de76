package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Server serves an Exporter on /metrics.
type Server struct {
	// Addr is the address it listens on, with the port chosen when the
	// one asked for was 0.
	Addr string
	srv  *http.Server
	done chan error
}

// AddrError is an address --metrics cannot take (an argument error, not a
// runtime one).
type AddrError struct{ Addr, Why string }

func (e *AddrError) Error() string {
	return fmt.Sprintf("--metrics %q: %s (expected HOST:PORT, for example 127.0.0.1:9464)", e.Addr, e.Why)
}

// Serve listens on addr (HOST:PORT; port 0 picks a free one) and serves x
// as Prometheus text, or OpenMetrics when the scraper asks for it, on
// /metrics. It returns once listening; Close stops it.
func Serve(addr string, x *Exporter) (*Server, error) {
	if _, port, err := net.SplitHostPort(addr); err != nil {
		return nil, &AddrError{addr, err.Error()}
	} else if port == "" {
		return nil, &AddrError{addr, "no port"}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(x.Registry(), promhttp.HandlerOpts{EnableOpenMetrics: true}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintln(w, "lunbench: metrics on /metrics")
	})
	s := &Server{Addr: ln.Addr().String(), srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}, done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s, nil
}

// Close stops the server, letting a scrape under way finish (up to 2 s).
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serr := <-s.done; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
