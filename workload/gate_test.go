package workload

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"lunbench/scenarios"
)

// TestPhaseGate: the gate is asked before every phase, in order, and an
// error from it ends the run before that phase starts.
func TestPhaseGate(t *testing.T) {
	path := filepath.Join(diskTempDir(t), "g.dat")
	sc, err := scenarios.Parse("g.yaml", []byte("name: gate\ntargets: [{name: f, path: "+path+", size: 1MiB}]\n"+
		"phases: [{name: a, rw: randread, bs: 4k, duration: 100ms}, {name: b, rw: randread, bs: 4k, duration: 100ms}]\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		failAt int // the gate fails before this phase (-1 never)
		want   []string
		ran    int
	}{
		// An open gate: both phases, both asked.
		{"open", -1, []string{"a", "b"}, 2},
		// A gate that fails at the second phase: the first ran, the second did not.
		{"fails", 1, []string{"a", "b"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			var asked []string
			boom := errors.New("coordinator gone")
			gate := func(_ context.Context, idx int, name string) error {
				asked = append(asked, name)
				if idx == c.failAt {
					return boom
				}
				return nil
			}
			r, err := NewRunner(sc, Options{PhaseGate: gate}, &eventLog{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := r.Run(context.Background())
			if c.failAt >= 0 && !errors.Is(err, boom) {
				t.Errorf("Run error = %v, want the gate's", err)
			}
			if c.failAt < 0 && err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(asked, c.want) || res.PhasesRun != c.ran {
				t.Errorf("gate asked for %v, %d phases ran; want %v, %d", asked, res.PhasesRun, c.want, c.ran)
			}
		})
	}
}
