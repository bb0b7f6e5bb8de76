// Package scenarios turns a YAML scenario file (or a built-in one) into a
// validated Scenario: every value parsed into base units (bytes, durations,
// fractions), defaults filled in, environment references expanded, and every
// problem reported at once with file:line:column.
//
// # The format
//
// A scenario names the targets to test, the phases to run on them one after
// the other, and the rules that decide pass or fail:
//
//	name: acceptance                # letters, digits, . _ - (used in file names)
//	description: New LUN acceptance # free text for reports
//	seed: 0                         # 0: pick one; the one used is recorded
//	interval: 1s                    # time resolution of the results (default 1s)
//	stall_threshold: 500ms          # in-flight I/O with no completion this long is a stall
//
//	targets:
//	  - name: lun0
//	    path: ${LUN:-/dev/mapper/mpatha} # a block device or a regular file
//	    size: 1GiB                  # files only: created sparse if missing
//	    allow_write: true           # needed by write and mixed phases: destroys data
//	    allow_ram_backed: false     # files only: true lets a missing file be created
//	                                # under /dev or on tmpfs/ramfs (refused otherwise)
//	    offset: 0                   # confine I/O to [offset, offset+length)
//	    length: 512MiB
//	    expect: {paths: 4, portals: 2, chap: true, recovery_tmo: "<= 15s"}
//	    probe: {portals: [198.18.0.10], allowed: [iqn.1993-08.org.debian:01:db1], chap: true,
//	            chap_user: db1, chap_secret_env: LB_CHAP_SECRET} # lunbench probe before the first phase
//	    criteria: {read_p99: "<= 5ms"} # rules for this target only
//
//	defaults:                       # any phase key but name and drills
//	  bs: 4k
//	  qd: 32
//	  duration: 60s
//
//	phases:
//	  - name: seq-read-1m
//	    rw: read                    # read write randread randwrite randrw readwrite
//	    bs: 1MiB                    # multiple of 512; k, K, KB, KiB all mean 1024
//	    qd: 8                       # I/Os in flight per target, 1..1024 (default 1)
//	    duration: 30s               # measured time; and/or bytes: 10GiB, whichever first
//	    ramp: 5s                    # warm-up before the duration, not measured
//	    targets: [lun0]             # default: every target
//	    seed: 42                    # default: derived from the scenario seed
//	    on_error: continue          # or stop
//	    verify: false               # stamp writes and check them on read
//	    expect:                     # metric: "<cmp> <value>", cmp one of <= < >= > ==
//	      read_throughput: ">= 200MiB/s"
//	      read_p99: "<= 2ms"
//	      errors: "== 0"
//	  - name: oltp
//	    rw: randrw
//	    read_pct: 70%               # mixes only (default 50%)
//	    bs: 8k
//	    rate_iops: 5000             # open loop, per target; or rate: 200MiB/s
//	    drills:
//	      - name: vip-move
//	        at: 20s                 # from the phase start; or after: DRILL; or manual: true
//	        inject: "pcs resource move vip node2"
//	        timeout: 60s            # per command (default 60s)
//	        recover: {command: "pcs resource clear vip", at: 30s} # at: after the inject
//	        expect: {max_stall: "<= 30s", errors: "== 0", resume_within: "<= 35s", throughput_after: ">= 90%"}
//
//	criteria:                       # rules over the whole run, same form as expect
//	  max_stall: "<= 15s"
//
// A rule's metric is one of MetricNames; its value is written in the
// metric's unit (see MetricUnit): a duration for latencies and stalls, a
// rate such as 200MiB/s for throughput, 90% or 0.9 for a share, a plain
// number otherwise. Every rule, wherever written, is one Criterion in
// Scenario.Criteria (with Phase or Target set by where it was written),
// except a drill's, which stays in Drill.Expect.
//
// The expect: block of defaults is merged metric by metric into each
// phase's, and, like read_pct there, applies only where it makes sense:
// read_* rules to phases that read, write_* rules to phases that write.
//
// Any scalar value may use ${VAR} or ${VAR:-default} (the default applies
// when VAR is unset or empty); "$${" is a literal "${". Inside [ ] and
// { } the value must be quoted ("${T}"), as braces are YAML syntax there.
// Variables come from the Lookup passed to the loader, never from the
// process directly.
//
// Loading is strict: an unknown key, a value of the wrong type or unit, a
// write phase on a target without allow_write: true and every other mistake
// is reported, all of them at once, as a *ValidationError whose lines read
// "file:line:col: message".
package scenarios
