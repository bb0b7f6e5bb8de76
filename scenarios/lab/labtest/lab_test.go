package labtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lunbench/collect"
	"lunbench/collect/preflight"
	"lunbench/report"
	"lunbench/workload"
)

// guestTimeout bounds one guest run (boot, suite, power-off). A run took
// 5.5-7 minutes on a 2-core machine at load 16-20, and the mp run 12 at load
// 30, and 12 again at load 400-500 with the failed-path step (its wait
// and the paths coming back add about a minute); past this something
// hangs. Both layouts' runs fit in make test's package timeout (30m).
const guestTimeout = 16 * time.Minute

// repoRoot is the module root, three levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// requireLab skips the test, saying why, when this machine cannot run the
// lab: not root, no qemu, no tun, a missing package.
func requireLab(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("the SAN lab boots a guest (minutes): skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("the SAN lab needs root (network namespaces, taps, tgtd)")
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		t.Skip("the SAN lab needs /dev/net/tun for the guest's taps")
	}
	for _, tool := range []struct{ bin, pkg string }{
		{"qemu-system-x86_64", "qemu-system-x86"},
		{"tgtd", "tgt"},
		{"arping", "iputils-arping"},
		{"iscsiadm", "open-iscsi"},
		{"multipathd", "multipath-tools"},
		{"udevadm", "udev"},
		{"dpkg-deb", "dpkg"},
		{"cpio", "cpio"},
	} {
		if _, err := exec.LookPath(tool.bin); err != nil {
			t.Skipf("the SAN lab needs %s (apt-get install %s)", tool.bin, tool.pkg)
		}
	}
	out, err := exec.Command("file", "-L", "/bin/busybox").Output()
	if err != nil || !strings.Contains(string(out), "statically linked") {
		t.Skip("the SAN lab needs a static /bin/busybox (apt-get install busybox-static)")
	}
}

// guest is one finished guest run: its directory (the suite's outputs) and
// the exit status of each suite step.
type guest struct {
	dir     string
	status  map[string]int
	timing  map[string]float64
	secrets []string // the lab's CHAP secrets, which no result may hold
}

// bootSuite builds the lab in the given layout, boots the guest running
// suite.sh LAYOUT with env in RUN/suite.env, and tears the lab down when the
// test ends. It fails the test when the guest did not finish.
func bootSuite(t *testing.T, layout string, env map[string]string) *guest {
	t.Helper()
	requireLab(t)
	repo := repoRoot(t)
	// At most 11 characters (sanlab.sh): lblab, the PID, the layout.
	lab := fmt.Sprintf("lblab%05d%c", os.Getpid()%100000, layout[0])
	run := t.TempDir()
	bin := filepath.Join(run, "lunbench")
	build := exec.Command("go", "build", "-o", bin, "./cmd/lunbench")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sanlab := filepath.Join(repo, "scenarios/lab/sanlab.sh")
	labEnv := append(os.Environ(), "LAB="+lab)
	t.Cleanup(func() {
		cmd := exec.Command(sanlab, "down")
		cmd.Env = labEnv
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sanlab.sh down: %v\n%s", err, out)
		}
	})
	up := exec.Command(sanlab, "up", layout)
	up.Env = labEnv
	if out, err := up.CombinedOutput(); err != nil {
		t.Fatalf("sanlab.sh up %s: %v\n%s", layout, err, out)
	}
	envOut := exec.Command(sanlab, "env")
	envOut.Env = labEnv
	facts, err := envOut.Output()
	if err != nil {
		t.Fatalf("sanlab.sh env: %v", err)
	}
	var secrets []string
	for _, line := range strings.Split(string(facts), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasSuffix(k, "_PASS") {
			secrets = append(secrets, v)
		}
	}
	var senv strings.Builder
	for k, v := range env {
		fmt.Fprintf(&senv, "%s=%s\n", k, v)
	}
	write(t, filepath.Join(run, "suite.env"), senv.String())
	write(t, filepath.Join(run, "commands"), fmt.Sprintf("LUNBENCH=%s bash %s %s\n",
		bin, filepath.Join(repo, "scenarios/lab/guest/suite.sh"), layout))
	boot := exec.Command(filepath.Join(repo, "scenarios/lab/guest/boot.sh"), run)
	boot.Env = append(labEnv, fmt.Sprintf("LBLAB_TIMEOUT=%d", int(guestTimeout.Seconds())))
	out, err := boot.CombinedOutput()
	g := &guest{dir: run, status: readStatus(t, run), timing: readTiming(run), secrets: secrets}
	t.Logf("guest %s: timing %v, steps %v", layout, g.timing, g.status)
	if err != nil {
		t.Fatalf("boot.sh: %v\n%s\nguest.log (tail):\n%s", err, out, tail(filepath.Join(run, "guest.log"), 60))
	}
	return g
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// readStatus reads RUN/status: "step exitcode" lines written by suite.sh.
func readStatus(t *testing.T, run string) map[string]int {
	st := map[string]int{}
	b, err := os.ReadFile(filepath.Join(run, "status"))
	if err != nil {
		return st
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			if n, err := strconv.Atoi(f[1]); err == nil {
				st[f[0]] = n
			}
		}
	}
	return st
}

