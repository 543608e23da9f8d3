package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

func runCLI(args ...string) (int, string, string) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// Every command and subcommand answers --help, -h and "help" with its usage
// on stdout, exit 0, and nothing else.
func TestHelpExitsZeroEverywhere(t *testing.T) {
	for _, path := range [][]string{
		{}, {"serve"}, {"send"}, {"load"}, {"transform"}, {"transform", "test"}, {"sink"},
		{"events"}, {"events", "search"}, {"events", "show"}, {"replay"},
		{"dlq"}, {"dlq", "list"}, {"dlq", "replay"}, {"version"},
	} {
		for _, h := range []string{"--help", "-h", "help"} {
			args := append(append([]string{}, path...), h)
			code, out, errOut := runCLI(args...)
			want := strings.TrimSpace("hookshift " + strings.Join(path, " "))
			if code != 0 || errOut != "" || !strings.HasPrefix(out, "usage:") || !strings.Contains(out, want) {
				t.Errorf("%q: exit %d, stdout %.80q, stderr %.200q; want exit 0 and a usage naming %q", args, code, out, errOut, want)
			}
		}
	}
	// hookshift help COMMAND is COMMAND --help.
	_, viaHelp, _ := runCLI("help", "send")
	_, direct, _ := runCLI("send", "--help")
	if viaHelp != direct || !strings.Contains(direct, "FILE") || !strings.Contains(direct, "--secret") {
		t.Fatalf("help send:\n%s\nsend --help:\n%s", viaHelp, direct)
	}
}

var flagLine = regexp.MustCompile(`^  --([a-z0-9-]+)`)

func TestServeHelpListsEachOptionOnce(t *testing.T) {
	t.Setenv("HOOKSHIFT_ADMIN_TOKEN", "root-token-that-must-not-show")
	t.Setenv("HOOKSHIFT_SECRET_KEY", "secret-key-that-must-not-show")
	code, out, _ := runCLI("serve", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "must-not-show") {
		t.Fatalf("help prints a secret from the environment:\n%s", out)
	}
	_, fs, _ := parseServeFlags(nil)
	want := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { want[strings.TrimPrefix(f.Name, "hookshift-")] = true })
	lines := strings.Split(out, "\n")
	seen := map[string]bool{}
	for i, l := range lines {
		m := flagLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		name := m[1]
		if seen[name] || strings.HasPrefix(name, "hookshift-") {
			t.Errorf("--%s listed twice or under its long name", name)
		}
		seen[name] = true
		if env := envName(name); i+1 >= len(lines) || !strings.Contains(lines[i+1], "env "+env) {
			t.Errorf("--%s: its variable %s is not named", name, env)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("--%s missing from serve --help:\n%s", name, out)
		}
	}
}

func TestServeFlagsBothNamesAndEnv(t *testing.T) {
	for _, args := range [][]string{{"--addr", "127.0.0.1:1"}, {"--hookshift-addr", "127.0.0.1:1"}} {
		c, _, err := parseServeFlags(args)
		if err != nil || c.Addr != "127.0.0.1:1" {
			t.Fatalf("%q: %q %v", args, c.Addr, err)
		}
	}
	// Every option has its variable, and a flag (under either name) wins.
	t.Setenv("HOOKSHIFT_CONCURRENCY", "7")
	t.Setenv("HOOKSHIFT_ADDR", "127.0.0.1:2")
	c, _, err := parseServeFlags([]string{"--hookshift-addr", "127.0.0.1:3"})
	if err != nil || c.Concurrency != 7 || c.Addr != "127.0.0.1:3" {
		t.Fatalf("concurrency %d addr %q err %v", c.Concurrency, c.Addr, err)
	}
	if code, _, errOut := runCLI("serve", "extra"); code != 2 || !strings.Contains(errOut, `serve takes no arguments (got ["extra"])`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// A variable that does not parse is named, not silently ignored.
	t.Setenv("HOOKSHIFT_DEDUPE_WINDOW", "three days")
	code, _, errOut := runCLI("serve")
	if code != 2 || !strings.Contains(errOut, `HOOKSHIFT_DEDUPE_WINDOW="three days": want a duration`) {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

func TestUnknownCommandSaysSo(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"transform", "tset"}, `hookshift transform: unknown command "tset"`},
		{[]string{"frob"}, `hookshift: unknown command "frob"`},
		{[]string{"events", "frob"}, `hookshift events: unknown command "frob"`},
		{[]string{"dlq", "frob"}, `hookshift dlq: unknown command "frob"`},
		{[]string{"transform"}, `hookshift transform: missing command`},
	} {
		code, out, errOut := runCLI(c.args...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, c.want+"\n") || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2, %q and the usage", c.args, code, errOut, c.want)
		}
	}
}

