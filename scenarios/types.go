package scenarios

import "time"

// RW is the access pattern of a phase, spelled as fio spells it.
type RW string

// The access patterns a phase may use.
const (
	Read      RW = "read"      // sequential read
	Write     RW = "write"     // sequential write
	RandRead  RW = "randread"  // uniform random read
	RandWrite RW = "randwrite" // uniform random write
	RandRW    RW = "randrw"    // uniform random mix, ReadPct percent reads
	ReadWrite RW = "readwrite" // sequential mix, ReadPct percent reads
)

// Random reports whether offsets are drawn at random rather than in sequence.
func (r RW) Random() bool { return r == RandRead || r == RandWrite || r == RandRW }

// Writes reports whether the pattern issues any write.
func (r RW) Writes() bool { return r != Read && r != RandRead }

// Reads reports whether the pattern issues any read.
func (r RW) Reads() bool { return r != Write && r != RandWrite }

// OnError says what a phase does when an I/O fails.
type OnError string

// The error policies.
const (
	Continue OnError = "continue" // count the error and go on (default)
	Stop     OnError = "stop"     // end the phase at the first error
)

// Pos is a place in a scenario file, for error messages.
type Pos struct {
	File   string
	Line   int
	Column int
}

// Scenario is a validated scenario with every default filled in.
type Scenario struct {
	Name        string
	Description string
	// Seed seeds every worker's PRNG; 0 in the file means "pick one", and the
	// picked value is stored here so the run can be reproduced.
	Seed uint64
	// Interval is the time-series resolution of the results (default 1s).
	Interval time.Duration
	// StallThreshold is how long a target may have I/O in flight with no
	// completion before that counts as a stall (default 500ms).
	StallThreshold time.Duration
	Targets        []Target
	Phases         []Phase
	// Criteria holds run-wide criteria and, flattened, every phase's expect:
	// block (Criterion.Phase names the phase).
	Criteria []Criterion
	// Source is the file the scenario came from, or "builtin:NAME".
	Source string
	// Builtin is true for scenarios embedded in the binary.
	Builtin bool
	// Hosts are the other initiator hosts the scenario runs on (nil: this
	// machine only). Targets name theirs in Target.Host.
	Hosts []Host
	// OnHostLoss is what the run does when a host's agent is lost mid-run
	// (Continue, the default when Hosts is set, or Stop).
	OnHostLoss OnError
}

// LocalHost is the name of the machine running lunbench: a target or drill
// that names no host is there.
const LocalHost = "local"

// Host is one initiator host of a scenario's hosts: list.
type Host struct {
	Name string
	// SSH is the ssh destination, user@host[:port]; empty runs the host's
	// agent on this machine.
	SSH string
	Pos Pos
}

// HostOf returns the name of the host a target runs on (LocalHost when it
// names none).
func (t Target) HostOf() string {
	if t.Host == "" {
		return LocalHost
	}
	return t.Host
}

// Target is one file or block device I/O is driven against.
type Target struct {
	Name string
	// Path is a regular file or a block device, after ${VAR} expansion.
	Path string
	// Size is the size to create a missing file with (sparse); 0 means the
	// file or device must exist and its own size is used.
	Size int64
	// AllowWrite must be true before any write phase may touch the target.
	AllowWrite bool
	// AllowRAMBacked lets a missing file be created under /dev or on a
	// RAM-backed filesystem (tmpfs, ramfs, devtmpfs), which lunbench
	// otherwise refuses: such a run measures memory, not storage.
	AllowRAMBacked bool
	// Host is the host (of Scenario.Hosts) whose agent drives the target;
	// "" is this machine.
	Host string
	// Offset and Length confine I/O to [Offset, Offset+Length); Length 0
	// means up to the end of the file or device.
	Offset int64
	Length int64
	// Expect holds host expectations checked by `lunbench check` (paths,
	// portals, chap, recovery_tmo); nil when the scenario sets none.
	Expect *TargetExpect
	// Probe holds the access-control checks lunbench run makes over the
	// wire before the first phase; nil when the scenario sets none.
	Probe *TargetProbe
	Pos   Pos
}

// TargetProbe is a target's probe: block: what to probe and what the
// target's access control must look like. Secrets are named by their
// environment variables, never held here.
type TargetProbe struct {
	Portals         []string
	Target          string
	Allowed         []string
	Refused         []string
	CHAP            *bool // the target must demand CHAP; nil = not said
	MutualCHAP      bool
	CHAPUser        string
	CHAPSecretEnv   string
	TargetUser      string
	TargetSecretEnv string
	LUNs            int
	WWIDs           []string
	Pings           int
	Timeout         time.Duration
}

