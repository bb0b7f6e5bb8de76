package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	goldenfile "lunbench/report/golden"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/golden")

// builtinEnv is what the built-ins need to validate: the runner sets the
// quickstart file, an admin sets the LUN and, for the drill, allows writes.
func builtinEnv() map[string]string {
	return map[string]string{
		"LUNBENCH_QUICKSTART_FILE": "/results/run/quickstart.dat",
		"LUN":                      "/dev/mapper/mpathb",
		"ALLOW_WRITE":              "true",
	}
}

// golden compares got with testdata/golden/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, filepath.Join("testdata", "golden", name), got, *update)
}

// stripPos clears what legitimately differs between a scenario and its
// re-load from Marshal output: positions and provenance.
func stripPos(s *Scenario) *Scenario {
	c := *s
	c.Source, c.Builtin = "", false
	c.Targets = slices.Clone(s.Targets)
	for i := range c.Targets {
		c.Targets[i].Pos = Pos{}
	}
	c.Criteria = clearCrit(s.Criteria)
	c.Hosts = slices.Clone(s.Hosts)
	for i := range c.Hosts {
		c.Hosts[i].Pos = Pos{}
	}
	c.Phases = slices.Clone(s.Phases)
	for i := range c.Phases {
		p := &c.Phases[i]
		p.Pos = Pos{}
		p.Drills = slices.Clone(p.Drills)
		for j := range p.Drills {
			dr := &p.Drills[j]
			dr.Pos = Pos{}
			dr.Expect = clearCrit(dr.Expect)
			if dr.Recover != nil {
				r := *dr.Recover
				r.Pos = Pos{}
				dr.Recover = &r
			}
		}
	}
	return &c
}

func clearCrit(cs []Criterion) []Criterion {
	cs = slices.Clone(cs)
	for i := range cs {
		cs[i].Pos = Pos{}
	}
	return cs
}

// roundTrip checks that Marshal's output loads back to the same scenario
// and marshals to the same bytes.
func roundTrip(t *testing.T, s *Scenario) []byte {
	t.Helper()
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parse("scenario.yaml", out, config{seed: func() uint64 { panic("seed was not recorded") }})
	if err != nil {
		t.Fatalf("re-load of Marshal output: %v\n%s", err, out)
	}
	if !reflect.DeepEqual(stripPos(s), stripPos(back)) {
		t.Errorf("round trip changed the scenario:\nbefore %+v\nafter  %+v\n%s", stripPos(s), stripPos(back), out)
	}
	back.Source = s.Source // Marshal names it in a comment
	again, err := Marshal(back)
	if err != nil || !bytes.Equal(again, out) {
		t.Errorf("Marshal is not stable: %v\n%s\nthen\n%s", err, out, again)
	}
	return out
}

func TestRoundTripFull(t *testing.T) {
	data, err := os.ReadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := parse("testdata/full.yaml", data, config{lookup: mapLookup(nil), seed: fixedSeed})
	if err != nil {
		t.Fatal(err)
	}
	// Spot checks of values the format spells in several ways.
	if s.Targets[0].Offset != 1<<20 || s.Targets[1].Size != 3<<29 || *s.Targets[1].Expect.CHAP || !s.Targets[1].AllowRAMBacked || s.Targets[0].AllowRAMBacked ||
		s.Phases[1].RateIOPS != 64<<20/4096 || s.Phases[2].RateIOPS != 2500.5 || s.Phases[3].ReadPct != 50 ||
		s.Phases[2].ReadPct != 70 || s.Phases[0].OnError != Continue || s.Phases[1].OnError != Stop ||
		s.Phases[2].Drills[0].Inject != "pcs resource move vip node2 && echo ${HOME}" ||
		!strings.Contains(s.Description, "literal ${NOT_A_VAR}") {
		t.Errorf("unexpected values: %+v", s)
	}
	golden(t, "full.yaml", roundTrip(t, s))
}

func TestBuiltins(t *testing.T) {
	if got, want := Builtins(), []string{"acceptance", "failover-drill", "quickstart"}; !slices.Equal(got, want) {
		t.Fatalf("Builtins() = %v, want %v", got, want)
	}
	for _, name := range Builtins() {
		t.Run(name, func(t *testing.T) {
			s, err := LoadBuiltin(name, mapLookup(builtinEnv()))
			if err != nil {
				t.Fatal(err)
			}
			if !s.Builtin || s.Source != "builtin:"+name || s.Name != name || s.Description == "" {
				t.Errorf("provenance: builtin %v source %q name %q", s.Builtin, s.Source, s.Name)
			}
			s.Seed = 1 // the file leaves it random
			golden(t, name+".yaml", roundTrip(t, s))
		})
	}
}