func TestMissingRequiredIsNamed(t *testing.T) {
	t.Setenv("HOOKSHIFT_TOKEN", "")
	t.Setenv("HOOKSHIFT_ADMIN_TOKEN", "")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"send", "f.json"}, "--url is required"},
		{[]string{"send", "--url", "http://127.0.0.1:1/", "f.json"}, "--secret is required"},
		{[]string{"send", "--url", "http://127.0.0.1:1/", "--secret", "s"}, "FILE is required"},
		{[]string{"transform", "test", "--event", "e.json"}, "--code is required"},
		{[]string{"transform", "test", "--code", "c.js"}, "--event is required"},
		{[]string{"events", "show", "evt_1"}, "--token is required"},
		{[]string{"sink", "--addr"}, "flag needs an argument: --addr"},
	} {
		code, _, errOut := runCLI(c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || !strings.Contains(errOut, "usage:") {
			t.Errorf("%q: exit %d, stderr %q; want %q", c.args, code, errOut, c.want)
		}
	}
}

// syncBuffer is a bytes.Buffer safe to read while a command writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestSinkSaysListeningOnlyOnceListening(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	code, _, errOut := runCLI("sink", "--addr", busy.Addr().String())
	if code != 1 || strings.Contains(errOut, "listening") || !strings.Contains(errOut, "address already in use") {
		t.Fatalf("busy port: exit %d, %q", code, errOut)
	}

	// Port 0: it says the port it really got, and answers there.
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"sink", "--addr", "127.0.0.1:0"}, &stdout, &stderr) }()
	re := regexp.MustCompile(`listening on (http://127\.0\.0\.1:\d+)`)
	var base string
	for i := 0; i < 500 && base == ""; i++ {
		if m := re.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if base == "" || strings.HasSuffix(base, ":0") {
		cancel()
		t.Fatalf("no listening line with a real port: %q", stderr.String())
	}
	resp, err := http.Post(base+"/hook", "application/json", strings.NewReader(`{"a":1}`))
	if err != nil || resp.StatusCode != 200 {
		cancel()
		t.Fatalf("POST to the sink: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	if code := <-done; code != 0 || !strings.Contains(stdout.String(), `"body":{"a":1}`) {
		t.Fatalf("exit %d, stdout %q", code, stdout.String())
	}
}

func TestSendPrintsTheWebhookID(t *testing.T) {
	var mu sync.Mutex
	var ids []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		ids = append(ids, r.Header.Get("webhook-id"))
		mu.Unlock()
		io.WriteString(w, `{"event_id":"evt_1","duplicate":false}`+"\n")
	}))
	defer srv.Close()
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	file := "../../testdata/dodo/payment.succeeded.usd.json"
	code, out, errOut := runCLI("send", "--url", srv.URL, "--secret", secret, file)
	m := regexp.MustCompile(`webhook id (\S+)`).FindStringSubmatch(errOut)
	if code != 0 || m == nil || !strings.HasPrefix(out, "200 ") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = runCLI("send", "--url", srv.URL, "--secret", secret, "--id", m[1], file)
	if code != 0 || !strings.Contains(errOut, "webhook id "+m[1]) || len(ids) != 2 || ids[0] != m[1] || ids[1] != m[1] {
		t.Fatalf("exit %d, stderr %q, ids sent %q; want %s twice", code, errOut, ids, m[1])
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCLI(args...)
		if code != 0 || !strings.HasPrefix(out, "hookshift dev (go1.") {
			t.Errorf("%q: exit %d %q", args, code, out)
		}
	}
	bi := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "v1.2.3"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}}}
	if got, want := versionString("dev", bi), "hookshift v1.2.3 (go1.99, commit 0123456789ab (modified), committed 2026-01-02T03:04:05Z)"; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := versionString("2.0.0", bi); !strings.HasPrefix(got, "hookshift 2.0.0 (") {
		t.Errorf("-X version not preferred: %q", got)
	}
	// The release string really comes in through -ldflags -X.
	bin := filepath.Join(t.TempDir(), "hookshift")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version=9.9.9-test", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "hookshift 9.9.9-test (go") {
		t.Fatalf("%v %q", err, out)
	}
}

// The try-it banner's commands follow the README's tour: the CLI on PATH, the
// same webhook id sent twice, and the CLI's token set.
func TestEmbeddedBannerFollowsTheTour(t *testing.T) {
	var b bytes.Buffer
	printEmbeddedBanner(&b, "127.0.0.1:8080", "hsroot_x")
	out := b.String()
	if strings.Count(out, "--id msg_tour_1") != 2 || !strings.Contains(out, `export PATH="$PWD/bin:$PATH"`) ||
		!strings.Contains(out, "HOOKSHIFT_TOKEN=$TOKEN") || !strings.Contains(out, "ROOT=hsroot_x") {
		t.Fatalf("banner:\n%s", out)
	}
}
