package scenarios

import (
	"slices"
	"time"
)

// kind is the shape of a key's value. The loader parses by it and the JSON
// Schema is written from it, so the two cannot disagree.
type kind int

const (
	kString      kind = iota // any text, ${VAR} expanded
	kName                    // a name that may appear in file names
	kInt                     // a non-negative whole number
	kUint64                  // a seed: 0 .. 2^64-1
	kFloat                   // a non-negative number
	kBool                    // true or false
	kSize                    // bytes: 4k, 1MiB, 512
	kDuration                // 30s, 500ms
	kRate                    // bytes per second: 200MiB/s
	kPercent                 // 70% or 70
	kEnum                    // one of keyDef.enum
	kNames                   // a list of names
	kStrings                 // a list of text: portals, IQNs, WWIDs
	kCriteria                // a mapping metric: "<cmp> <value>"
	kMaxDuration             // "<= 15s"
	kObject                  // a mapping, keyDef.object says which
	kList                    // a list of mappings, keyDef.object says which
	kSizeMix                 // a size, or a mix {4k: 60%, 64k: 40%}, or per op {read: ..., write: ...}
	kDist                    // uniform, normal, or {zipf: 1.2}, {pareto: 0.9}, {normal: 10%}, {hot: [...]}
	kScalarList              // a list of values of keyDef.elem: [1, 2, 4]
)

// keyDef describes one key of the scenario format.
type keyDef struct {
	name string
	kind kind
	doc  string
	// required keys must be written in the mapping itself.
	required bool
	enum     []string
	object   string // for kObject and kList
	// positive, min, max and align bound numbers, sizes and durations
	// (max 0 means no bound); they are checked where the value is written.
	positive bool
	min, max int64
	align    int64
	whole    bool // kPercent: no fractions
	elem     kind // kScalarList: the kind of each value
	// synonyms are other spellings users reach for (fio's, mostly); they
	// only feed "did you mean" suggestions.
	synonyms []string
}

// Object names in objects().
const (
	objScenario     = "scenario"
	objTarget       = "target"
	objTargetExpect = "target_expect"
	objTargetProbe  = "target_probe"
	objDefaults     = "defaults"
	objPhase        = "phase"
	objDrill        = "drill"
	objRecover      = "recover"
	objHotBand      = "hot_band"
	objSweep        = "sweep"
	objCurve        = "curve"
	objSteady       = "until_steady"
	objHost         = "host"
)

// rwNames lists the access patterns in the order the docs present them.
func rwNames() []string {
	return []string{string(Read), string(Write), string(RandRead), string(RandWrite), string(RandRW), string(ReadWrite)}
}

// rwSynonyms maps other spellings of access patterns to ours.
func rwSynonyms() map[string]string {
	return map[string]string{
		"rw": "readwrite", "seqread": "read", "seqwrite": "write", "sequential-read": "read",
		"sequential-write": "write", "random-read": "randread", "random-write": "randwrite",
		"rand-read": "randread", "rand-write": "randwrite", "randreadwrite": "randrw",
		"random": "randrw", "mixed": "randrw", "randmix": "randrw", "seqrw": "readwrite",
	}
}