// TestBuiltinSafety pins down what the built-ins do without the variables
// that make them run: nothing destructive happens by default.
func TestBuiltinSafety(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want string // a fragment of the error; "" = loads
	}{
		// acceptance is read-only and defaults its LUN, so it loads bare.
		{"acceptance", nil, ""},
		// quickstart needs the runner to name its scratch file.
		{"quickstart", nil, "environment variable LUNBENCH_QUICKSTART_FILE is not set"},
		// failover-drill writes, so it needs the LUN named...
		{"failover-drill", map[string]string{"ALLOW_WRITE": "true"}, "environment variable LUN is not set"},
		// ...and writes allowed explicitly.
		{"failover-drill", map[string]string{"LUN": "/dev/x"}, `which does not allow writes; add allow_write: true to target "lun0"`},
	}
	for _, tt := range tests {
		_, err := LoadBuiltin(tt.name, mapLookup(tt.env))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
	s, _ := LoadBuiltin("acceptance", nil)
	if s.Targets[0].Path != "/dev/mapper/mpatha" || s.Targets[0].AllowWrite {
		t.Errorf("acceptance target: %+v", s.Targets[0])
	}
}

// TestAcceptanceWriteBlock checks the commented-out write phase of the
// acceptance template is valid once an admin enables it as told.
func TestAcceptanceWriteBlock(t *testing.T) {
	src, _ := BuiltinSource("acceptance")
	text := strings.Replace(string(src), "allow_write: false", "allow_write: true", 1)
	var out []string
	inBlock := false
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "  # - name: oltp") {
			inBlock = true
		}
		if inBlock && strings.HasPrefix(line, "  # ") {
			line = "  " + strings.TrimPrefix(line, "  # ")
		} else {
			inBlock = false
		}
		out = append(out, line)
	}
	s, err := Parse("acceptance.yaml", []byte(strings.Join(out, "\n")), nil)
	if err != nil {
		t.Fatal(err)
	}
	if last := s.Phases[len(s.Phases)-1]; last.Name != "oltp-8k-70-30" || last.ReadPct != 70 || last.RW != RandRW {
		t.Errorf("enabled phase: %+v", last)
	}
}

func TestStarter(t *testing.T) {
	s, err := Parse("mytest.yaml", Starter("mytest"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "mytest" || len(s.Phases) == 0 || s.Targets[0].AllowWrite {
		t.Errorf("starter: %+v", s)
	}
	// A name the format refuses still yields YAML, and a clear message.
	_, err = Parse("x.yaml", Starter(`my "test"`), nil)
	if err == nil || !strings.Contains(err.Error(), `name in the scenario must be a name of letters`) {
		t.Errorf("bad starter name: %v", err)
	}
}

// TestDocExample keeps the example in the package documentation valid.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(doc), "\n") {
		if rest, ok := strings.CutPrefix(l, "//\t"); ok {
			lines = append(lines, rest)
		} else if l == "//" && len(lines) > 0 && !strings.HasPrefix(lines[len(lines)-1], "criteria:") {
			lines = append(lines, "")
		}
	}
	src := strings.Join(lines, "\n")
	if !strings.Contains(src, "drills:") {
		t.Fatalf("example not found in doc.go:\n%s", src)
	}
	if _, err := Parse("doc.go example", []byte(src), nil); err != nil {
		t.Errorf("%v\n%s", err, src)
	}
}

func TestSchema(t *testing.T) {
	raw := Schema()
	golden(t, "schema.json", raw)
	type node struct {
		Schema     string           `json:"$schema"`
		Properties map[string]any   `json:"properties"`
		Defs       map[string]*node `json:"$defs"`
	}
	var root node
	if err := json.Unmarshal(raw, &root); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if root.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %q", root.Schema)
	}
	keysOf := func(m map[string]any) []string {
		var out []string
		for k := range m {
			out = append(out, k)
		}
		slices.Sort(out)
		return out
	}
	sorted := func(s []string) []string { s = slices.Clone(s); slices.Sort(s); return s }
	for obj, defs := range objects() {
		props := root.Properties
		if obj != objScenario {
			props = root.Defs[obj].Properties
		}
		if got, want := keysOf(props), sorted(keyNames(defs)); !slices.Equal(got, want) {
			t.Errorf("schema %s lists %v, loader accepts %v", obj, got, want)
		}
	}
	if got := keysOf(root.Defs["criteria"].Properties); !slices.Equal(got, sorted(MetricNames())) {
		t.Errorf("schema metrics %v", got)
	}
}

