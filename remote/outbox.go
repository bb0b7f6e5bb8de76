package remote

import "sync"

// outbox queues an agent's messages for one writer goroutine, so the
// runner's aggregator and the collectors never wait on the channel to the
// coordinator: an SSH connection that crawls (the management network may be
// the one a drill fails over) must not delay stall detection on the host.
// The queue has no bound; a run's messages are a few KiB a second.
type outbox struct {
	conn   *Conn
	mu     sync.Mutex
	cond   *sync.Cond
	q      []*Msg
	closed bool
	err    error
	done   chan struct{}
}

func newOutbox(c *Conn) *outbox {
	o := &outbox{conn: c, done: make(chan struct{})}
	o.cond = sync.NewCond(&o.mu)
	go o.run()
	return o
}

// Send queues m; the error is the channel's, once a write has failed.
func (o *outbox) Send(m *Msg) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil || o.closed {
		return o.err
	}
	o.q = append(o.q, m)
	o.cond.Signal()
	return nil
}

func (o *outbox) run() {
	defer close(o.done)
	for {
		o.mu.Lock()
		for len(o.q) == 0 && !o.closed {
			o.cond.Wait()
		}
		q := o.q
		o.q = nil
		closed := o.closed
		o.mu.Unlock()
		for _, m := range q {
			if err := o.conn.Send(m); err != nil {
				o.mu.Lock()
				o.err = err
				o.mu.Unlock()
				return
			}
		}
		if closed && len(q) == 0 {
			return
		}
	}
}

// Close writes what is queued and stops the writer.
func (o *outbox) Close() {
	o.mu.Lock()
	o.closed = true
	o.cond.Signal()
	o.mu.Unlock()
	<-o.done
}
