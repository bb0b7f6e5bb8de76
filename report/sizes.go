package report

import (
	"fmt"
	"strings"

	"lunbench/scenarios"
)

// docSize is one block size of a mixed phase × target × op.
type docSize struct{ Phase, Target, Op, BS, Mix, Got, IOPS, MiBs string }

// sizeRows lists every block size of every mixed phase × target × op.
func sizeRows(r *RunJSON) []docSize {
	var out []docSize
	for _, p := range r.Phases {
		for _, s := range p.Sizes {
			got := "-"
			if p.Ops > 0 {
				got = fmt.Sprintf("%.1f%%", float64(s.Ops)*100/float64(p.Ops))
			}
			out = append(out, docSize{Phase: p.Phase, Target: p.Target, Op: p.Op.String(), BS: scenarios.FormatSize(s.BS),
				Mix: fmt.Sprintf("%d%%", s.Pct), Got: got, IOPS: Thousands(s.IOPS), MiBs: fmt.Sprintf("%.1f", s.MBps)})
		}
	}
	return out
}

// markdownSizes writes the block-size mix section, when a phase had one.
func (o *doc) markdownSizes(b *strings.Builder) {
	if len(o.Sizes) == 0 {
		return
	}
	b.WriteString("## Block-size mix\n\nPer block size of each mixed phase: the share the scenario asked for, the share of I/Os it got, IOPS and MiB/s (ramp excluded).\n\n")
	var rows [][]string
	for _, s := range o.Sizes {
		rows = append(rows, []string{s.Phase, s.Target, s.Op, s.BS, s.Mix, s.Got, s.IOPS, s.MiBs})
	}
	mdTable(b, []string{"phase", "target", "op", "bs", "mix", "share of I/Os", "IOPS", "MiB/s"}, rows)
}
