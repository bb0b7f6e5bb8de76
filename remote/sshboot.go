package remote

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// bootPrefix starts every line the bootstrap script writes to stdout before
// it hands stdout to the agent.
const bootPrefix = "lunbench-bootstrap:"

// bootScript is the remote command's program: POSIX sh, run as
//
//	sh -c SCRIPT lunbench-bootstrap DIR VERSION SHA256 SIZE [AGENT ARGS...]
//
// It picks the lunbench to run, in this order:
//  1. the cached copy $XDG_CACHE_HOME/lunbench/DIR/lunbench (or under
//     $HOME/.cache), when it prints VERSION;
//  2. the lunbench on PATH, when it prints VERSION;
//  3. otherwise it says "need OS MACHINE INSTALLED-VERSION", reads one line:
//     "copy" makes it read SIZE bytes into a temp file in the cache
//     directory, check their SHA-256 and rename them into place; anything
//     else makes it exit.
//
// Then it says "start HOW PATH" and runs PATH agent ARGS, so the agent gets
// the connection's stdin and stdout from the next byte on. It runs it as a
// child, not by exec, and exits with its status: a killed agent becomes
// status 128+signal, which ssh passes on, where after an exec sshd would
// send a signal that ssh turns into its own status 255, the same as a lost
// connection. The coordinator
// writes nothing after the binary until it reads the start line, so the
// shell's and head's reads cannot swallow the agent's input. Version checks
// read /dev/null, not stdin, for the same reason. It writes nowhere but its
// own cache directory, and there only a temp name it removes on failure.
const bootScript = `set -u
p=` + bootPrefix + `
dir=$1 want=$2 sum=$3 size=$4
shift 4
say() { printf '%s %s\n' "$p" "$*"; }
start() { say start "$1" "$2"; b=$2; shift 2; "$b" agent "$@"; exit; }
base=${XDG_CACHE_HOME:-}
[ -n "$base" ] || [ -z "${HOME:-}" ] || base=$HOME/.cache
case $base in /*) ;; *) say error "neither XDG_CACHE_HOME nor HOME is set: nowhere to keep lunbench"; exit 3;; esac
cache=$base/lunbench/$dir
if [ -x "$cache/lunbench" ] && [ "$("$cache/lunbench" --version </dev/null 2>/dev/null)" = "$want" ]; then
	start cached "$cache/lunbench" "$@"
fi
have=none
if command -v lunbench >/dev/null 2>&1; then
	have=$(lunbench --version </dev/null 2>/dev/null | head -n 1)
	if [ "$have" = "$want" ]; then
		start installed "$(command -v lunbench)" "$@"
	fi
	[ -n "$have" ] || have=unknown
fi
say need "$(uname -s)" "$(uname -m)" "$have"
read -r answer || exit 3
[ "$answer" = copy ] || exit 3
(umask 077 && mkdir -p "$cache") || { say error "cannot create $cache"; exit 3; }
tmp=$cache/.lunbench.$$.tmp
trap 'rm -f "$tmp"' EXIT
trap 'exit 3' HUP INT TERM PIPE
head -c "$size" >"$tmp" || { say error "cannot write $tmp"; exit 3; }
got=$(wc -c <"$tmp")
[ "$((got))" -eq "$size" ] || { say error "received $((got)) of $size bytes"; exit 3; }
if command -v sha256sum >/dev/null 2>&1; then got=$(sha256sum <"$tmp")
elif command -v shasum >/dev/null 2>&1; then got=$(shasum -a 256 <"$tmp")
else got=$(openssl dgst -sha256 -r <"$tmp") || { say error "no sha256sum, shasum or openssl to check the copy"; exit 3; }
fi
got=${got%% *}
[ "$got" = "$sum" ] || { say error "copy's SHA-256 is $got, sent $sum"; exit 3; }
chmod 755 "$tmp" && mv -f "$tmp" "$cache/lunbench" || { say error "cannot move the copy to $cache/lunbench"; exit 3; }
trap - EXIT HUP INT TERM PIPE
start copied "$cache/lunbench" "$@"
`

// bootMsg is one line the bootstrap script said.
type bootMsg struct {
	Kind string // "start", "need" or "error"
	// start: How (installed, cached, copied) and Path.
	How, Path string
	// need: the remote's uname -s and -m and its lunbench's version line
	// ("none" without one on PATH).
	OS, Machine, Have string
	// error: the script's message.
	Text string
}

