package upstream

import (
	"fmt"
	"net/http"
	"sync"
)

// credentialsByOrigin holds each connection's credentials under its
// origin. They are added to requests by authTransport, not to the request
// wharf builds, so net/http never carries them along a redirect: a request
// to another origin (a redirect, a file link to a CDN) goes without them.
type credentialsByOrigin struct {
	mu sync.RWMutex
	m  map[string]Credentials
}

// Authenticate sends conn's credentials on every request to its origin.
// Two connections on one origin must not disagree.
func (c *Client) Authenticate(conn Connection) error {
	if conn.Auth.IsZero() {
		return nil
	}
	o := conn.URL.origin()
	c.creds.mu.Lock()
	defer c.creds.mu.Unlock()
	if old, ok := c.creds.m[o]; ok && old != conn.Auth {
		return fmt.Errorf("two external connections on %s have different credentials; wharf sends one set per host", o)
	}
	if c.creds.m == nil {
		c.creds.m = map[string]Credentials{}
	}
	c.creds.m[o] = conn.Auth
	return nil
}

type authTransport struct {
	base  http.RoundTripper
	creds *credentialsByOrigin
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.creds.mu.RLock()
	cr, ok := t.creds.m[originOf(req.URL)]
	t.creds.mu.RUnlock()
	if ok {
		req = req.Clone(req.Context()) // a RoundTripper must not change its request
		cr.apply(req.Header)
	}
	return t.base.RoundTrip(req)
}
