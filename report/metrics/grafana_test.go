package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestGrafanaDashboard checks the shipped Grafana dashboard: it parses,
// every panel queries something, and every lunbench_ metric it names is
// one the exporter serves (a histogram's _bucket series included), so a
// renamed metric cannot leave a panel empty.
func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	served := map[string]bool{}
	ch := make(chan *prometheus.Desc, 64)
	New(nil).Describe(ch)
	close(ch)
	nameRe := regexp.MustCompile(`fqName: "([^"]+)"`)
	for desc := range ch {
		if m := nameRe.FindStringSubmatch(desc.String()); m != nil {
			served[m[1]] = true
		}
	}
	used := regexp.MustCompile(`lunbench_[a-z_]+`)
	if len(d.Panels) < 10 {
		t.Errorf("%d panels; the terminal dashboard has more views than that", len(d.Panels))
	}
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			for _, name := range used.FindAllString(tg.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(name, "_bucket"), "_sum"), "_count")
				if !served[name] && !served[base] {
					t.Errorf("panel %q queries %s, which the exporter does not serve", p.Title, name)
				}
			}
		}
	}
}
