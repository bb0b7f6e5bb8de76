package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// builtinFS holds the scenarios that ship in the binary.
//
//go:embed *.yaml
var builtinFS embed.FS

// starterTemplate is the file `lunbench init NAME` writes; NAME replaces
// the placeholder on its name: line.
//
//go:embed starter.tmpl
var starterTemplate []byte

// config is what a load depends on besides the file.
type config struct {
	lookup Lookup
	// seed picks the seed of a scenario that leaves it 0. Tests replace
	// it to get stable output.
	seed func() uint64
}

func randomSeed() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

// Parse decodes and validates a scenario. name is used in messages and as
// Scenario.Source; lookup supplies ${VAR} values (nil: none are set). A
// scenario with seed 0 gets a random nonzero seed. Anything wrong with the
// content is returned as a *ValidationError listing every problem.
func Parse(name string, data []byte, lookup Lookup) (*Scenario, error) {
	return parse(name, data, config{lookup: lookup, seed: randomSeed})
}

// MaxFileSize caps a scenario file. The largest real scenarios are a few
// KiB; the cap keeps /dev/zero or a mistaken disk image from eating memory.
const MaxFileSize = 4 << 20

// Load reads and parses the scenario file at path, as Parse does. The file
// must be a regular file (or a pipe) of at most MaxFileSize bytes.
func Load(path string, lookup Lookup) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read scenario: %w", err)
	}
	// A pipe is allowed for `lunbench run <(...)`; the cap bounds it.
	if !fi.Mode().IsRegular() && fi.Mode()&fs.ModeNamedPipe == 0 {
		return nil, fileProblem(path, fmt.Sprintf("%s, not a regular file; a scenario is a YAML file, or - to read it from stdin", fileKind(fi.Mode())))
	}
	return LoadReader(path, f, lookup)
}

// LoadReader reads a scenario of at most MaxFileSize bytes from r (a file
// or stdin) and parses it as Parse does; name is used in messages.
func LoadReader(name string, r io.Reader, lookup Lookup) (*Scenario, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read scenario %s: %w", name, err)
	}
	if len(data) > MaxFileSize {
		return nil, fileProblem(name, fmt.Sprintf("the scenario is larger than %s; a scenario file is a few KiB of YAML", FormatSize(MaxFileSize)))
	}
	return Parse(name, data, lookup)
}

// fileProblem is a *ValidationError about the scenario file as a whole.
func fileProblem(name, msg string) error {
	return &ValidationError{Problems: []Problem{{Pos: Pos{File: name}, Msg: msg}}}
}

// fileKind names what a non-regular file is, for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}

// LoadBuiltin parses the built-in scenario called name (see Builtins).
func LoadBuiltin(name string, lookup Lookup) (*Scenario, error) {
	data, ok := BuiltinSource(name)
	if !ok {
		return nil, notFound(name, nil)
	}
	s, err := Parse("builtin:"+name, data, lookup)
	if err != nil {
		return nil, err
	}
	s.Builtin = true
	return s, nil
}

// Resolve loads what a user named on the command line: an existing file
// first, else a built-in scenario. If arg is neither, the error is a
// *ValidationError that lists the built-ins.
func Resolve(arg string, lookup Lookup) (*Scenario, error) {
	fi, err := os.Stat(arg)
	if err == nil && !fi.IsDir() {
		return Load(arg, lookup)
	}
	if _, ok := BuiltinSource(arg); ok {
		return LoadBuiltin(arg, lookup)
	}
	if err == nil {
		err = fmt.Errorf("%s is a directory", arg)
	}
	return nil, notFound(arg, err)
}

// notFound explains that arg names no scenario. statErr says why it is
// not a file, when arg looks like one.
func notFound(arg string, statErr error) error {
	msg := fmt.Sprintf("no built-in scenario %q; built-ins are: %s", arg, strings.Join(Builtins(), ", "))
	if statErr != nil {
		why := "no such file"
		if !errors.Is(statErr, fs.ErrNotExist) {
			why = statErr.Error()
		}
		msg = fmt.Sprintf("%s, and no built-in scenario of that name; built-ins are: %s", why, strings.Join(Builtins(), ", "))
	}
	return &ValidationError{Problems: []Problem{{Pos: Pos{File: arg}, Msg: msg}}}
}

// Builtins lists the names of the built-in scenarios, sorted.
func Builtins() []string {
	entries, _ := builtinFS.ReadDir(".")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".yaml"))
	}
	slices.Sort(names)
	return names
}

// BuiltinSource returns the YAML text of a built-in scenario, for
// `lunbench init --from NAME` or for showing it.
func BuiltinSource(name string) ([]byte, bool) {
	if name == "" || strings.ContainsAny(name, "/\\") || name != path.Clean(name) {
		return nil, false
	}
	data, err := builtinFS.ReadFile(name + ".yaml")
	return data, err == nil
}

