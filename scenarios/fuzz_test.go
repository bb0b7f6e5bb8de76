package scenarios

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to the loader. It must never panic, must
// explain every refusal as a *ValidationError, and whatever it accepts must
// survive Marshal and a re-load unchanged. Interesting inputs found while
// fuzzing are kept in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, name := range Builtins() {
		src, _ := BuiltinSource(name)
		f.Add(src)
	}
	f.Add(Starter("fuzz"))
	if full, err := os.ReadFile("testdata/full.yaml"); err == nil {
		f.Add(full)
	}
	f.Add([]byte("name: t\ntargets: [{name: a, path: /x}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n"))
	f.Add([]byte("a: &a [*a]\nname: *a\n"))
	// Extremes (issue 11): rates, sizes and paths at and past their limits.
	for _, ph := range []string{
		"rate_iops: 1e-300", "rate_iops: 5e9", "rate_iops: 0.1", "rate_iops: 10000000", "rate_iops: 1e308",
		"rate_iops: NaN", "rate_iops: -0", "rate: 8EiB/s", "rate: 409.6B/s", "rate: 0.0000001B/s",
		"rate: 99999999999999999999EiB/s", "bs: 64MiB", "bs: 9223372036854775807", "bytes: 8EiB", "qd: 1024",
		"duration: 2562047h", "ramp: 0.999999999s",
	} {
		f.Add([]byte("name: t\ntargets: [{name: a, path: /x}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s, " + ph + "}]\n"))
	}
	for _, tg := range []string{
		"path: \"/dev/zero\"", "path: \"/tmp/a\\0b\"", "path: \"/tmp/a\\nb\"", "path: /, size: 8EiB",
		"path: /x, size: 9223372036854775807", "path: /x, offset: 8EiB, size: 1EiB", "path: \"${NOPE}\"",
		"path: " + strings.Repeat("/a", 4096),
	} {
		f.Add([]byte("name: t\ntargets: [{name: a, " + tg + "}]\nphases: [{name: p, rw: read, bs: 4k, duration: 1s}]\n"))
	}
	f.Add([]byte("{}"))
	lookup := mapLookup(builtinEnv())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parse("f.yaml", data, config{lookup: lookup, seed: fixedSeed})
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("error without problems: %T %v", err, err)
			}
			for _, p := range ve.Problems {
				if p.Pos.File != "f.yaml" || p.Msg == "" {
					t.Fatalf("problem without a place or a message: %+v", p)
				}
			}
			return
		}
		out, err := Marshal(s)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		back, err := parse("f.yaml", out, config{seed: fixedSeed})
		if err != nil {
			t.Fatalf("re-load: %v\n%s", err, out)
		}
		if !reflect.DeepEqual(stripPos(s), stripPos(back)) {
			t.Fatalf("round trip changed the scenario:\n%+v\n%+v\n%s", stripPos(s), stripPos(back), out)
		}
	})
}
