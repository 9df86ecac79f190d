package policy

import (
	"fmt"
	"testing"
)

// EvaluateAny refuses only what Evaluate would refuse for every package
// under the prefix: a missing permission, or a Deny covering them all.
func TestEvaluateAny(t *testing.T) {
	const prefix = "arn:aws:codeartifact:us-east-1:" + acct + ":package/acme/main/pypi/"
	const publish = "codeartifact:PublishPackageVersion"
	repoPolicy := func(effect, principal, resource string) []Named {
		doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":%q,"Principal":{"AWS":%q},"Action":%q,"Resource":%q}]}`,
			effect, principal, publish, resource)
		d, err := ParseResource(doc)
		if err != nil {
			t.Fatal(err)
		}
		return []Named{{Name: "the repository policy", Doc: d}}
	}
	for _, c := range []struct {
		name      string
		principal string
		policies  []Named
		want      bool
	}{
		{"read profile", reader, nil, false},
		{"publish profile", pub, nil, true},
		{"root", root, nil, true},
		{"no profile, nothing granted", bare, nil, false},
		{"no profile, granted one package", bare, repoPolicy("Allow", bare, pkgARN), true},
		{"no profile, granted a package pattern", bare, repoPolicy("Allow", bare, "arn:aws:codeartifact:us-east-1:"+acct+":package/acme/main/pypi//req*"), true},
		{"no profile, granted another repository", bare, repoPolicy("Allow", bare, "arn:aws:codeartifact:us-east-1:"+acct+":package/acme/other/*"), false},
		{"publish profile, every package denied", pub, repoPolicy("Deny", "*", "*"), false},
		{"publish profile, the repository's packages denied", pub, repoPolicy("Deny", pub, "arn:aws:codeartifact:us-east-1:"+acct+":package/acme/main/*"), false},
		{"publish profile, one package denied", pub, repoPolicy("Deny", pub, pkgARN), true},
		{"publish profile, packages starting with x denied", pub, repoPolicy("Deny", pub, prefix+"/x*"), true},
		{"publish profile, another principal denied", pub, repoPolicy("Deny", reader, "*"), true},
		{"read profile granted by the repository", reader, repoPolicy("Allow", reader, "*"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			req := Request{Principal: c.principal, Action: publish, Resource: prefix + "*"}
			d := EvaluateAny(req, prefix, Identity(c.principal), c.policies)
			if d.Allowed != c.want {
				t.Fatalf("EvaluateAny = %+v, want allowed=%v", d, c.want)
			}
			// Never stricter than the exact check on a package under prefix.
			exact := Evaluate(Request{Principal: c.principal, Action: publish, Resource: pkgARN}, Identity(c.principal), c.policies)
			if exact.Allowed && !d.Allowed {
				t.Fatalf("refused everything although %s is allowed", pkgARN)
			}
		})
	}
}

func TestPatternCoverage(t *testing.T) {
	const p = "arn:x:package/d/r/pypi/"
	for _, c := range []struct {
		pattern   string
		some, all bool
	}{
		{"*", true, true},
		{"arn:x:package/d/r/*", true, true},
		{"arn:x:package/d/r/pypi/*", true, true},
		{"arn:x:package/d/r/pypi/", true, false},
		{"arn:x:package/d/r/pypi//requests", true, false},
		{"arn:x:package/d/*/pypi/*", true, true},
		{"arn:x:package/d/r/npm/*", false, false},
		{"arn:x:package/d/?/pypi/*", true, true},
		{"arn:x:package/d/r/pypi/*x", true, false},
		{"arn:x:package/d/r/pypi/?*", true, false},
		{"arn:x:package/d/r/pypi/**", true, true},
	} {
		if got := patternMatchesSome(c.pattern, p); got != c.some {
			t.Errorf("patternMatchesSome(%q) = %v", c.pattern, got)
		}
		if got := patternMatchesAll(c.pattern, p); got != c.all {
			t.Errorf("patternMatchesAll(%q) = %v", c.pattern, got)
		}
	}
}
