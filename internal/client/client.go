// Package client is the CLI's side of the control plane: it signs
// CodeArtifact REST-JSON requests with SigV4, using the caller's AWS-style
// credentials (the same environment variables, profiles and shared files the
// aws CLI reads), and decodes answers and AWS-shaped errors.
package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
)

// Options say which server to talk to and as whom. Empty fields fall back
// to the environment, then to defaults.
type Options struct {
	Endpoint string // --endpoint-url
	Region   string // --region
	Profile  string // --profile
	HTTP     *http.Client
}

// EndpointEnv lists the variables that name the server, in order of
// precedence: wharf's own first, then the ones the AWS CLI and SDKs read, so
// a shell already set up for `aws codeartifact --endpoint-url`-less use works.
var EndpointEnv = []string{"WHARF_ENDPOINT_URL", "AWS_ENDPOINT_URL_CODEARTIFACT", "AWS_ENDPOINT_URL"}

// DefaultRegion is used when neither a flag, the environment nor a profile
// names one. Wharf accepts any region; SigV4 needs one.
const DefaultRegion = "us-east-1"

// Client calls one wharf server's control plane.
type Client struct {
	Endpoint string // base URL, no trailing slash
	Region   string
	creds    aws.CredentialsProvider
	http     *http.Client
	signer   *v4.Signer
}

// ErrNoEndpoint is returned when no server is named anywhere.
var ErrNoEndpoint = errors.New("no wharf server given: pass --endpoint-url http://HOST:PORT or set WHARF_ENDPOINT_URL (AWS_ENDPOINT_URL_CODEARTIFACT and AWS_ENDPOINT_URL are read too)")

// ResolveEndpoint applies the precedence flag > environment.
func ResolveEndpoint(flag string) (string, error) {
	v := flag
	for _, name := range EndpointEnv {
		if v != "" {
			break
		}
		v = os.Getenv(name)
	}
	if v == "" {
		return "", ErrNoEndpoint
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("endpoint %q is not an http(s) URL like http://HOST:PORT", v)
	}
	if u.User != nil {
		return "", errors.New("the endpoint URL must not contain credentials: the control plane is signed with your AWS-style access key")
	}
	return strings.TrimRight(v, "/"), nil
}

// New resolves the endpoint, region and credentials.
func New(ctx context.Context, o Options) (*Client, error) {
	ep, err := ResolveEndpoint(o.Endpoint)
	if err != nil {
		return nil, err
	}
	opts := []func(*config.LoadOptions) error{
		config.WithDefaultRegion(DefaultRegion),
		// Instance-role credentials are AWS's, never a wharf server's, and the
		// metadata service lookup costs seconds off EC2: skip it.
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS-style configuration: %w", err)
	}
	hc := o.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: time.Minute}
	}
	return &Client{Endpoint: ep, Region: cfg.Region, creds: cfg.Credentials, http: hc, signer: v4.NewSigner()}, nil
}

// APIError is an error answer of the control plane, with the code from
// x-amzn-ErrorType and the server's message verbatim.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("HTTP %d: %s", e.Status, e.Message)
	}
	return e.Code + ": " + e.Message
}

var emptySHA256 = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// Do sends a signed request without a body (CodeArtifact takes most input
// in the query) and decodes a JSON answer into out, if out is not nil.
func (c *Client) Do(ctx context.Context, method, path string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.Endpoint+path+"?"+q.Encode(), nil)
	if err != nil {
		return err
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("no AWS-style credentials to sign with (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE / --profile for ~/.aws/credentials): %w", err)
	}
	if err := c.signer.SignHTTP(ctx, creds, req, emptySHA256, "codeartifact", c.Region, time.Now()); err != nil {
		return fmt.Errorf("signing the request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach wharf at %s: %w", c.Endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the answer of %s: %w", c.Endpoint, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode, Code: resp.Header.Get("x-amzn-ErrorType")}
		// The code may carry a ":http://..." suffix in AWS's own answers.
		e.Code, _, _ = strings.Cut(e.Code, ":")
		var m struct {
			Message  string `json:"message"`
			MessageU string `json:"Message"`
		}
		if json.Unmarshal(body, &m) == nil && (m.Message != "" || m.MessageU != "") {
			e.Message = m.Message + m.MessageU
		} else {
			e.Message = strings.TrimSpace(string(body))
		}
		return e
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s answered %s %s with something that is not the expected JSON: is it a wharf server? (%v)", c.Endpoint, method, path, err)
	}
	return nil
}

// Token is an authorization token for a domain's repositories.
type Token struct {
	Value      string
	Expiration time.Time
}

// GetAuthorizationToken calls GetAuthorizationToken. duration 0 means the
// server's default (12 hours).
func (c *Client) GetAuthorizationToken(ctx context.Context, domain, owner string, duration time.Duration) (Token, error) {
	q := url.Values{"domain": {domain}}
	if owner != "" {
		q.Set("domain-owner", owner)
	}
	if duration > 0 {
		q.Set("duration", strconv.FormatInt(int64(duration/time.Second), 10))
	}
	var out struct {
		AuthorizationToken string  `json:"authorizationToken"`
		Expiration         float64 `json:"expiration"`
	}
	if err := c.Do(ctx, http.MethodPost, "/v1/authorization-token", q, &out); err != nil {
		return Token{}, err
	}
	if out.AuthorizationToken == "" {
		return Token{}, fmt.Errorf("%s answered GetAuthorizationToken without a token", c.Endpoint)
	}
	return Token{Value: out.AuthorizationToken, Expiration: time.Unix(int64(out.Expiration), 0).UTC()}, nil
}

// GetRepositoryEndpoint calls GetRepositoryEndpoint.
func (c *Client) GetRepositoryEndpoint(ctx context.Context, domain, owner, repo, format string) (string, error) {
	q := url.Values{"domain": {domain}, "repository": {repo}, "format": {format}}
	if owner != "" {
		q.Set("domain-owner", owner)
	}
	var out struct {
		RepositoryEndpoint string `json:"repositoryEndpoint"`
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/repository/endpoint", q, &out); err != nil {
		return "", err
	}
	if out.RepositoryEndpoint == "" {
		return "", fmt.Errorf("%s answered GetRepositoryEndpoint without an endpoint", c.Endpoint)
	}
	return out.RepositoryEndpoint, nil
}

// RepositoryLinks is what DescribeRepository says of a repository's search
// order: its upstream repositories, in order, and its external connections.
type RepositoryLinks struct {
	Upstreams           []string
	ExternalConnections []string
}

// DescribeRepositoryLinks calls DescribeRepository and keeps the links.
func (c *Client) DescribeRepositoryLinks(ctx context.Context, domain, owner, repo string) (RepositoryLinks, error) {
	q := url.Values{"domain": {domain}, "repository": {repo}}
	if owner != "" {
		q.Set("domain-owner", owner)
	}
	var out struct {
		Repository struct {
			Upstreams []struct {
				RepositoryName string `json:"repositoryName"`
			} `json:"upstreams"`
			ExternalConnections []struct {
				ExternalConnectionName string `json:"externalConnectionName"`
			} `json:"externalConnections"`
		} `json:"repository"`
	}
	if err := c.Do(ctx, http.MethodGet, "/v1/repository", q, &out); err != nil {
		return RepositoryLinks{}, err
	}
	var l RepositoryLinks
	for _, u := range out.Repository.Upstreams {
		l.Upstreams = append(l.Upstreams, u.RepositoryName)
	}
	for _, e := range out.Repository.ExternalConnections {
		l.ExternalConnections = append(l.ExternalConnections, e.ExternalConnectionName)
	}
	return l, nil
}
