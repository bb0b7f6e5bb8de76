package remote

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOutboxNeverBlocks: with the coordinator not reading at all, an
// agent's sends return at once; once it reads, every message arrives, in
// order.
func TestOutboxNeverBlocks(t *testing.T) {
	r, w := io.Pipe() // a pipe holds nothing: a write waits for the reader
	o := newOutbox(NewConn(strings.NewReader(""), w))
	start := time.Now()
	for i := 1; i <= 1000; i++ {
		if err := o.Send(&Msg{Type: MsgEvent, Seq: i}); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("1000 sends to a stuck channel took %v", took)
	}
	got := make(chan int, 1)
	go func() {
		sc := bufio.NewScanner(r)
		n := 0
		for sc.Scan() {
			n++
			if !strings.Contains(sc.Text(), `"seq":`+strconv.Itoa(n)+`}`) {
				t.Errorf("line %d: %s", n, sc.Text())
			}
		}
		got <- n
	}()
	o.Close()
	w.Close()
	if n := <-got; n != 1000 {
		t.Errorf("%d messages arrived, want 1000", n)
	}
}