// readTiming reads RUN/timing: guest uptimes at stage2, daemons, ready and
// done, and the host's wall time of the whole run.
func readTiming(run string) map[string]float64 {
	tm := map[string]float64{}
	b, _ := os.ReadFile(filepath.Join(run, "timing"))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				tm[f[0]] = v
			}
		}
	}
	return tm
}

func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// step fails the test unless the suite step ran and exited with want.
func (g *guest) step(t *testing.T, name string, want int) {
	t.Helper()
	got, ok := g.status[name]
	if !ok {
		t.Fatalf("suite step %s did not run; guest.log (tail):\n%s", name, tail(filepath.Join(g.dir, "guest.log"), 40))
	}
	if got != want {
		t.Errorf("suite step %s exited %d, want %d; its output (tail):\n%s", name, got, want, tail(filepath.Join(g.dir, name+".log"), 30))
	}
}

func (g *guest) topology(t *testing.T, file string) collect.Topology {
	t.Helper()
	var top collect.Topology
	readJSON(t, filepath.Join(g.dir, file), &top)
	return top
}

func (g *guest) check(t *testing.T, file string) preflight.Report {
	t.Helper()
	var r preflight.Report
	readJSON(t, filepath.Join(g.dir, file), &r)
	return r
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// drill returns the named drill of the run in RUN/dir, with the run.
func (g *guest) drill(t *testing.T, dir, name string) (*report.RunJSON, workload.DrillResult) {
	t.Helper()
	r, err := report.ReadRun(filepath.Join(g.dir, dir))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Drills {
		if d.Name == name {
			if !d.Injected || len(d.Targets) != 1 {
				t.Fatalf("drill %s: injected %v, %d targets", name, d.Injected, len(d.Targets))
			}
			return r, d
		}
	}
	t.Fatalf("%s/run.json has no drill %s", dir, name)
	return nil, workload.DrillResult{}
}

// verifyTotals sums the run's verify passes: problem blocks and in-doubt ones.
func verifyTotals(r *report.RunJSON) (problems, inDoubt, blocks uint64) {
	for _, v := range r.Verify {
		problems += v.Problems()
		inDoubt += v.InDoubt
		blocks += v.Blocks
	}
	return
}

// confFile reads "key = value" (iscsid.conf) or "key value" (multipath.conf)
// settings, the last uncommented one winning, as both daemons read them.
func confFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 {
			m[f[0]] = strings.Trim(strings.Join(f[1:], " "), `"`)
		}
	}
	return m
}

// seconds reads an integer number of seconds from a configuration.
func seconds(t *testing.T, conf map[string]string, key string) time.Duration {
	t.Helper()
	v, ok := conf[key]
	if !ok {
		t.Fatalf("the lab's configuration does not set %s", key)
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s = %q: %v", key, v, err)
	}
	return time.Duration(n) * time.Second
}

// slack is the tolerance on a predicted stall: the guest is emulated (TCG)
// on a loaded machine, so its timers fire late by a share of the wait and
// a login takes seconds, not milliseconds.
func slack(budget time.Duration) time.Duration { return budget/4 + 3*time.Second }

// noSecrets fails the test if any file the guest run left holds a CHAP
// secret: results, logs and traces must not.
func (g *guest) noSecrets(t *testing.T) {
	t.Helper()
	if len(g.secrets) == 0 {
		t.Fatal("sanlab.sh env named no CHAP secret")
	}
	err := filepath.WalkDir(g.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "lunbench" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		for _, s := range g.secrets {
			if strings.Contains(string(b), s) {
				t.Errorf("%s holds a CHAP secret", p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
