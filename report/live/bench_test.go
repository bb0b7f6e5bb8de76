package live

import (
	"fmt"
	"testing"
	"time"

	"github.com/gdamore/tcell/v2"
)

// BenchmarkDraw is one redraw of a fed dashboard (40 s of history, three
// disk rows, the overview) on the simulation screen: at 4 Hz the
// dashboard's cost is 4 × this per second, plus tcell's terminal output,
// which scenarios/lab/overhead.sh dashboard measures in a real terminal.
func BenchmarkDraw(b *testing.B) {
	for _, sz := range [][2]int{{80, 24}, {160, 48}, {240, 70}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			s := tcell.NewSimulationScreen("UTF-8")
			if err := s.Init(); err != nil {
				b.Fatal(err)
			}
			defer s.Fini()
			s.SetSize(sz[0], sz[1])
			d := New(s, Options{})
			feed(d)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.draw()
			}
			b.ReportMetric(float64(b.Elapsed())/float64(b.N)*4/float64(time.Second)*100, "%core@4Hz")
		})
	}
}

// BenchmarkAdd is the aggregator's side: one snapshot handed over.
func BenchmarkAdd(b *testing.B) {
	d := New(nil, Options{})
	s := snap(time.Second)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		d.Add(s)
	}
}
