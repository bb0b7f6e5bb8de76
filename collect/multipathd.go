package collect

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// multipathdPathsFormat asks for the path fields sysfs does not have
// (libmultipath/print.c): dev, dm_st, chk_st, dev_st, target WWNN, TPG.
const multipathdPathsFormat = "%d %t %T %o %n %A"

// multipathdTimeout bounds each call: a wedged daemon must not hang a run's
// start. 10 s, not less: on a loaded host (the SAN lab's emulated guest) a
// first exec of multipathd alone took over 3 s.
const multipathdTimeout = 10 * time.Second

// enrich adds multipathd's view to the maps and paths of t. Talking to
// multipathd's socket needs no root for "show" commands. Any failure leaves
// the sysfs view as it is and says why in t.Multipathd.
func (h Host) enrich(t *Topology) {
	run := h.Multipathd
	if run == nil {
		if !h.live() {
			return
		}
		bin, err := exec.LookPath("multipathd")
		if err != nil {
			t.Multipathd = "not installed"
			return
		}
		run = commandRunner(bin)
	}
	ctx, cancel := context.WithTimeout(context.Background(), multipathdTimeout)
	defer cancel()
	mj, err := run(ctx, "show", "maps", "json")
	if err != nil {
		t.Multipathd = "unavailable: " + firstLine(err.Error())
		return
	}
	maps, err := parseMultipathdMaps(mj)
	if err != nil {
		t.Multipathd = "unreadable: " + firstLine(err.Error())
		return
	}
	pt, err := run(ctx, "show", "paths", "format", multipathdPathsFormat)
	if err != nil {
		t.Multipathd = "unavailable: " + firstLine(err.Error())
		return
	}
	paths := parseMultipathdPaths(pt)
	for i := range t.Devices {
		for j := range t.Devices[i].Maps {
			applyMultipathd(&t.Devices[i].Maps[j], maps, paths)
		}
	}
	t.Multipathd = "used"
}

// mpdMap is one map of `multipathd show maps json` (PRINT_JSON_MAP).
type mpdMap struct {
	Name       string `json:"name"`
	Sysfs      string `json:"sysfs"`
	Failback   string `json:"failback"`
	Queueing   string `json:"queueing"`
	DMState    string `json:"dm_st"`
	Features   string `json:"features"`
	HWHandler  string `json:"hwhandler"`
	PathFaults *int   `json:"path_faults"`
	PathGroups []struct {
		Selector string `json:"selector"`
		DMState  string `json:"dm_st"`
		Group    int    `json:"group"`
		Paths    []struct {
			Dev        string `json:"dev"`
			DMState    string `json:"dm_st"`
			DevState   string `json:"dev_st"`
			ChkState   string `json:"chk_st"`
			Pri        *int   `json:"pri"`
			TargetWWNN string `json:"target_wwnn"`
		} `json:"paths"`
	} `json:"path_groups"`
}

func parseMultipathdMaps(b []byte) (map[string]mpdMap, error) {
	var doc struct {
		Maps []mpdMap `json:"maps"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("multipathd show maps json: %w", err)
	}
	out := make(map[string]mpdMap, len(doc.Maps))
	for _, m := range doc.Maps {
		out[m.Sysfs] = m
	}
	return out, nil
}

// mpdPath is one line of `show paths format "%d %t %T %o %n %A"`.
type mpdPath struct{ dm, chk, dev, wwnn, tpg string }

// parseMultipathdPaths reads the padded table multipathd prints. The
// checker state may hold a space ("i/o pending"), so fields are taken from
// both ends.
func parseMultipathdPaths(b []byte) map[string]mpdPath {
	out := map[string]mpdPath{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[0] == "dev" {
			continue // header: dev dm_st chk_st dev_st target WWNN TPG
		}
		n := len(f)
		out[f[0]] = mpdPath{
			dm:   f[1],
			chk:  strings.Join(f[2:n-3], " "),
			dev:  f[n-3],
			wwnn: undef(f[n-2]),
			tpg:  undef(f[n-1]),
		}
	}
	return out
}

func applyMultipathd(m *Map, maps map[string]mpdMap, paths map[string]mpdPath) {
	if mm, ok := maps[m.Device]; ok {
		m.DMState, m.Features, m.HWHandler = mm.DMState, mm.Features, mm.HWHandler
		m.Failback, m.Queueing, m.PathFaults = mm.Failback, mm.Queueing, mm.PathFaults
		for _, g := range mm.PathGroups {
			if m.Selector == "" || g.DMState == "active" {
				m.Selector = g.Selector
			}
			for _, gp := range g.Paths {
				for i := range m.Paths {
					p := &m.Paths[i]
					if p.Device == gp.Dev {
						p.DMState, p.Checker, p.DevState = gp.DMState, gp.ChkState, gp.DevState
						p.TargetWWNN, p.Priority = undef(gp.TargetWWNN), gp.Pri
						p.Group, p.GroupState = g.Group, g.DMState
					}
				}
			}
		}
	}
	for i := range m.Paths {
		p := &m.Paths[i]
		if mp, ok := paths[p.Device]; ok {
			p.DMState, p.Checker, p.DevState = mp.dm, mp.chk, mp.dev
			if mp.wwnn != "" {
				p.TargetWWNN = mp.wwnn
			}
			p.TPG = mp.tpg
		}
	}
}

// commandRunner runs bin with arguments and returns its standard output;
// a failure carries the command's standard error when it wrote one.
func commandRunner(bin string) func(ctx context.Context, args ...string) ([]byte, error) {
	return func(ctx context.Context, args ...string) ([]byte, error) {
		out, err := exec.CommandContext(ctx, bin, args...).Output()
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(bytes.TrimSpace(ee.Stderr)) > 0 {
			err = errors.New(string(ee.Stderr))
		}
		return out, err
	}
}

// undef drops multipathd's placeholders for values it does not know.
func undef(s string) string {
	switch s {
	case "[undef]", "[unknown]", "undef", "##":
		return ""
	}
	return s
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
