package probe

import (
	"context"
	"fmt"
	"time"

	"lunbench/iscsi"
)

// LoginWatch is what logging in over and over during a drill showed: when
// the portal stopped answering logins and when it answered again. It is
// the target's own recovery time, apart from the host initiator's.
type LoginWatch struct {
	Phase    string    `json:"phase"`
	Drill    string    `json:"drill"`
	Target   string    `json:"target"`
	Portal   string    `json:"portal"`
	InjectAt time.Time `json:"inject_at"`
	Attempts int       `json:"attempts"`
	Failures int       `json:"failures"`
	// FirstFailure is when the first failed login started.
	FirstFailure time.Time `json:"first_failure,omitempty"`
	// Back is inject → the end of the first successful login after a
	// failure; Recovered says whether that happened before the watch ended.
	BackAt    time.Time     `json:"back_at,omitempty"`
	Back      time.Duration `json:"back_ns"`
	Recovered bool          `json:"recovered"`
	// Slowest is the longest login attempt, failed or not: a portal that
	// stalls for less than the attempt timeout shows here, not as a failure.
	Slowest time.Duration `json:"slowest_ns"`
	// LastError is the last failed login's error.
	LastError string `json:"last_error,omitempty"`
	Note      string `json:"note,omitempty"`
}

// Summary is one line for events and the console.
func (w LoginWatch) Summary() string {
	switch {
	case w.Failures == 0:
		return fmt.Sprintf("portal %s accepted all %d logins during the drill (slowest %.2f s)", w.Portal, w.Attempts, w.Slowest.Seconds())
	case w.Recovered:
		return fmt.Sprintf("portal %s answers logins again %.2f s after the inject (%d of %d logins failed)", w.Portal, w.Back.Seconds(), w.Failures, w.Attempts)
	}
	return fmt.Sprintf("portal %s did not answer a login again before the watch ended (%d logins failed; last: %s)", w.Portal, w.Failures, w.LastError)
}

// WatchOptions bound a login watch.
type WatchOptions struct {
	// Interval between login attempts (default 200 ms).
	Interval time.Duration
	// Timeout bounds each whole login attempt (default 1 s).
	Timeout time.Duration
	// Max ends the watch when no failure was seen by then, or none has
	// recovered (default 5 min).
	Max time.Duration
	// QuietAfter ends a watch that saw no failed login for this long after
	// the inject: the fault did not reach the portal (default 30 s).
	QuietAfter time.Duration
	Now        func() time.Time
}

func (o *WatchOptions) defaults() {
	if o.Interval <= 0 {
		o.Interval = 200 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.Max <= 0 {
		o.Max = 5 * time.Minute
	}
	if o.QuietAfter <= 0 {
		o.QuietAfter = 30 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// WatchLogins logs in to the first portal of cfg as its first allowed
// initiator, again and again from injectAt, until a login succeeds after a
// failed one, ctx ends, or the options' bounds pass. target is the IQN to
// log in to (cfg.Target, or one the pre-run probe discovered).
func WatchLogins(ctx context.Context, cfg Config, target string, injectAt time.Time, o WatchOptions) LoginWatch {
	o.defaults()
	allowed := DefaultInitiator
	if len(cfg.Allowed) > 0 {
		allowed = cfg.Allowed[0]
	}
	w := LoginWatch{Portal: withPort(cfg.Portals[0]), InjectAt: injectAt}
	opts := iscsi.Options{InitiatorName: allowed, TargetName: target, CHAP: cfg.CHAP, Timeout: o.Timeout, Dialer: cfg.Dialer, Now: o.Now}
	tick := time.NewTicker(o.Interval)
	defer tick.Stop()
	for {
		start := o.Now()
		actx, cancel := context.WithTimeout(ctx, o.Timeout)
		s, err := iscsi.Login(actx, cfg.Portals[0], opts)
		cancel()
		w.Slowest = max(w.Slowest, o.Now().Sub(start))
		if ctx.Err() != nil {
			w.Note = "the run ended"
			return w
		}
		w.Attempts++
		if err == nil {
			s.Logout()
			if w.Failures > 0 {
				w.BackAt = o.Now()
				w.Back, w.Recovered = w.BackAt.Sub(injectAt), true
				return w
			}
		} else {
			if w.Failures == 0 {
				w.FirstFailure = start
			}
			w.Failures++
			w.LastError = err.Error()
		}
		el := o.Now().Sub(injectAt)
		if el >= o.Max || (w.Failures == 0 && el >= o.QuietAfter) {
			w.Note = fmt.Sprintf("watch ended after %s", el.Round(time.Millisecond))
			return w
		}
		select {
		case <-ctx.Done():
			w.Note = "the run ended"
			return w
		case <-tick.C:
		}
	}
}