// TargetExpect is what a target's storage path is expected to look like.
type TargetExpect struct {
	Paths          int           // number of active paths, 0 = not checked
	Portals        int           // number of distinct portals, 0 = not checked
	CHAP           *bool         // CHAP in use on every session, nil = not checked
	RecoveryTmoMax time.Duration // upper bound for recovery_tmo, 0 = not checked
}

// Phase is one step of a scenario: one access pattern for a time or a volume.
type Phase struct {
	Name string
	RW   RW
	// ReadPct is the share of reads in a mix (0..100); 100 for read
	// patterns, 0 for write patterns.
	ReadPct int
	// BS is the block size in bytes; with a mix, the largest size of it.
	BS int64
	// ReadSizes and WriteSizes are the block-size mixes of reads and
	// writes, smallest size first; nil when every I/O is BS (see Sizes).
	ReadSizes, WriteSizes []SizeShare
	// Offsets is where a random phase's offsets fall; nil is uniform.
	Offsets *Distribution
	// Compress is the ratio write payloads compress to (0: incompressible);
	// DedupePct the share of written blocks that repeat an earlier one.
	Compress  float64
	DedupePct int
	// QD is the number of I/Os kept outstanding per target.
	QD int
	// Duration and Bytes bound the phase; whichever is reached first ends
	// it. At least one is non-zero. Duration is the measured time and
	// starts after Ramp. Bytes counts per target.
	Duration time.Duration
	Bytes    int64
	// Ramp is run before measurement starts and excluded from statistics.
	Ramp time.Duration
	// RateIOPS, when non-zero, paces the phase open-loop at this many I/Os
	// per second per target (a throughput written as rate: 200MiB/s is
	// converted to it with BS).
	RateIOPS float64
	// Poisson spaces open-loop I/Os by exponential gaps (rate_process:
	// poisson) instead of a fixed period.
	Poisson bool
	// Think is each slot's pause between a completion and its next I/O.
	Think time.Duration
	// Sub is set on a phase expanded from a sweep: or a curve: (nil for a
	// phase as written).
	Sub *Sub
	// Steady ends the phase once its metric settles (until_steady:);
	// Duration is then the timeout.
	Steady *Steady
	// RangePasses, when set, bounds the phase by writing each target's
	// range that many times over (the precondition sub-phase).
	RangePasses int
	// Targets names the targets the phase runs on (all when the file named none).
	Targets []string
	// Seed seeds this phase's PRNGs (derived from the scenario seed when 0).
	Seed    uint64
	OnError OnError
	// Verify stamps written blocks and checks them on read (drills issue).
	Verify bool
	// Engine issues the phase's I/O: EngineThreads (a blocking system
	// call per queue slot, the default) or EngineURing.
	Engine string
	Drills []Drill
	Pos    Pos
}

// Drill is a fault injected while a phase runs.
type Drill struct {
	Name string
	// At is the offset from the start of the phase (ramp included) at
	// which to inject; After names another drill of the same phase whose
	// recovery this one follows. Manual drills are injected when the
	// operator marks them, and need not have an Inject command. Exactly
	// one of the three is set.
	At     time.Duration
	After  string
	Manual bool
	// Settle (drills with After only) is how long I/O must have flowed
	// again on every target after the earlier drill recovered before this
	// one is injected, so that the earlier fault's stall is over and cannot
	// be taken for this one's. Default: the stall threshold + 1 s.
	Settle time.Duration
	Inject string // shell command, run with /bin/sh -c
	// InjectSource is the command as written, before ${VAR} expansion. It
	// is what results record: a secret passed to the command through the
	// environment is never written down.
	InjectSource string
	Timeout      time.Duration // for each command (default 60s)
	// ProbeLogin makes lunbench log in through the probe: block of each of
	// the phase's targets that has one, from the inject on, until the
	// portal answers a login again: the target's own recovery time.
	ProbeLogin bool
	Recover    *Recover
	Expect     []Criterion
	// Failure is what the fault takes away, for the failover budget
	// (FailurePath, FailureAllPaths, FailureSession); "" lets lunbench
	// infer it from the target's topology.
	Failure string
	// On is the host (of Scenario.Hosts) whose agent runs Inject and
	// Recover; "" is the machine running lunbench.
	On  string
	Pos Pos
}

// The kinds of failure a drill's failover budget is predicted for.
const (
	FailurePath     = "path"      // one path of a multipath map; the others stay
	FailureAllPaths = "all-paths" // every path of the map
	FailureSession  = "session"   // the target's only iSCSI session (a VIP move, a head failover)
)

// Recover is the command that undoes a drill's fault.
type Recover struct {
	Command string
	// CommandSource is the command as written, before ${VAR} expansion.
	CommandSource string
	At            time.Duration // offset after the inject
	Pos           Pos
}

