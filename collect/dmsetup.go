package collect

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
)

// dmGroup is one priority group of a multipath map as the kernel reports
// it in `dmsetup status` (drivers/md/dm-mpath.c, multipath_status,
// STATUSTYPE_INFO).
type dmGroup struct {
	state string // active, enabled, disabled (A, E, D)
	paths []dmPath
}

type dmPath struct {
	majmin string // the kernel prints paths as MAJ:MIN
	active bool   // A; F is failed
	fails  int
}

// parseDMStatus reads `dmsetup status --target multipath` lines,
// "NAME: START LEN multipath ...", into each map's groups. The layout,
// from multipath_status: #features then 2 figures (queue_io,
// pg_init_count), #hw-handler args (0 in status), #groups, the next group;
// per group its state (A active, E enabled, D disabled or bypassed), the
// path selector's count of group arguments and the arguments, #paths and
// the selector's per-path argument count; per path MAJ:MIN, A or F, the
// fail count and the selector's arguments.
func parseDMStatus(b []byte) (map[string][]dmGroup, error) {
	out := map[string][]dmGroup{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ": ")
		if !ok {
			continue // "No devices found", or a single device's unnamed line
		}
		f := strings.Fields(rest)
		if len(f) < 3 || f[2] != "multipath" {
			continue
		}
		groups, err := parseDMGroups(f[3:])
		if err != nil {
			return nil, fmt.Errorf("dmsetup status of %s: %w", name, err)
		}
		out[name] = groups
	}
	return out, nil
}

func parseDMGroups(f []string) ([]dmGroup, error) {
	i := 0
	next := func() (int, error) {
		if i >= len(f) {
			return 0, errors.New("line ends early")
		}
		n, err := strconv.Atoi(f[i])
		i++
		return n, err
	}
	skipCounted := func() error { // a count, then that many tokens
		n, err := next()
		i += n
		return err
	}
	if err := skipCounted(); err != nil { // features
		return nil, err
	}
	if err := skipCounted(); err != nil { // hardware handler
		return nil, err
	}
	npg, err := next()
	if err != nil {
		return nil, err
	}
	if _, err := next(); err != nil { // the next group
		return nil, err
	}
	var out []dmGroup
	for range npg {
		if i >= len(f) {
			return nil, errors.New("line ends early")
		}
		g := dmGroup{state: map[string]string{"A": "active", "E": "enabled", "D": "disabled"}[f[i]]}
		i++
		if err := skipCounted(); err != nil { // selector's group arguments
			return nil, err
		}
		np, err := next()
		if err != nil {
			return nil, err
		}
		nargs, err := next()
		if err != nil {
			return nil, err
		}
		for range np {
			if i+3 > len(f) {
				return nil, errors.New("line ends early")
			}
			fails, _ := strconv.Atoi(f[i+2])
			g.paths = append(g.paths, dmPath{majmin: f[i], active: f[i+1] == "A", fails: fails})
			i += 3 + nargs
		}
		out = append(out, g)
	}
	return out, nil
}

// dmsetupRunner returns how to run dmsetup: the Host's replay in tests,
// the real binary on the live system, nil when there is none.
func (h Host) dmsetupRunner() func(ctx context.Context, args ...string) ([]byte, error) {
	if h.DMSetup != nil {
		return h.DMSetup
	}
	if !h.live() {
		return nil
	}
	bin, err := exec.LookPath("dmsetup")
	if err != nil {
		return nil
	}
	return commandRunner(bin)
}

// enrichDM reads the maps' path groups and the kernel's path states from
// `dmsetup status` when multipathd could not be asked (not installed, not
// running). It needs root (dmsetup talks to /dev/mapper/control); any
// failure leaves the sysfs view and says why in t.DMSetup.
func (h Host) enrichDM(t *Topology) {
	run := h.dmsetupRunner()
	if run == nil || !t.hasMaps() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), multipathdTimeout)
	defer cancel()
	out, err := run(ctx, "status", "--target", "multipath")
	if err != nil {
		t.DMSetup = "unavailable: " + firstLine(err.Error())
		return
	}
	st, err := parseDMStatus(out)
	if err != nil {
		t.DMSetup = "unreadable: " + firstLine(err.Error())
		return
	}
	for i := range t.Devices {
		for j := range t.Devices[i].Maps {
			applyDM(&t.Devices[i].Maps[j], st[t.Devices[i].Maps[j].Name])
		}
	}
	t.DMSetup = "used"
}

func applyDM(m *Map, groups []dmGroup) {
	for gi, g := range groups {
		for _, dp := range g.paths {
			for k := range m.Paths {
				p := &m.Paths[k]
				if p.MajMin != dp.majmin {
					continue
				}
				p.Group, p.GroupState = gi+1, g.state
				p.DMState = "failed"
				if dp.active {
					p.DMState = "active"
				}
				fails := dp.fails
				p.FailCount = &fails
			}
		}
	}
}