// TestLoaderAcceptsSchemaKeys places every key the schema lists where it
// belongs and checks the loader does not call it unknown: the schema
// cannot promise a key the loader refuses.
func TestLoaderAcceptsSchemaKeys(t *testing.T) {
	var root struct {
		Properties map[string]any `json:"properties"`
		Defs       map[string]struct {
			Properties map[string]any `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(Schema(), &root); err != nil {
		t.Fatal(err)
	}
	// Where each mapping lives in a file; KEY marks the spot.
	places := map[string]string{
		objScenario:     "KEY: x\n",
		objTarget:       "targets:\n  - KEY: x\n",
		objTargetExpect: "targets:\n  - expect:\n      KEY: x\n",
		objTargetProbe:  "targets:\n  - probe:\n      KEY: x\n",
		objDefaults:     "defaults:\n  KEY: x\n",
		objPhase:        "phases:\n  - KEY: x\n",
		objDrill:        "phases:\n  - drills:\n      - KEY: x\n",
		objRecover:      "phases:\n  - drills:\n      - recover:\n          KEY: x\n",
		objHotBand:      "phases:\n  - offsets:\n      hot:\n        - KEY: x\n",
		objSweep:        "phases:\n  - sweep:\n      KEY: x\n",
		objCurve:        "phases:\n  - curve:\n      KEY: x\n",
		objSteady:       "phases:\n  - until_steady:\n      KEY: x\n",
		objHost:         "hosts:\n  - KEY: x\n",
		"criteria":      "criteria:\n  KEY: x\n",
	}
	for obj, place := range places {
		props := root.Properties
		if obj != objScenario {
			props = root.Defs[obj].Properties
		}
		if len(props) == 0 {
			t.Errorf("no properties for %s", obj)
		}
		for key := range props {
			src := strings.Replace(place, "KEY", key, 1)
			_, err := Parse("k.yaml", []byte(src), nil)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("%s: %v", src, err)
			}
			for _, p := range ve.Problems {
				if strings.Contains(p.Msg, "unknown key") || (strings.Contains(p.Msg, "unknown metric") && !strings.Contains(p.Msg, "use one of")) {
					t.Errorf("%s.%s: %s", obj, key, p)
				}
			}
		}
	}
}

func TestSuggest(t *testing.T) {
	keys := keyNames(phaseKeys())
	syn := synonymMap(phaseKeys())
	tests := []struct {
		got, want string
	}{
		{"blocksize", "bs"},       // synonym
		{"iodepth", "qd"},         // fio's name
		{"runtime", "duration"},   // fio's name
		{"rwmixread", "read_pct"}, // fio's name
		{"BS", "bs"},              // case
		{"duraton", "duration"},   // one letter missing
		{"readpct", "read_pct"},   // synonym
		{"verfiy", "verify"},      // transposition, distance 2
		{"on-error", "on_error"},  // dash for underscore
		{"colour", ""},            // nothing near
		{"xy", ""},                // short words need a near match
	}
	for _, tt := range tests {
		got, _ := suggest(tt.got, keys, syn)
		if got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.got, got, tt.want)
		}
	}
}

// TestProblemString covers positions with unknown parts.
func TestProblemString(t *testing.T) {
	tests := []struct {
		p    Problem
		want string
	}{
		{Problem{Pos{"a.yaml", 3, 7}, "m"}, "a.yaml:3:7: m"}, // full
		{Problem{Pos{"a.yaml", 3, 0}, "m"}, "a.yaml:3: m"},   // no column (YAML syntax errors)
		{Problem{Pos{"a.yaml", 0, 0}, "m"}, "a.yaml: m"},     // file only
		{Problem{Pos{}, "m"}, "m"},                           // nowhere
	}
	for _, tt := range tests {
		if got := tt.p.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestMarshalBuilt covers scenarios built in code rather than loaded:
// rules without Text, and rules the format has no place for.
func TestMarshalBuilt(t *testing.T) {
	base := func() *Scenario {
		return &Scenario{Name: "b", Seed: 1, Interval: time.Second, StallThreshold: time.Second,
			Targets: []Target{{Name: "t", Path: "/x"}},
			Phases:  []Phase{{Name: "p", RW: Read, BS: 4096, QD: 1, Duration: time.Second, ReadPct: 100, Targets: []string{"t"}, OnError: Continue}}}
	}
	s := base()
	s.Criteria = []Criterion{
		{Metric: "read_p99", Cmp: LE, Threshold: 0.0025, Phase: "p"}, // seconds
		{Metric: "throughput", Cmp: GE, Threshold: 200 << 20},        // bytes per second
		{Metric: "errors", Cmp: EQ, Threshold: 0, Target: "t"},       // count
	}
	out, err := Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("b.yaml", out, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var texts []string
	for _, c := range back.Criteria {
		texts = append(texts, c.Text)
	}
	want := []string{"throughput >= 209715200", "errors == 0", "read_p99 <= 2.5ms"}
	if !slices.Equal(texts, want) || back.Criteria[2].Threshold != 0.0025 {
		t.Errorf("criteria %q, want %q", texts, want)
	}
	for _, c := range []Criterion{
		{Metric: "errors", Cmp: EQ, Phase: "nope"},           // unknown phase
		{Metric: "errors", Cmp: EQ, Target: "nope"},          // unknown target
		{Metric: "errors", Cmp: EQ, Phase: "p", Target: "t"}, // no place in the format
	} {
		s := base()
		s.Criteria = []Criterion{c}
		if _, err := Marshal(s); err == nil {
			t.Errorf("Marshal with %+v: no error", c)
		}
	}
}
