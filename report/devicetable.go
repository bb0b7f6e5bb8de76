package report

import (
	"fmt"
	"math"
	"strings"
)

// DeviceStats is what one device did during one phase, from diskstats.csv:
// the means of the iostat columns over the samples inside the phase, the
// awaits weighted by their I/O rates (as iostat's would be over the whole
// span).
type DeviceStats struct {
	Phase, Target, Device string
	// Role is "lun", "path" (a multipath leg) or "fs" (the disk under a
	// file target, shared with the rest of the host).
	Role                  string
	Rs, Ws, MiBs          float64
	RAwait, WAwait, AquSz float64
	Util                  float64
	Samples               int
}

// deviceStats sums up diskstats.csv per phase × target × device, in phase
// order and the order devices first appear.
func (d *runData) deviceStats() []DeviceStats {
	var out []DeviceStats
	for _, ph := range d.phaseSpans() {
		type acc struct {
			n                        int
			rs, ws, kb, ra, wa, q, u float64
			role                     string
		}
		var keys [][2]uint32
		sums := map[[2]uint32]*acc{}
		for i := range d.disk {
			r := &d.disk[i]
			x := d.x(r.time()) - r.Interval/2
			if x < ph.X0 || x > ph.X1 {
				continue
			}
			k := [2]uint32{r.Target, r.Device}
			a := sums[k]
			if a == nil {
				a = &acc{role: "lun"}
				switch {
				case r.Path:
					a.role = "path"
				case r.FS:
					a.role = "fs"
				}
				sums[k] = a
				keys = append(keys, k)
			}
			a.n++
			a.rs += nz(r.Rs)
			a.ws += nz(r.Ws)
			a.kb += nz(r.RkBs) + nz(r.WkBs)
			a.ra += nz(r.RAwait) * nz(r.Rs)
			a.wa += nz(r.WAwait) * nz(r.Ws)
			a.q += nz(r.AquSz)
			a.u += nz(r.Util)
		}
		for _, k := range keys {
			a := sums[k]
			n := float64(a.n)
			out = append(out, DeviceStats{Phase: ph.Label, Target: d.targetName(d.diskNames[k[0]]), Device: d.diskNames[k[1]],
				Role: a.role, Rs: a.rs / n, Ws: a.ws / n, MiBs: a.kb / n / 1024,
				RAwait: ratio(a.ra, a.rs), WAwait: ratio(a.wa, a.ws), AquSz: a.q / n, Util: a.u / n, Samples: a.n})
		}
	}
	return out
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// docDevice is a DeviceStats row as the documents print it.
type docDevice struct{ Phase, Target, Device, Role, Rs, Ws, MiBs, RAwait, WAwait, AquSz, Util string }

func docDevices(ds []DeviceStats) []docDevice {
	ms := func(v float64) string {
		if math.IsNaN(v) {
			return "-"
		}
		return fmt.Sprintf("%.2f", v)
	}
	var out []docDevice
	for _, s := range ds {
		role := s.Role
		if role == "fs" {
			role = "fs (shared)"
		}
		out = append(out, docDevice{Phase: s.Phase, Target: s.Target, Device: s.Device, Role: role,
			Rs: Thousands(s.Rs), Ws: Thousands(s.Ws), MiBs: f1(s.MiBs), RAwait: ms(s.RAwait), WAwait: ms(s.WAwait),
			AquSz: fmt.Sprintf("%.2f", s.AquSz), Util: fmt.Sprintf("%.1f", s.Util)})
	}
	return out
}

// markdownDevices writes the per-phase device table.
func (o *doc) markdownDevices(b *strings.Builder) {
	if len(o.Devices) == 0 {
		return
	}
	b.WriteString("## Devices per phase\n\nMeans of the iostat columns over each phase, from diskstats.csv; awaits in ms, weighted by the I/O rate. " +
		"A filesystem device (fs) is shared: other processes' I/O is included.\n\n")
	var rows [][]string
	for _, s := range o.Devices {
		rows = append(rows, []string{s.Phase, s.Target, s.Device, s.Role, s.Rs, s.Ws, s.MiBs, s.RAwait, s.WAwait, s.AquSz, s.Util})
	}
	mdTable(b, []string{"phase", "target", "device", "role", "r/s", "w/s", "MiB/s", "r_await", "w_await", "aqu-sz", "%util"}, rows)
}
