package policy

import (
	"context"
	"fmt"
	"strings"
)

// A data-plane upload names its package only inside its body, which must not
// be read for a principal that may publish nothing in the repository. So
// before reading it, the server asks the wider question: may Principal
// perform Action on SOME resource whose ARN starts with a prefix (the
// repository's packages of a format)? The answer must never refuse a
// principal the exact per-package check would allow, so it errs towards
// allowing: a Deny refuses only when it covers every ARN under the prefix,
// an Allow counts as soon as it could match one of them.

// AuthorizeAny decides whether req.Principal may perform req.Action on any
// resource whose ARN starts with prefix (req.Resource is only used in
// messages; set it to prefix+"*"). The policies consulted are those the
// exact check on such a resource would consult.
func (a *Authorizer) AuthorizeAny(ctx context.Context, req Request, prefix string) (Decision, error) {
	docs, err := a.policiesFor(ctx, prefix+"x")
	if err != nil {
		return Decision{}, err
	}
	return EvaluateAny(req, prefix, Identity(req.Principal), docs), nil
}

// EvaluateAny is Evaluate over every resource under prefix (see AuthorizeAny).
func EvaluateAny(req Request, prefix string, identity *Document, resource []Named) Decision {
	for _, n := range resource {
		if n.Doc == nil {
			continue
		}
		for _, s := range n.Doc.Statements {
			if s.Effect == Deny && s.appliesToAll(req, prefix) {
				return Decision{ExplicitDeny: true, Reason: fmt.Sprintf("with an explicit deny in a resource-based policy: %s of %s", s.Name(), n.Name)}
			}
		}
	}
	if identity != nil {
		for _, s := range identity.Statements {
			if s.Effect == Deny && s.appliesToAll(req, prefix) {
				return Decision{ExplicitDeny: true, Reason: fmt.Sprintf("with an explicit deny in its identity-based policy (%s)", s.Name())}
			}
		}
	}
	identityAllows := IsRoot(req.Principal)
	if identity != nil {
		for _, s := range identity.Statements {
			identityAllows = identityAllows || s.Effect == Allow && s.appliesToSome(req, prefix)
		}
	}
	resourceAllows := false
	for _, n := range resource {
		if n.Doc == nil {
			continue
		}
		for _, s := range n.Doc.Statements {
			resourceAllows = resourceAllows || s.Effect == Allow && s.appliesToSome(req, prefix)
		}
	}
	owner, acct := resourceAccount(prefix+"x"), AccountOf(req.Principal)
	sameAccount := owner == "" || acct == "" || owner == acct
	if sameAccount && (identityAllows || resourceAllows) || identityAllows && resourceAllows {
		return Decision{Allowed: true, Reason: "a policy that may allow it on some of these resources"}
	}
	return Decision{Reason: fmt.Sprintf("because no identity-based policy or resource-based policy allows the %s action", req.Action)}
}

// appliesToAll: the statement matches the principal and action, and every
// resource under prefix (certainly: a pattern that might cover them only
// together with another is not counted).
func (s Statement) appliesToAll(req Request, prefix string) bool {
	if !s.matchesCaller(req) {
		return false
	}
	if s.NotResource {
		for _, p := range s.Resources {
			if patternMatchesSome(p, prefix) {
				return false
			}
		}
		return true
	}
	for _, p := range s.Resources {
		if patternMatchesAll(p, prefix) {
			return true
		}
	}
	return false
}

// appliesToSome: the statement matches the principal and action, and may
// match some resource under prefix.
func (s Statement) appliesToSome(req Request, prefix string) bool {
	if !s.matchesCaller(req) {
		return false
	}
	if s.NotResource {
		for _, p := range s.Resources {
			if patternMatchesAll(p, prefix) {
				return false
			}
		}
		return true
	}
	for _, p := range s.Resources {
		if patternMatchesSome(p, prefix) {
			return true
		}
	}
	return false
}

func (s Statement) matchesCaller(req Request) bool {
	if s.Principals != nil && !matchAnyPrincipal(s.Principals, req.Principal) {
		return false
	}
	return matchAny(s.Actions, req.Action, true) != s.NotAction
}

// patternStates are the positions in an IAM pattern reachable after
// matching prefix (as in Match: * is any run, ? any one character), closed
// over *'s empty match.
func patternStates(pattern, prefix string) []int {
	closure := func(states map[int]bool) {
		for k := 0; k < len(pattern); k++ { // positions only grow: one pass
			if states[k] && pattern[k] == '*' {
				states[k+1] = true
			}
		}
	}
	states := map[int]bool{0: true}
	closure(states)
	for i := 0; i < len(prefix) && len(states) > 0; i++ {
		next := map[int]bool{}
		for k := range states {
			switch {
			case k == len(pattern):
			case pattern[k] == '*':
				next[k] = true
			case pattern[k] == '?' || pattern[k] == prefix[i]:
				next[k+1] = true
			}
		}
		closure(next)
		states = next
	}
	out := make([]int, 0, len(states))
	for k := range states {
		out = append(out, k)
	}
	return out
}

// patternMatchesSome: some string starting with prefix matches pattern (any
// position reached can be completed by choosing the rest).
func patternMatchesSome(pattern, prefix string) bool { return len(patternStates(pattern, prefix)) > 0 }

// patternMatchesAll: every string starting with prefix, and longer than
// it, matches pattern: a position reached is followed by nothing but '*'.
func patternMatchesAll(pattern, prefix string) bool {
	for _, k := range patternStates(pattern, prefix) {
		if k < len(pattern) && strings.Trim(pattern[k:], "*") == "" {
			return true
		}
	}
	return false
}
