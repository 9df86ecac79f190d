package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/wharfhq/wharf/internal/auth"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/testenv/embedded"
)

// A remembered read holds only for the same header, repository and
// method class, until the token expires or a permission policy changes.
func TestReadMemo(t *testing.T) {
	st, bl, _ := embedded.Storage(t)
	reg := registry.New(st, bl, slog.New(slog.NewTextHandler(io.Discard, nil)))
	m := &readMemo{policies: reg.PolicyReader()}
	now := time.Now()
	ref := registry.RepoRef{Owner: "123456789012", Domain: "dom", Repository: "repo"}
	req := func(method, authz string) *http.Request {
		r := httptest.NewRequest(method, "/dom-123456789012/pypi/repo/simple/", nil)
		r.Header.Set("Authorization", authz)
		return r
	}
	claims := auth.Claims{Domain: "dom", DomainOwner: "123456789012", Principal: "arn:aws:iam::123456789012:root", ExpiresAt: now.Add(time.Hour)}
	remember := func() {
		m.remember(req("GET", "Basic x"), ref, claims, m.generation(), now)
	}
	remember()
	if c, ok := m.lookup(req("GET", "Basic x"), ref, now); !ok || c.Principal != claims.Principal {
		t.Fatal("remembered read not found")
	}
	if _, ok := m.lookup(req("HEAD", "Basic x"), ref, now); !ok {
		t.Fatal("HEAD is a read too")
	}
	for name, miss := range map[string]func() bool{
		"POST":         func() bool { _, ok := m.lookup(req("POST", "Basic x"), ref, now); return ok },
		"other header": func() bool { _, ok := m.lookup(req("GET", "Basic y"), ref, now); return ok },
		"other repo": func() bool {
			o := ref
			o.Repository = "other"
			_, ok := m.lookup(req("GET", "Basic x"), o, now)
			return ok
		},
		"expired": func() bool { _, ok := m.lookup(req("GET", "Basic x"), ref, now.Add(time.Hour)); return ok },
	} {
		if miss() {
			t.Errorf("%s: remembered read used", name)
		}
	}
	m.remember(req("POST", "Basic p"), ref, claims, m.generation(), now)
	if _, ok := m.lookup(req("GET", "Basic p"), ref, now); ok {
		t.Error("a POST was remembered")
	}
	// A policy change forgets everything.
	if err := reg.Store().PutPolicy(t.Context(), store.Policy{ResourceARN: "arn:aws:codeartifact::123456789012:repository/dom/repo", Document: "{}", Revision: "1"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.lookup(req("GET", "Basic x"), ref, now); ok {
		t.Fatal("read remembered across a policy change")
	}
}
