package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/client"
)

// conn holds the flags every command that talks to a server shares; names
// follow the aws CLI's.
type conn struct {
	endpoint, region, profile string
	domain, owner             string
	duration                  int
}

func (c *conn) register(fs *flag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint-url", "", "wharf server URL (WHARF_ENDPOINT_URL, AWS_ENDPOINT_URL_CODEARTIFACT, AWS_ENDPOINT_URL)")
	fs.StringVar(&c.region, "region", "", "region to sign with (AWS_REGION, AWS_DEFAULT_REGION, the profile; default us-east-1)")
	fs.StringVar(&c.profile, "profile", "", "named profile from ~/.aws/config and ~/.aws/credentials (AWS_PROFILE)")
	fs.StringVar(&c.domain, "domain", "", "domain name (required)")
	fs.StringVar(&c.owner, "domain-owner", "", "12-digit account id that owns the domain (default: the server's account)")
	fs.IntVar(&c.duration, "duration-seconds", 0, "token lifetime: 0 (the default, 12 hours) or 900..43200")
}

func (c *conn) client(ctx context.Context) (*client.Client, error) {
	if c.domain == "" {
		return nil, errors.New("--domain is required")
	}
	return client.New(ctx, client.Options{Endpoint: c.endpoint, Region: c.region, Profile: c.profile})
}

func (c *conn) token(ctx context.Context, cl *client.Client) (client.Token, error) {
	return cl.GetAuthorizationToken(ctx, c.domain, c.owner, time.Duration(c.duration)*time.Second)
}

// parse parses a subcommand's flags. When it returns ok=false the caller
// returns code: 0 after -h/--help, whose usage went to stdout (the user
// asked for it, so it is neither an error nor stderr's business), 2 after a
// usage error, printed with the usage to stderr.
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	var out bytes.Buffer
	fs.SetOutput(&out)
	err := fs.Parse(args)
	fs.SetOutput(stderr)
	if errors.Is(err, flag.ErrHelp) {
		stdout.Write(out.Bytes())
		return 0, false
	}
	stderr.Write(out.Bytes())
	if err != nil {
		return 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wharf %s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return 2, false
	}
	return 0, true
}

// token prints a bare token and a newline, so `X=$(wharf token ...)` can
// never capture anything else; the JSON document only with --json.
func token(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	var c conn
	c.register(fs)
	asJSON := fs.Bool("json", false, "print the JSON document {authorizationToken, expiration} instead of the bare token")
	if code, ok := parse(fs, args, stdout, stderr); !ok {
		return code
	}
	ctx := context.Background()
	cl, err := c.client(ctx)
	if err != nil {
		return fail(stderr, "token", err)
	}
	tok, err := c.token(ctx, cl)
	if err != nil {
		return fail(stderr, "token", err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(map[string]any{"authorizationToken": tok.Value, "expiration": tok.Expiration.Unix()}, "", "    ")
		fmt.Fprintf(stdout, "%s\n", b)
		return 0
	}
	fmt.Fprintln(stdout, tok.Value)
	return 0
}

func fail(stderr io.Writer, cmd string, err error) int {
	fmt.Fprintf(stderr, "wharf %s: %v\n", cmd, err)
	return 1
}

// self is how to run this binary again in a printed command line.
func self() string {
	if strings.Contains(os.Args[0], "/") {
		if exe, err := os.Executable(); err == nil {
			return exe
		}
	}
	return "wharf"
}

// mask hides a token in what login prints: enough to recognize the kind.
func mask(s, tok string) string {
	if tok == "" {
		return s
	}
	m := "****"
	if strings.HasPrefix(tok, "wharf1.") {
		m = "wharf1.****"
	}
	return strings.ReplaceAll(s, tok, m)
}

func until(t time.Time) string {
	d := time.Until(t).Round(time.Minute)
	return fmt.Sprintf("%s (in %dh%02dm)", t.Local().Format(time.RFC3339), int(d.Hours()), int(d.Minutes())%60)
}