// Starter returns a commented scenario file for `lunbench init NAME`, a
// read-only test of one LUN that an admin edits from there.
func Starter(name string) []byte {
	return Rename(starterTemplate, name)
}

// ValidName reports whether name may be a scenario's name (it ends up in
// results directory names): letters, digits, '.', '_' and '-', up to 64.
func ValidName(name string) bool { return validName.MatchString(name) }

// Rename replaces the top-level name: line of a scenario's source, for
// `lunbench init NAME` and `init NAME --from BUILTIN`; comments and
// layout are kept as they are.
func Rename(src []byte, name string) []byte {
	v := name
	if !validName.MatchString(name) {
		v = strconv.Quote(name) // still YAML; the loader will say what is wrong
	}
	nameLine := regexp.MustCompile(`(?m)^name: .*$`)
	loc := nameLine.FindIndex(src)
	if loc == nil {
		return src
	}
	return slices.Concat(src[:loc[0]], []byte("name: "+v), src[loc[1]:])
}

// parse is Parse with every dependency explicit.
func parse(name string, data []byte, c config) (s *Scenario, err error) {
	d := &decoder{file: name, lookup: c.lookup}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(abort); !ok {
				panic(r)
			}
			s, err = nil, &ValidationError{Problems: sortProblems(d.probs)}
		}
	}()
	root, ok := d.document(data)
	if ok {
		s = d.scenario(root)
	}
	if len(d.probs) > 0 {
		return nil, &ValidationError{Problems: sortProblems(d.probs)}
	}
	if s.Seed == 0 {
		s.Seed = c.seed()
	}
	return s, nil
}

// yamlLine finds the line number in a yaml error message.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data into a YAML node tree and returns its root.
func (d *decoder) document(data []byte) (*yaml.Node, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := d.decodeYAML(dec, &doc, data); err != nil {
		if err == io.EOF {
			d.errAt(Pos{File: d.file, Line: 1, Column: 1}, "the file is empty; a scenario needs name:, targets: and phases:")
		}
		return nil, false
	}
	var next yaml.Node
	switch err := d.decodeYAML(dec, &next, data); {
	case err == io.EOF:
	case err != nil:
		return nil, false
	default:
		d.errf(&next, "a scenario file holds one YAML document; a second one starts here")
		return nil, false
	}
	if len(doc.Content) == 0 {
		d.errAt(Pos{File: d.file, Line: 1, Column: 1}, "the file is empty; a scenario needs name:, targets: and phases:")
		return nil, false
	}
	return doc.Content[0], true
}

// decodeYAML decodes one document, turning syntax errors into problems.
// It returns io.EOF at the end of the input, unreported.
func (d *decoder) decodeYAML(dec *yaml.Decoder, n *yaml.Node, data []byte) (err error) {
	defer func() {
		// A YAML library bug must not take the whole program down on a
		// malformed file; report it like a syntax error.
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: %v", r)
			d.errAt(Pos{File: d.file}, "invalid YAML: %v", r)
		}
	}()
	err = dec.Decode(n)
	if err == nil || err == io.EOF {
		return err
	}
	p, msg := Pos{File: d.file}, strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		p.Line, _ = strconv.Atoi(m[1])
		msg = m[2]
		if yamlParserError(msg) {
			// yaml.v3 prints 0-based lines for parser (not scanner)
			// errors; checked by TestBadScenarios.
			p.Line++
		}
		lines := bytes.Split(data, []byte("\n"))
		if p.Line >= 1 && p.Line <= len(lines) {
			line := lines[p.Line-1]
			p.Column = yamlColumn(line)
			if bytes.Contains(line, []byte("\t")) && !strings.Contains(msg, "tab") {
				msg += " (YAML does not allow tabs for indentation; use spaces)"
			}
		}
	}
	d.errAt(p, "invalid YAML: %s", msg)
	return err
}

// yamlColumn picks the column of a syntax error on line, since yaml.v3
// reports only the line: a tab in the indentation (the usual culprit),
// else the line's first character that is not a space.
func yamlColumn(line []byte) int {
	for i, c := range line {
		if c != ' ' {
			return i + 1
		}
	}
	return 1
}

// yamlParserError reports whether msg comes from yaml.v3's parser, whose
// line numbers are off by one, rather than from its scanner.
func yamlParserError(msg string) bool {
	for _, m := range []string{"did not find expected ", "found undefined tag handle",
		"found duplicate %YAML directive", "found duplicate %TAG directive", "found incompatible YAML document"} {
		if strings.HasPrefix(msg, m) {
			return true
		}
	}
	return false
}
