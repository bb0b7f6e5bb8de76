package probe

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// verdict says whether a login came out as expected: "ok", "FAIL", "-"
// when either outcome was acceptable, "??" when the portal did not answer.
func (l Login) verdict() string {
	switch {
	case l.NoAnswer:
		return "??"
	case l.Expected == expectEither:
		return "-"
	case l.Accepted == (l.Expected == expectAccepted):
		return "ok"
	}
	return "FAIL"
}

func (l Login) outcome() string {
	if l.Accepted {
		if len(l.LUNs) > 0 {
			return fmt.Sprintf("accepted, LUN %s", joinLUNs(l.LUNs))
		}
		return "accepted"
	}
	if l.NoAnswer {
		return "no answer: " + l.Error
	}
	return "refused: " + l.Error
}

// WriteText writes the result for people: discovery, the login matrix and
// LUNs per target and portal, the NOP-Out latency, then the findings in
// check's form. color adds ANSI colours to the findings.
func (r *Result) WriteText(w io.Writer, color bool) error {
	var b strings.Builder
	b.WriteString("lunbench probe: iSCSI access control over the wire\n\nDiscovery:\n")
	for _, d := range r.Discovery {
		auth := "no authentication"
		if d.NeedsAuth {
			auth = "CHAP"
		}
		if d.Error != "" {
			fmt.Fprintf(&b, "  %s  failed: %s\n", d.Portal, d.Error)
			continue
		}
		fmt.Fprintf(&b, "  %s  %s, %d target(s)\n", d.Portal, auth, len(d.Targets))
	}
	for _, t := range r.Targets {
		fmt.Fprintf(&b, "\nTarget %s\n", t.IQN)
		for _, pr := range t.Portals {
			writePortal(&b, pr)
		}
	}
	b.WriteString("\nFindings:\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	return r.Report().WriteFindings(w, color)
}

func writePortal(b *strings.Builder, pr PortalResult) {
	fmt.Fprintf(b, "  portal %s", pr.Portal)
	if pr.TPGT != "" {
		fmt.Fprintf(b, " (portal group %s)", pr.TPGT)
	}
	if len(pr.Redirected) > 0 {
		fmt.Fprintf(b, ", redirected to %s", strings.Join(pr.Redirected, " -> "))
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    \tinitiator\tlogin\texpected\tresult")
	for _, l := range pr.Logins {
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\n", l.verdict(), l.Initiator, l.Auth, l.Expected, l.outcome())
	}
	tw.Flush()
	if len(pr.LUs) > 0 {
		tw = tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "    LUN\ttype\tvendor\tproduct\trev\tserial\tWWID\tcapacity")
		for _, lu := range pr.LUs {
			capacity := "-"
			if lu.Bytes > 0 {
				capacity = fmt.Sprintf("%s (%d x %d B)", FormatBytes(lu.Bytes), lu.Bytes/uint64(lu.BlockSize), lu.BlockSize)
			}
			fmt.Fprintf(tw, "    %d\t0x%02x\t%s\t%s\t%s\t%s\t%s\t%s\n", lu.LUN, lu.DeviceType, dash(lu.Vendor), dash(lu.Product), dash(lu.Revision), dash(lu.Serial), dash(lu.WWID), capacity)
		}
		tw.Flush()
	}
	if l := pr.Latency; l != nil {
		fmt.Fprintf(b, "    NOP-Out round trip over %d pings: min %s  p50 %s  p99 %s  max %s\n", l.N, us(l.Min), us(l.P50), us(l.P99), us(l.Max))
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// FormatBytes writes a capacity in binary units (64.0 MiB).
func FormatBytes(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
