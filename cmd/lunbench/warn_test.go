package main

import (
	"bytes"
	"testing"
)

// TestHeldWarnings: a warning goes to stderr at once in line mode, and
// waits while the dashboard owns the terminal, coming out on release.
func TestHeldWarnings(t *testing.T) {
	var stderr bytes.Buffer
	h := &heldWarnings{w: &stderr}
	h.warn("one")
	if got := stderr.String(); got != "lunbench: warning: one\n" {
		t.Fatalf("line mode: %q", got)
	}
	stderr.Reset()
	h.hold()
	h.warn("two")
	if stderr.Len() != 0 {
		t.Fatalf("a warning reached the terminal under the dashboard: %q", stderr.String())
	}
	h.release()
	h.release() // a second release (deferred and at the end) prints nothing more
	if got := stderr.String(); got != "lunbench: warning: two\n" {
		t.Fatalf("after the dashboard: %q", got)
	}
}
