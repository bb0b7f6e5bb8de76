package preflight

import (
	"flag"
	"os"
	"testing"
	"time"
)

var realRoot = flag.String("real", "", "run the preflight against this root (\"/\" for the machine) and print it")

// TestRealRoot prints what `lunbench check` would say about a real root:
// go test ./collect/preflight -run TestRealRoot -real / -v
func TestRealRoot(t *testing.T) {
	if *realRoot == "" {
		t.Skip("set -real ROOT")
	}
	r := Run(*realRoot, nil, time.Now())
	if err := r.WriteText(os.Stdout, false); err != nil {
		t.Fatal(err)
	}
	t.Logf("exit code %d", r.ExitCode())
}