// Cmp is a comparison in a criterion.
type Cmp string

// The comparisons a criterion may use.
const (
	LE Cmp = "<="
	LT Cmp = "<"
	GE Cmp = ">="
	GT Cmp = ">"
	EQ Cmp = "=="
)

// Holds reports whether measured satisfies the comparison with threshold.
func (c Cmp) Holds(measured, threshold float64) bool {
	switch c {
	case LE:
		return measured <= threshold
	case LT:
		return measured < threshold
	case GE:
		return measured >= threshold
	case GT:
		return measured > threshold
	case EQ:
		return measured == threshold
	}
	return false
}

// Criterion is one pass/fail rule, e.g. read_p99 <= 2ms in phase "oltp".
type Criterion struct {
	// Phase is the phase it applies to; "" means the whole run.
	Phase string
	// Target restricts it to one target; "" means every target must pass.
	Target string
	// Drill names the drill whose expect: block the rule comes from ("" for
	// phase, target and run rules); such a rule is checked against that
	// drill's measurements only.
	Drill string
	// Metric is the canonical metric name, see Metrics.
	Metric string
	Cmp    Cmp
	// Threshold is in the metric's base unit: seconds for latencies and
	// stalls, bytes per second for throughput, plain numbers otherwise.
	Threshold float64
	// Text is the rule as written, for reports ("read_p99 <= 2ms").
	Text string
	// Latency is iops_at_p99's bound: the IOPS counted are those of the
	// curve's points whose p99 stays at or below it.
	Latency time.Duration
	Pos     Pos
}

// Unit is the kind of quantity a metric measures.
type Unit int

// Metric units.
const (
	Count       Unit = iota // a plain number (IOPS, errors, blocks)
	Seconds                 // a duration, written 2ms, 1.5s
	BytesPerSec             // a rate, written 200MiB/s or 200M
	Fraction                // a ratio, written 90% or 0.9
)

// MetricUnit returns the unit of a criterion metric, and false for a name
// that is not a metric. The read_/write_ prefixed forms restrict a metric to
// one op; the plain form covers both.
func MetricUnit(name string) (Unit, bool) {
	switch name {
	case "iops", "read_iops", "write_iops",
		"errors", "read_errors", "write_errors",
		"stalls", "lost_writes", "corrupt_blocks", "unreadable_blocks",
		"preflight_errors", "preflight_warnings", "probe_errors", "probe_warnings", "iops_at_p99":
		return Count, true
	case "throughput", "read_throughput", "write_throughput":
		return BytesPerSec, true
	case "p50", "read_p50", "write_p50",
		"p90", "read_p90", "write_p90",
		"p99", "read_p99", "write_p99",
		"p99.9", "read_p99.9", "write_p99.9",
		"p99.99", "read_p99.99", "write_p99.99",
		"mean_latency", "read_mean_latency", "write_mean_latency",
		"max_latency", "read_max_latency", "write_max_latency",
		"max_stall", "resume_within", "login_back":
		return Seconds, true
	case "throughput_after", "throughput_cv", "read_throughput_cv", "write_throughput_cv":
		return Fraction, true
	}
	return 0, false
}

// MetricNames lists every metric name, for suggestions and the schema.
func MetricNames() []string {
	base := []string{"iops", "throughput", "p50", "p90", "p99", "p99.9", "p99.99",
		"mean_latency", "max_latency", "errors", "throughput_cv"}
	var out []string
	for _, b := range base {
		out = append(out, b, "read_"+b, "write_"+b)
	}
	return append(out, "max_stall", "stalls", "lost_writes", "corrupt_blocks", "unreadable_blocks",
		"resume_within", "throughput_after", "preflight_errors", "preflight_warnings",
		"probe_errors", "probe_warnings", "login_back", "iops_at_p99")
}

// HostMetric reports whether a metric is about the set-up (the host
// preflight's or the target probe's findings) rather than the I/O: it
// belongs in the run's or a target's criteria, not in a phase or a drill.
func HostMetric(m string) bool {
	switch m {
	case "preflight_errors", "preflight_warnings", "probe_errors", "probe_warnings":
		return true
	}
	return false
}

// DrillMetrics lists the metrics a drill's expect: block can be measured
// on, in the order the docs present them.
func DrillMetrics() []string {
	return []string{"max_stall", "resume_within", "throughput_after", "errors", "max_latency",
		"lost_writes", "corrupt_blocks", "unreadable_blocks", "login_back"}
}

// NeedsVerify reports whether a metric is counted by verify passes, so
// needs a phase with verify: true.
func NeedsVerify(metric string) bool {
	return metric == "lost_writes" || metric == "corrupt_blocks" || metric == "unreadable_blocks"
}
