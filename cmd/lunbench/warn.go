package main

import (
	"bytes"
	"fmt"
	"io"
	"sync"
)

// heldWarnings prints the runner's warnings (an io_uring phase falling
// back to threads) on stderr at once, or, while the dashboard owns the
// terminal, keeps them until it is gone.
type heldWarnings struct {
	mu   sync.Mutex
	w    io.Writer
	held *bytes.Buffer
}

// warn prints or keeps one warning; it is workload.Options.Warn.
func (h *heldWarnings) warn(msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := h.w
	if h.held != nil {
		w = h.held
	}
	fmt.Fprintf(w, "lunbench: warning: %s\n", msg)
}

// hold keeps later warnings until release.
func (h *heldWarnings) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.held = &bytes.Buffer{}
}

// release prints the warnings kept since hold.
func (h *heldWarnings) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.held != nil {
		h.w.Write(h.held.Bytes())
		h.held = nil
	}
}