// phaseKeys are the keys of a phase; all but name and drills may also be
// given in defaults:.
func phaseKeys() []keyDef {
	return []keyDef{
		{name: "name", kind: kName, required: true, doc: "Name of the phase, unique in the scenario; used in reports and file names."},
		{name: "rw", kind: kEnum, enum: rwNames(), synonyms: []string{"readwrite", "pattern", "mode", "op", "access"},
			doc: "Access pattern: read, write (sequential), randread, randwrite (random), randrw, readwrite (random or sequential mix)."},
		{name: "bs", kind: kSizeMix, positive: true, align: 512, max: 64 << 20, synonyms: []string{"blocksize", "block_size", "bsize", "blksize", "block", "bssplit", "bsrange"},
			doc: "Block size of each I/O: a multiple of 512 bytes up to 64MiB, such as 4k, 8KiB or 1MiB (k, K, KB and KiB all mean 1024); or a mix of sizes and whole shares adding up to 100% ({4k: 60%, 64k: 30%, 1M: 10%}), or one per op ({read: {4k: 70%, 8k: 30%}, write: 64k})."},
		{name: "qd", kind: kInt, min: 1, max: 1024, synonyms: []string{"iodepth", "io_depth", "queue_depth", "queuedepth", "depth", "queue"},
			doc: "Queue depth: I/Os kept in flight per target (1..1024, default 1)."},
		{name: "duration", kind: kDuration, synonyms: []string{"runtime", "time", "run_time"},
			doc: "How long the phase measures, after its ramp (30s, 2m). 0 removes a duration inherited from defaults."},
		{name: "bytes", kind: kSize, synonyms: []string{"size", "io_size", "volume", "total", "amount"},
			doc: "Bytes to transfer per target (10GiB); the phase ends at duration or bytes, whichever comes first."},
		{name: "ramp", kind: kDuration, synonyms: []string{"ramp_time", "rampup", "ramp_up", "warmup", "warm_up"},
			doc: "Warm-up before the measured duration, excluded from statistics; must be shorter than duration."},
		{name: "read_pct", kind: kPercent, max: 100, whole: true, synonyms: []string{"rwmixread", "read_percent", "readpct", "read_ratio", "mix", "read"},
			doc: "Share of reads in randrw and readwrite (70% or 70; default 50)."},
		{name: "offsets", kind: kDist, synonyms: []string{"random_distribution", "distribution", "dist", "hotband", "zoned", "access", "skew"},
			doc: "Where random offsets fall: uniform (default); {zipf: 1.2}; {pareto: 0.9} (90% of I/Os to 10% of the range; zipf's and pareto's hot blocks are scattered over the range, the same for the same seed); normal or {normal: 10%} (Gaussian around the middle, σ as a share of the range); {hot: [{range: 10%, share: 90%}]} (bands from the range's start, the rest uniform). Random patterns only."},
		{name: "compress", kind: kFloat, synonyms: []string{"compression", "compress_ratio", "buffer_compress_percentage", "compressibility"},
			doc: "Write payloads compressible to about this ratio (2.0: to half), from 1 (incompressible, the default) to 100; in verified phases at most 4 (the per-sector stamps stay). Phases that write only."},
		{name: "dedupe", kind: kPercent, max: 100, whole: true, synonyms: []string{"dedup", "dedupe_percentage", "deduplication", "dedupe_pct"},
			doc: "Share of written blocks that repeat an earlier block's payload (30%); the rest are unique (default 0%). Not with verify: true. Phases that write only."},
		{name: "rate_iops", kind: kFloat, synonyms: []string{"iops", "rate_limit", "iops_limit"},
			doc: "Open-loop pacing: I/Os per second per target. Latency is measured from each I/O's scheduled start."},
		{name: "rate", kind: kRate, synonyms: []string{"rate_mbps", "bandwidth", "bw", "throughput", "mbps"},
			doc: "Open-loop pacing by throughput per target (200MiB/s); converted to rate_iops with bs. Set rate or rate_iops, not both."},
		{name: "rate_process", kind: kEnum, enum: []string{RateFixed, RatePoisson}, synonyms: []string{"arrival", "arrivals", "process", "rate_distribution"},
			doc: "How an open-loop phase spaces its I/Os: fixed (the same gap every time, default) or poisson (exponential gaps with the same mean, as independent clients arrive). Needs rate_iops or rate."},
		{name: "think", kind: kDuration, synonyms: []string{"thinktime", "think_time", "delay", "pause", "sleep"},
			doc: "Pause of each of the qd slots between an I/O's completion and its next I/O (1ms), as an application that works on each result; closed loop only (not with rate_iops or rate)."},
		{name: "targets", kind: kNames, synonyms: []string{"target", "luns", "lun", "devices", "device"},
			doc: "Names of the targets the phase runs on, all of them if left out."},
		{name: "sweep", kind: kObject, object: objSweep, synonyms: []string{"sweeps", "vary", "series", "steps"},
			doc: "Run the phase once per value of one key, each run its own phase named NAME[qd=8]: {qd: [1, 2, 4, 8, 16, 32, 64]}, {rate_iops: [...]} or {bs: [...]}."},
		{name: "until_steady", kind: kObject, object: objSteady, synonyms: []string{"steady", "steadystate", "steady_state", "until_stable"},
			doc: "Run until steady (SNIA PTS; fio's steadystate): over the last window of rounds the metric's range stays within max_excursion of its average and its fitted slope within max_slope; or until timeout. The report says which."},
		{name: "precondition", kind: kBool, synonyms: []string{"preconditioning", "prefill", "fill"},
			doc: "Before the phase, write each target's range twice sequentially in 128KiB blocks (NAME[precondition]), as SNIA's tests do; needs allow_write."},
		{name: "curve", kind: kObject, object: objCurve, synonyms: []string{"load_curve", "latency_curve", "hockey_stick", "curves"},
			doc: "Latency against load (vdbench's curve): run the phase uncapped (NAME[max]) to find its maximum IOPS, then open loop at each share of it (NAME[load=50%]); expect: takes iops_at_p99."},
		{name: "seed", kind: kUint64, synonyms: []string{"random_seed", "randseed"},
			doc: "Seed of the phase's random offsets and data; derived from the scenario seed when 0 or left out."},
		{name: "on_error", kind: kEnum, enum: []string{string(Continue), string(Stop)}, synonyms: []string{"continue_on_error", "onerror", "error", "errors"},
			doc: "continue: count failed I/Os and go on (default); stop: end the phase at the first error."},
		{name: "engine", kind: kEnum, enum: []string{EngineThreads, EngineURing}, synonyms: []string{"ioengine", "io_engine", "uring", "iouring"},
			doc: "How the phase issues I/O: threads (default; each queue slot blocks in pread/pwrite on its own thread) or io_uring (one ring per target, batched submission, for deep queues across many LUNs; falls back to threads, with a warning, where the kernel refuses io_uring)."},
		{name: "verify", kind: kBool, synonyms: []string{"check", "validate", "stamp"},
			doc: "Stamp every written block and check blocks on read, to catch lost or misdirected writes."},
		{name: "expect", kind: kCriteria, synonyms: []string{"criteria", "assert", "thresholds", "pass", "sla"},
			doc: "Pass/fail rules for this phase, metric: \"<cmp> <value>\" (read_p99: \"<= 2ms\")."},
		{name: "drills", kind: kList, object: objDrill, synonyms: []string{"drill", "faults", "fault", "inject"},
			doc: "Faults injected while the phase runs."},
	}
}

