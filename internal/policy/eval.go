package policy

import (
	"fmt"
	"strings"
)

// Request is one authorization question: may Principal perform Action
// ("codeartifact:ReadFromRepository") on Resource (an ARN, or "*")?
type Request struct {
	Principal string
	Action    string
	Resource  string
}

// Named is a resource policy with a name for messages ("the repository
// policy of arn:...").
type Named struct {
	Name string
	Doc  *Document
}

// Decision is the answer, with the reason in words.
type Decision struct {
	Allowed bool
	// Reason: which statement denied, or what allowed, or that nothing did.
	Reason string
	// ExplicitDeny is true when a Deny statement matched.
	ExplicitDeny bool
}

// Evaluate applies IAM's rules: an explicit Deny in any policy wins;
// otherwise, for a principal of the resource's own account, the request is
// allowed when the caller is the account root, or its identity policy
// allows it, or a resource policy allows it to that principal (another
// account's principal needs both); otherwise it is implicitly denied.
func Evaluate(req Request, identity *Document, resource []Named) Decision {
	for _, n := range resource {
		if n.Doc == nil {
			continue
		}
		for _, s := range n.Doc.Statements {
			if s.Effect == Deny && s.applies(req) {
				return Decision{ExplicitDeny: true, Reason: fmt.Sprintf("with an explicit deny in a resource-based policy: %s of %s", s.Name(), n.Name)}
			}
		}
	}
	if identity != nil {
		for _, s := range identity.Statements {
			if s.Effect == Deny && s.applies(req) {
				return Decision{ExplicitDeny: true, Reason: fmt.Sprintf("with an explicit deny in its identity-based policy (%s)", s.Name())}
			}
		}
	}
	identityAllows := ""
	if IsRoot(req.Principal) {
		identityAllows = "the account root"
	} else if identity != nil {
		for _, s := range identity.Statements {
			if s.Effect == Allow && s.applies(req) {
				identityAllows = "its identity-based policy"
				break
			}
		}
	}
	resourceAllows := ""
	for _, n := range resource {
		if n.Doc == nil || resourceAllows != "" {
			continue
		}
		for _, s := range n.Doc.Statements {
			if s.Effect == Allow && s.applies(req) {
				resourceAllows = fmt.Sprintf("%s of %s", s.Name(), n.Name)
				break
			}
		}
	}
	// Within an account either kind of policy suffices; across accounts
	// both must allow, as in AWS. A principal of no account (a token from
	// before principals existed) has only what resource policies grant.
	if owner, acct := resourceAccount(req.Resource), AccountOf(req.Principal); owner == "" || acct == "" || owner == acct {
		if identityAllows != "" {
			return Decision{Allowed: true, Reason: identityAllows}
		}
		if resourceAllows != "" {
			return Decision{Allowed: true, Reason: resourceAllows}
		}
	} else if identityAllows != "" && resourceAllows != "" {
		return Decision{Allowed: true, Reason: identityAllows + " and " + resourceAllows}
	}
	return Decision{Reason: fmt.Sprintf("because no identity-based policy or resource-based policy allows the %s action", req.Action)}
}

// applies reports whether the statement's principal, action and resource
// all match the request.
func (s Statement) applies(req Request) bool {
	if s.Principals != nil && !matchAnyPrincipal(s.Principals, req.Principal) {
		return false
	}
	if matchAny(s.Actions, req.Action, true) == s.NotAction {
		return false
	}
	return matchAnyResource(s.Resources, req.Resource) != s.NotResource
}

func matchAnyResource(patterns []string, arn string) bool {
	for _, p := range patterns {
		if matchResource(p, arn) {
			return true
		}
	}
	return false
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if Match(p, s, fold) {
			return true
		}
	}
	return false
}

// matchAnyPrincipal: "*" is everyone; an account id or the account's root
// ARN is every principal of that account (as in AWS, where it delegates to
// the account's IAM); any other ARN is that principal exactly.
func matchAnyPrincipal(principals []string, caller string) bool {
	acct := AccountOf(caller)
	for _, p := range principals {
		switch {
		case p == "*":
			return true
		case p == caller:
			return true
		case acct != "" && (p == acct || p == "arn:aws:iam::"+acct+":root"):
			return true
		}
	}
	return false
}

// Match reports whether s matches an IAM pattern, where * is any run of
// characters (including none, and ':' and '/') and ? is any one character.
// Actions compare case-insensitively (fold), ARNs case-sensitively.
func Match(pattern, s string, fold bool) bool {
	if fold {
		pattern, s = strings.ToLower(pattern), strings.ToLower(s)
	}
	// Greedy matching with one backtrack point: linear in practice and
	// never exponential, whatever the pattern.
	p, i, starP, starI := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			starP, starI = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case starP >= 0:
			starI++
			p, i = starP+1, starI
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// resourceAccount is the account field of an ARN ("" for "*").
func resourceAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	return parts[4]
}

// IsRoot reports whether principal is an account's root user.
// It is asked on every request, so it does not run iamARNPattern: with the
// ":root" suffix only its root form can match, 12 digits between the two.
func IsRoot(principal string) bool {
	acct, ok := strings.CutPrefix(principal, "arn:aws:iam::")
	if acct, ok = strings.CutSuffix(acct, ":root"); !ok || len(acct) != 12 {
		return false
	}
	for i := 0; i < len(acct); i++ {
		if acct[i] < '0' || acct[i] > '9' {
			return false
		}
	}
	return true
}

// AccountOf returns the account id of an IAM principal ARN ("" if it is not one).
func AccountOf(principal string) string {
	m := iamARNPattern.FindStringSubmatch(principal)
	if m == nil {
		return ""
	}
	return m[1]
}