// parseBootLine reads a bootstrap line; ok is false for any other line (a
// login script's chatter, say).
func parseBootLine(line string) (m bootMsg, ok bool, err error) {
	rest, ok := strings.CutPrefix(line, bootPrefix+" ")
	if !ok {
		return m, false, nil
	}
	m.Kind, rest, _ = strings.Cut(rest, " ")
	switch m.Kind {
	case "start":
		m.How, m.Path, _ = strings.Cut(rest, " ")
		if m.Path == "" {
			return m, true, fmt.Errorf("bootstrap: start line without a path: %q", line)
		}
	case "need":
		f := strings.SplitN(rest, " ", 3)
		if len(f) < 3 {
			return m, true, fmt.Errorf("bootstrap: need line without os, machine and version: %q", line)
		}
		m.OS, m.Machine, m.Have = f[0], f[1], f[2]
	case "error":
		m.Text = rest
	default:
		return m, true, fmt.Errorf("bootstrap: unknown line %q", line)
	}
	return m, true, nil
}

// remoteCommand is the command line ssh hands to the remote login shell.
func remoteCommand(dir, version, sum string, size int64, args []string) string {
	words := []string{"sh", "-c", shellQuote(bootScript), "lunbench-bootstrap",
		shellQuote(dir), shellQuote(version), sum, strconv.FormatInt(size, 10)}
	for _, a := range args {
		words = append(words, shellQuote(a))
	}
	return strings.Join(words, " ")
}

var plainWord = regexp.MustCompile(`^[A-Za-z0-9_./=:,+@%-]+$`)

// shellQuote quotes s for a POSIX shell: as it is when it has nothing the
// shell would read, in single quotes otherwise.
func shellQuote(s string) string {
	if plainWord.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// cacheDirName names the cache directory of one binary: version, GOOS,
// GOARCH and the start of its SHA-256, so two builds of one version never
// share (and never overwrite) a copy.
func cacheDirName(version, goos, goarch, sum string) string {
	v := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, version)
	return fmt.Sprintf("%s-%s-%s-%s", v, goos, goarch, sum[:min(12, len(sum))])
}

// unameArch maps `uname -m` to the GOARCH whose binaries run there.
var unameArch = map[string]string{
	"x86_64": "amd64", "amd64": "amd64",
	"i386": "386", "i486": "386", "i586": "386", "i686": "386",
	"aarch64": "arm64", "arm64": "arm64", "aarch64_be": "arm64be",
	"armv5l": "arm", "armv5tel": "arm", "armv6l": "arm", "armv7l": "arm", "armv8l": "arm", "arm": "arm",
	"ppc64le": "ppc64le", "ppc64": "ppc64", "s390x": "s390x",
	"riscv64": "riscv64", "loongarch64": "loong64",
	"mips": "mips", "mipsel": "mipsle", "mips64": "mips64", "mips64el": "mips64le",
}

// unameOS maps `uname -s` to the GOOS values whose binaries run there.
var unameOS = map[string][]string{
	"Linux": {"linux"}, "Darwin": {"darwin"}, "FreeBSD": {"freebsd"}, "NetBSD": {"netbsd"},
	"OpenBSD": {"openbsd"}, "DragonFly": {"dragonfly"}, "SunOS": {"illumos", "solaris"},
}

// canRun tells whether a binary for goos/goarch runs on a host whose uname
// says osName and machine, with the reason when it does not.
func canRun(goos, goarch, osName, machine string) error {
	oses, ok := unameOS[osName]
	if !ok {
		return fmt.Errorf("its system is %s, which lunbench is not built for", osName)
	}
	match := false
	for _, o := range oses {
		match = match || o == goos
	}
	if !match {
		return fmt.Errorf("its system is %s; this lunbench is built for %s", osName, goos)
	}
	arch, ok := unameArch[machine]
	if !ok {
		return fmt.Errorf("its architecture is %s, which lunbench is not built for", machine)
	}
	if arch != goarch {
		return fmt.Errorf("its architecture is %s (GOARCH %s); this lunbench is %s/%s", machine, arch, goos, goarch)
	}
	return nil
}