// objects returns the keys of every mapping in the format.
func objects() map[string][]keyDef {
	var defaults []keyDef
	for _, k := range phaseKeys() {
		if k.name != "name" && k.name != "drills" && k.name != "sweep" && k.name != "curve" && k.name != "until_steady" && k.name != "precondition" {
			defaults = append(defaults, k)
		}
	}
	return map[string][]keyDef{
		objScenario: {
			{name: "name", kind: kName, required: true, synonyms: []string{"title", "scenario"},
				doc: "Name of the scenario; used in the results directory name."},
			{name: "description", kind: kString, synonyms: []string{"desc", "about", "comment", "summary"},
				doc: "Free text shown in reports."},
			{name: "seed", kind: kUint64, synonyms: []string{"random_seed", "randseed"},
				doc: "Seed of every random choice; 0 or left out picks one, recorded in the results so the run can be repeated."},
			{name: "interval", kind: kDuration, min: int64(100 * time.Millisecond), synonyms: []string{"sample", "sample_interval", "resolution", "period"},
				doc: "Time-series resolution of the results (default 1s, at least 100ms)."},
			{name: "stall_threshold", kind: kDuration, positive: true, synonyms: []string{"stall", "stall_time", "stall_timeout", "stall_after"},
				doc: "How long a target may have I/O in flight with none completing before it counts as a stall (default 500ms)."},
			{name: "targets", kind: kList, object: objTarget, synonyms: []string{"target", "luns", "lun", "devices", "device", "disks"},
				doc: "The files and block devices to test."},
			{name: "defaults", kind: kObject, object: objDefaults, synonyms: []string{"default", "global", "common", "phase_defaults"},
				doc: "Phase keys applied to every phase that does not set them."},
			{name: "phases", kind: kList, object: objPhase, synonyms: []string{"phase", "steps", "jobs", "tests", "workloads"},
				doc: "The steps of the scenario, run in order."},
			{name: "criteria", kind: kCriteria, synonyms: []string{"expect", "assert", "thresholds", "pass", "sla"},
				doc: "Pass/fail rules over the whole run, metric: \"<cmp> <value>\" (max_stall: \"<= 15s\")."},
			{name: "hosts", kind: kList, object: objHost, synonyms: []string{"host", "initiators", "clients", "nodes", "agents"},
				doc: "Other initiator hosts the scenario runs on at once, each {name, ssh: user@host[:port]}; a target with host: NAME runs there. Left out, everything runs here."},
			{name: "on_host_loss", kind: kEnum, enum: []string{string(Continue), string(Stop)}, synonyms: []string{"host_loss", "on_agent_loss", "on_lost_host"},
				doc: "What the run does when a host's agent or its SSH connection is lost mid-run: continue with the others (default) or stop."},
		},
		objHost: {
			{name: "name", kind: kName, required: true, synonyms: []string{"host", "hostname"},
				doc: "Name of the host, unique in the scenario; targets (host:) and drills (on:) refer to it. \"local\" is this machine."},
			{name: "ssh", kind: kString, synonyms: []string{"destination", "address", "addr", "login"},
				doc: "Where to start the agent: user@host[:port], as ssh takes it (~/.ssh/config, agents, ProxyJump apply). Left out, the host's agent runs on this machine (to try a scenario out)."},
		},
		objTarget: {
			{name: "name", kind: kName, required: true, doc: "Name of the target, unique in the scenario; phases refer to it."},
			{name: "path", kind: kString, required: true, synonyms: []string{"file", "filename", "device", "dev", "lun"},
				doc: "A block device (/dev/mapper/mpatha) or a regular file; ${VAR} and ${VAR:-default} are expanded."},
			{name: "size", kind: kSize, align: 512, synonyms: []string{"file_size", "filesize", "capacity"},
				doc: "Files only: size to create a missing file with (sparse). Left out, the file or device must exist."},
			{name: "allow_write", kind: kBool, synonyms: []string{"allow_writes", "writable", "write", "writes", "readwrite", "destructive"},
				doc: "Must be true before any write or mixed phase may touch the target: writes destroy its data."},
			{name: "allow_ram_backed", kind: kBool, synonyms: []string{"allow_ram", "allow_tmpfs", "ram_backed", "allow_dev"},
				doc: "Files only: allow creating the file under /dev or on a RAM-backed filesystem (tmpfs, ramfs, devtmpfs), refused otherwise because the run would measure memory, not storage."},
			{name: "offset", kind: kSize, align: 512, synonyms: []string{"start", "offset_bytes"},
				doc: "Start of the range I/O is confined to (multiple of 512)."},
			{name: "length", kind: kSize, align: 512, synonyms: []string{"len", "range", "span"},
				doc: "Length of the range I/O is confined to (multiple of 512); left out, up to the end."},
			{name: "host", kind: kName, synonyms: []string{"on", "initiator", "client", "node"},
				doc: "The host (of hosts:) whose agent drives this target; left out, this machine."},
			{name: "expect", kind: kObject, object: objTargetExpect, synonyms: []string{"paths", "multipath"},
				doc: "What the storage path should look like, checked by lunbench check."},
			{name: "probe", kind: kObject, object: objTargetProbe, synonyms: []string{"access", "acl", "iscsi", "access_control"},
				doc: "Access control checked over the wire by lunbench's own iSCSI client before the first phase (lunbench probe)."},
			{name: "criteria", kind: kCriteria, synonyms: []string{"assert", "thresholds", "pass", "sla"},
				doc: "Pass/fail rules over the whole run for this target only, metric: \"<cmp> <value>\"."},
		},
		objTargetProbe: probeKeys(),
		objTargetExpect: {
			{name: "paths", kind: kInt, synonyms: []string{"path", "active_paths", "npaths"},
				doc: "Number of active multipath paths."},
			{name: "portals", kind: kInt, synonyms: []string{"portal", "nportals"},
				doc: "Number of distinct iSCSI portals."},
			{name: "chap", kind: kBool, synonyms: []string{"auth", "authentication"},
				doc: "Whether every iSCSI session uses CHAP."},
			{name: "recovery_tmo", kind: kMaxDuration, synonyms: []string{"replacement_timeout", "recovery_timeout", "timeout"},
				doc: "Upper bound for the iSCSI recovery timeout, \"<= 15s\"."},
		},
		objDefaults: defaults,
		objPhase:    phaseKeys(),
		objDrill: {
			{name: "name", kind: kName, required: true, doc: "Name of the drill, unique in its phase."},
			{name: "at", kind: kDuration, synonyms: []string{"start", "delay", "when", "offset"},
				doc: "When to inject, from the start of the phase (ramp included)."},
			{name: "after", kind: kName, synonyms: []string{"follows", "follow", "then"},
				doc: "Inject when the named drill of this phase has recovered, instead of at a time."},
			{name: "settle", kind: kDuration, synonyms: []string{"settle_time", "settling", "wait", "quiet"},
				doc: "With after: how long I/O must have flowed again after the earlier drill recovered before this one is injected (default: stall_threshold + 1s)."},
			{name: "manual", kind: kBool, synonyms: []string{"interactive", "operator"},
				doc: "The operator injects the fault by hand and marks the moment in the dashboard."},
			{name: "inject", kind: kString, synonyms: []string{"command", "cmd", "run", "exec", "fault"},
				doc: "Shell command that causes the fault (run with /bin/sh -c)."},
			{name: "timeout", kind: kDuration, positive: true, synonyms: []string{"command_timeout", "tmo"},
				doc: "Time limit for each of the drill's commands (default 60s)."},
			{name: "probe_login", kind: kBool, synonyms: []string{"login_probe", "probe", "watch_login", "portal_probe"},
				doc: "From the inject on, log in through the probe: block of the phase's targets until the portal answers a login again (the target's own recovery time)."},
			{name: "recover", kind: kObject, object: objRecover, synonyms: []string{"recovery", "restore", "undo", "revert", "heal"},
				doc: "The command that undoes the fault, and when to run it."},
			{name: "expect", kind: kCriteria, synonyms: []string{"criteria", "assert", "thresholds", "pass", "sla"},
				doc: "Pass/fail rules for the drill (max_stall, resume_within, throughput_after, errors, ...)."},
			{name: "on", kind: kName, synonyms: []string{"host", "run_on", "where"},
				doc: "The host (of hosts:) whose agent runs inject and recover; left out, the machine running lunbench."},
			{name: "failure", kind: kEnum, enum: []string{FailurePath, FailureAllPaths, FailureSession}, synonyms: []string{"failure_kind", "fault_kind", "kind", "fails"},
				doc: "What the fault takes away, for the failover budget: path (one path of a multipath map), all-paths, or session (the only iSCSI session: a VIP move or head failover behind one portal); left out, lunbench infers it from the target's topology."},
		},
		objHotBand: {
			{name: "range", kind: kPercent, required: true, synonyms: []string{"size", "span", "length", "extent"},
				doc: "Share of the range this band covers; bands are laid out from the range's start in order."},
			{name: "share", kind: kPercent, required: true, synonyms: []string{"io", "ios", "pct", "percent", "weight", "access"},
				doc: "Share of the I/Os that fall in this band."},
		},
		objSweep: {
			{name: "qd", kind: kScalarList, elem: kInt, min: 1, max: 1024, synonyms: []string{"iodepth", "queue_depth", "depth"},
				doc: "Queue depths to run the phase at, in order: [1, 2, 4, 8, 16, 32, 64]."},
			{name: "rate_iops", kind: kScalarList, elem: kFloat, synonyms: []string{"rate", "iops"},
				doc: "Open-loop rates (I/Os per second per target) to run the phase at, in order."},
			{name: "bs", kind: kScalarList, elem: kSize, positive: true, align: 512, max: 64 << 20, synonyms: []string{"blocksize", "block_size"},
				doc: "Block sizes to run the phase at, in order: [4k, 16k, 64k, 1M]."},
		},
		objSteady: {
			{name: "metric", kind: kEnum, enum: []string{"iops", "throughput"}, synonyms: []string{"measure", "on"},
				doc: "What must settle: iops (default) or throughput, reads and writes together over the phase's targets."},
			{name: "window", kind: kString, synonyms: []string{"rounds", "measurement_window"},
				doc: "Rounds to judge and the length of each, ROUNDS × LENGTH (5 × 60s, the default); the length a multiple of the scenario's interval."},
			{name: "max_excursion", kind: kPercent, max: 100, synonyms: []string{"excursion", "range", "max_range"},
				doc: "Largest allowed max − min of the rounds in the window, as a share of their average (default 20%)."},
			{name: "max_slope", kind: kPercent, max: 100, synonyms: []string{"slope"},
				doc: "Largest allowed change of the fitted line across the window, as a share of the average (default 10%)."},
			{name: "timeout", kind: kDuration, positive: true, synonyms: []string{"max", "limit", "max_duration"},
				doc: "Longest the phase runs when it never settles (default: the phase's duration)."},
		},
		objCurve: {
			{name: "points", kind: kScalarList, elem: kPercent, required: true, max: 100, synonyms: []string{"loads", "shares", "steps", "levels"},
				doc: "Shares of the maximum IOPS to run open loop at, in order: [10%, 30%, 50%, 70%, 80%, 90%, 100%]."},
			{name: "duration", kind: kDuration, positive: true, synonyms: []string{"runtime", "time", "each"},
				doc: "Measured time of each point (default: the phase's duration)."},
		},
		objRecover: {
			{name: "command", kind: kString, required: true, synonyms: []string{"cmd", "run", "exec", "inject"},
				doc: "Shell command that undoes the fault (run with /bin/sh -c)."},
			{name: "at", kind: kDuration, required: true, synonyms: []string{"after", "delay", "when"},
				doc: "When to run it, counted from the inject."},
		},
	}
}

