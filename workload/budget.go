package workload

import "time"

// Budget is a drill's failover budget on one target: the worst-case stall
// the host's live iSCSI and multipath settings predict for the drill's
// kind of failure, term by term, set beside the stall the drill measured.
// lunbench run fills it in from collect/preflight (preflight.Failover); a
// host without iSCSI gets Available false and the reason, never a number.
type Budget struct {
	// Failure is the kind of fault predicted for: "path" (one path of a
	// multipath map dies, the others stay), "all-paths", or "session"
	// (the target's only iSCSI session: a VIP move or a head failover
	// behind one portal). FailureFrom says how it was chosen: "scenario"
	// (the drill's failure:) or "topology".
	Failure     string `json:"failure"`
	FailureFrom string `json:"failure_from"`
	// Available is false when there is nothing to predict from (no iSCSI
	// session under the target); Reason then says why.
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	// Predicted is the sum of Terms: the longest the fault can hold I/O
	// before Ends. Unbounded is true when I/O queues until a path comes
	// back (no_path_retry queue, or queue_if_no_path with no bound).
	Predicted time.Duration `json:"predicted_ns"`
	Unbounded bool          `json:"unbounded,omitempty"`
	// Formula names the terms added ("noop_out_interval + noop_out_timeout
	// + replacement_timeout"); Ends says what happens once they have run
	// out ("dm-multipath retries the I/O on the remaining paths").
	Formula string       `json:"formula"`
	Terms   []BudgetTerm `json:"terms,omitempty"`
	// NotAdded are settings read but not part of the sum, each with why
	// (polling_interval for a path failure: dm-multipath fails the path
	// on the I/O error itself).
	NotAdded []BudgetTerm `json:"not_added,omitempty"`
	Ends     string       `json:"ends,omitempty"`
	// Session is the iSCSI session whose settings give the worst case.
	Session string `json:"session,omitempty"`
	// Tolerance is how far above Predicted a measured stall may run before
	// it is a finding: 2 s + 20% of Predicted (see preflight.Tolerance).
	Tolerance time.Duration `json:"tolerance_ns"`
	// Measured is the drill's stall on the target (0 when I/O did not
	// stall); Ratio is Measured/Predicted (0 when not available).
	Measured time.Duration `json:"measured_ns"`
	Ratio    float64       `json:"ratio,omitempty"`
	// Finding is set when Measured is above Predicted + Tolerance: the
	// stall has a cause the host's settings do not explain.
	Finding string `json:"finding,omitempty"`
}

// BudgetTerm is one addend of a predicted stall: its name, its value and
// where the value was read (a sysfs attribute, a multipath.conf line, a
// built-in default).
type BudgetTerm struct {
	Name   string        `json:"name"`
	Value  time.Duration `json:"value_ns"`
	Source string        `json:"source"`
	// Why says what the term stands for in the failover.
	Why string `json:"why,omitempty"`
}

// Cause is one likely cause of a stall longer than the scenario's
// max_stall on a target reached through an IP (an iSCSI session), with
// the values found on the host. Drills list them in a fixed order: ARP
// cache, TCP retransmission backoff, iSCSI replacement_timeout and
// NOP-Out, multipath no_path_retry.
type Cause struct {
	// Cause is the cause's key: "arp", "tcp", "iscsi" or "no_path_retry".
	Cause string `json:"cause"`
	// Title is one line for the user; Explain says how it stalls I/O.
	Title   string `json:"title"`
	Explain string `json:"explain"`
	// Bound is how long this cause alone can hold I/O with the values
	// found (0 when it cannot be told).
	Bound time.Duration `json:"bound_ns,omitempty"`
	// Accounts is true when Bound alone is at least the stall: this
	// cause, with the values found, can explain all of it.
	Accounts bool         `json:"accounts_for_stall"`
	Values   []CauseValue `json:"values"`
}

// CauseValue is one setting behind a Cause: its name, value and where it
// was read.
type CauseValue struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Source string `json:"source"`
}
