package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"unsafe"
)

// csvLines reads the CSV files lunbench writes itself (intervals.csv,
// diskstats.csv) a line at a time, without encoding/csv's string per
// record: a 24 h run has 780,000 of them, and their garbage cost a
// second. Lines with a quote (a name with a comma) go through
// encoding/csv, so any valid CSV reads the same.
type csvLines struct {
	br     *bufio.Reader
	fields []string
	n      int // fields per record, from the header
}

func newCSVLines(r io.Reader) *csvLines {
	return &csvLines{br: bufio.NewReaderSize(r, 256<<10)}
}

// errTorn reports a last line without its newline, or with the wrong
// number of fields: the tail of a killed run.
var errTorn = errors.New("torn line")

// header reads the first record; its strings are the caller's to keep.
func (c *csvLines) header() ([]string, error) {
	rec, err := c.next()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(rec))
	for i, f := range rec {
		out[i] = strings.Clone(f)
	}
	c.n = len(out)
	return out, nil
}

// next returns the next record. Its strings may point into the reader's
// buffer and are only valid until the next call: clone what is kept.
// io.EOF ends the file; errTorn a last line cut short.
func (c *csvLines) next() ([]string, error) {
	line, err := c.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// A line longer than the buffer: not one lunbench wrote.
		return nil, errTorn
	}
	if err == io.EOF {
		if len(line) == 0 {
			return nil, io.EOF
		}
		return nil, errTorn
	}
	if err != nil {
		return nil, err
	}
	line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
	if bytes.IndexByte(line, '"') >= 0 {
		rec, err := csv.NewReader(bytes.NewReader(line)).Read()
		if err != nil {
			return nil, errTorn
		}
		c.fields = rec
	} else {
		// The fields are only read before the next call; copying the line
		// into a string for them was the reader's largest cost.
		s := unsafe.String(unsafe.SliceData(line), len(line))
		c.fields = c.fields[:0]
		for {
			i := strings.IndexByte(s, ',')
			if i < 0 {
				c.fields = append(c.fields, s)
				break
			}
			c.fields = append(c.fields, s[:i])
			s = s[i+1:]
		}
	}
	if c.n > 0 && len(c.fields) != c.n {
		return nil, errTorn
	}
	return c.fields, nil
}