// keyNames lists the names of defs in order.
func keyNames(defs []keyDef) []string {
	out := make([]string, len(defs))
	for i, d := range defs {
		out[i] = d.name
	}
	return out
}

// synonymMap maps every synonym in defs to its key.
func synonymMap(defs []keyDef) map[string]string {
	m := map[string]string{}
	for _, d := range defs {
		for _, s := range d.synonyms {
			if !slices.Contains(keyNames(defs), s) {
				m[s] = d.name
			}
		}
	}
	return m
}

// drillOnlyMetric reports whether a metric only makes sense around a
// drill's fault.
func drillOnlyMetric(m string) bool {
	return m == "resume_within" || m == "throughput_after" || m == "login_back"
}

// defaultCmp is the comparison a metric is usually held to, for hints.
func defaultCmp(metric string) Cmp {
	u, _ := MetricUnit(metric)
	switch {
	case u == Seconds:
		return LE
	case u == Count && !slices.Contains([]string{"iops", "read_iops", "write_iops"}, metric):
		return EQ
	}
	return GE
}

// probeKeys are the keys of a target's probe: block.
func probeKeys() []keyDef {
	return []keyDef{
		{name: "portals", kind: kStrings, required: true, synonyms: []string{"portal", "discovery", "address", "addresses"},
			doc: "Discovery portals, host or host:port (3260 when left out)."},
		{name: "target", kind: kString, synonyms: []string{"iqn", "target_name", "targetname"},
			doc: "Probe only this target IQN; left out, every target discovery shows."},
		{name: "allowed", kind: kStrings, synonyms: []string{"initiators", "initiator", "allow", "host_group"},
			doc: "Initiator names that must log in; the first one lists the LUNs and pings."},
		{name: "refused", kind: kStrings, synonyms: []string{"denied", "deny", "forbidden", "outsiders"},
			doc: "Initiator names that must be refused, or see no LUN."},
		{name: "chap", kind: kBool, synonyms: []string{"auth", "require_chap"},
			doc: "Whether the target must demand CHAP (a login without it is then an error)."},
		{name: "mutual_chap", kind: kBool, synonyms: []string{"mutual", "bidirectional", "two_way"},
			doc: "Whether the target must prove itself with the target secret (needs target_secret_env)."},
		{name: "chap_user", kind: kString, synonyms: []string{"user", "username", "chap_username"},
			doc: "CHAP user name of the initiator."},
		{name: "chap_secret_env", kind: kString, synonyms: []string{"secret_env", "password_env", "chap_secret"},
			doc: "Name of the environment variable holding the CHAP secret (the secret itself is never written)."},
		{name: "target_user", kind: kString, synonyms: []string{"mutual_user"},
			doc: "Mutual CHAP: the name the target must answer with."},
		{name: "target_secret_env", kind: kString, synonyms: []string{"mutual_secret_env", "target_secret"},
			doc: "Mutual CHAP: name of the environment variable holding the target's secret."},
		{name: "luns", kind: kInt, synonyms: []string{"lun_count", "nluns"},
			doc: "The first allowed initiator must see at least this many LUNs."},
		{name: "wwid", kind: kStrings, synonyms: []string{"wwids", "wwn", "naa"},
			doc: "WWIDs (as multipath shows them, 3 + NAA hex) the first allowed initiator must see."},
		{name: "pings", kind: kInt, min: 1, max: 100000, synonyms: []string{"nop", "count"},
			doc: "NOP-Out pings per portal for the latency (default 20)."},
		{name: "timeout", kind: kDuration, positive: true, synonyms: []string{"tmo", "login_timeout"},
			doc: "Bound on each network wait of the probe (default 3s)."},
	}
}
