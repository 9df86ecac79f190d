// Package policy parses and evaluates IAM permission policies: the
// resource policies of domains and repositories (PutDomainPermissionsPolicy,
// PutRepositoryPermissionsPolicy) and the fixed identity policies wharf
// gives its access keys (see Identity). It is pure: Authorizer adds the
// store lookups.
package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Effect is a statement's Effect.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Document is a parsed, validated policy.
type Document struct {
	Version    string
	Statements []Statement
}

// Statement is one statement. Exactly one of Action/NotAction and of
// Resource/NotResource was given; Principals is nil in identity policies.
type Statement struct {
	Sid         string
	Index       int // 1-based position, for messages when there is no Sid
	Effect      Effect
	Actions     []string
	NotAction   bool
	Resources   []string
	NotResource bool
	Principals  []string // "*", an account id, or an IAM ARN
}

// Name identifies the statement in messages.
func (s Statement) Name() string {
	if s.Sid != "" {
		return fmt.Sprintf("statement %q", s.Sid)
	}
	return fmt.Sprintf("statement #%d", s.Index)
}

// Error is a document that is not a valid policy; Message says what to fix.
type Error struct{ Message string }

func (e *Error) Error() string { return "invalid policy document: " + e.Message }

func invalid(format string, args ...any) *Error { return &Error{Message: fmt.Sprintf(format, args...)} }

var (
	accountPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	iamARNPattern    = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):(root|(user|role)(/[\x21-\x7e]*)?/[\w+=,.@-]{1,128})$`)
	actionPattern    = regexp.MustCompile(`^([a-z0-9-]+):([A-Za-z0-9*?]+)$`)
	sidPattern       = regexp.MustCompile(`^[A-Za-z0-9]*$`)
	knownStatementEl = []string{"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

// ParseResource parses a resource policy: every statement needs a Principal.
func ParseResource(doc string) (*Document, error) { return parse(doc, true) }

// ParseIdentity parses an identity policy: statements have no Principal.
func ParseIdentity(doc string) (*Document, error) { return parse(doc, false) }

func parse(doc string, resource bool) (*Document, error) {
	var top map[string]json.RawMessage
	if err := strictJSON([]byte(doc), &top); err != nil {
		return nil, invalid("not a JSON object: %v", err)
	}
	d := &Document{}
	for k := range top {
		if k != "Version" && k != "Statement" && k != "Id" {
			return nil, invalid("unknown top-level element %q; a policy has Version, Statement and optionally Id (names are case-sensitive)", k)
		}
	}
	if raw, ok := top["Version"]; ok {
		if err := json.Unmarshal(raw, &d.Version); err != nil || (d.Version != "2012-10-17" && d.Version != "2008-10-17") {
			return nil, invalid(`Version must be "2012-10-17" (or the legacy "2008-10-17"), got %s`, clipRaw(raw))
		}
	}
	if raw, ok := top["Id"]; ok {
		var id string
		if json.Unmarshal(raw, &id) != nil {
			return nil, invalid("Id must be a string, got %s", clipRaw(raw))
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, invalid("the document has no Statement")
	}
	var list []json.RawMessage
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		list = []json.RawMessage{raw}
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, invalid("Statement must be an object or a list of objects, got %s", clipRaw(raw))
	}
	if len(list) == 0 {
		return nil, invalid("Statement is empty: a policy needs at least one statement")
	}
	sids := map[string]bool{}
	for i, sraw := range list {
		s, err := parseStatement(sraw, i+1, resource)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, invalid("two statements have the Sid %q; Sids must be unique within a policy", s.Sid)
			}
			sids[s.Sid] = true
		}
		d.Statements = append(d.Statements, s)
	}
	return d, nil
}

func parseStatement(raw json.RawMessage, index int, resource bool) (Statement, error) {
	s := Statement{Index: index}
	var el map[string]json.RawMessage
	if err := json.Unmarshal(raw, &el); err != nil {
		return s, invalid("statement #%d is not a JSON object", index)
	}
	where := fmt.Sprintf("statement #%d", index)
	if v, ok := el["Sid"]; ok {
		if json.Unmarshal(v, &s.Sid) != nil || !sidPattern.MatchString(s.Sid) {
			return s, invalid("%s: Sid must be a string of letters and digits, got %s", where, clipRaw(v))
		}
		if s.Sid != "" {
			where = fmt.Sprintf("statement %q", s.Sid)
		}
	}
	for k := range el {
		if !contains(knownStatementEl, k) {
			return s, invalid("%s: unknown element %q; known elements: %s (names are case-sensitive)", where, k, strings.Join(knownStatementEl, ", "))
		}
	}
	if _, ok := el["Condition"]; ok {
		return s, invalid("%s: unsupported condition: wharf does not evaluate Condition blocks, and ignoring one would grant or deny more than the policy says; remove the Condition or split the statement", where)
	}
	if _, ok := el["NotPrincipal"]; ok {
		return s, invalid("%s: NotPrincipal is not supported; use Principal (with Effect Deny to exclude someone)", where)
	}
	var eff string
	if v, ok := el["Effect"]; !ok || json.Unmarshal(v, &eff) != nil || (eff != "Allow" && eff != "Deny") {
		return s, invalid(`%s: Effect must be "Allow" or "Deny"`, where)
	}
	s.Effect = Effect(eff)

	var err error
	if s.Actions, s.NotAction, err = either(el, "Action", "NotAction", where); err != nil {
		return s, err
	}
	for _, a := range s.Actions {
		if err := checkAction(a); err != nil {
			return s, invalid("%s: %v", where, err)
		}
	}
	if s.Resources, s.NotResource, err = either(el, "Resource", "NotResource", where); err != nil {
		return s, err
	}
	for _, r := range s.Resources {
		if err := checkResource(r); err != nil {
			return s, invalid("%s: %v", where, err)
		}
	}

	p, hasP := el["Principal"]
	switch {
	case resource && !hasP:
		return s, invalid("%s has no Principal: a resource policy must say whom it applies to (\"*\", an account id, or IAM ARNs under {\"AWS\": ...})", where)
	case !resource && hasP:
		return s, invalid("%s: an identity policy has no Principal", where)
	case hasP:
		if s.Principals, err = parsePrincipal(p); err != nil {
			return s, invalid("%s: %v", where, err)
		}
	}
	return s, nil
}

// either reads exactly one of two string-or-list elements.
func either(el map[string]json.RawMessage, name, notName, where string) ([]string, bool, error) {
	v, has := el[name]
	nv, hasNot := el[notName]
	switch {
	case has && hasNot:
		return nil, false, invalid("%s has both %s and %s; use one", where, name, notName)
	case !has && !hasNot:
		return nil, false, invalid("%s has neither %s nor %s", where, name, notName)
	case hasNot:
		v, name = nv, notName
	}
	list, err := stringOrList(v)
	if err != nil {
		return nil, false, invalid("%s: %s %v", where, name, err)
	}
	return list, hasNot, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		return nil, fmt.Errorf("must be a string or a list of strings, got %s", clipRaw(raw))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("must not be an empty list")
	}
	return list, nil
}

func checkAction(a string) error {
	if a == "*" {
		return nil
	}
	m := actionPattern.FindStringSubmatch(a)
	if m == nil {
		return fmt.Errorf(`action %q is not of the form "service:Action" (for example "codeartifact:ReadFromRepository"; wildcards * and ? are allowed in the action part)`, a)
	}
	if strings.EqualFold(m[1], "codeartifact") && !strings.ContainsAny(m[2], "*?") && canonicalAction(m[2]) == "" {
		return fmt.Errorf("action %q is not a CodeArtifact action (see the list of actions in the CodeArtifact service authorization reference)", a)
	}
	return nil
}

func checkResource(r string) error {
	if strings.Contains(r, "${") {
		return fmt.Errorf("resource %q uses a policy variable; wharf does not support policy variables", r)
	}
	if r == "*" {
		return nil
	}
	if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
		return fmt.Errorf(`resource %q is neither "*" nor an ARN (arn:aws:codeartifact:REGION:ACCOUNT:repository/DOMAIN/REPOSITORY, wildcards allowed)`, r)
	}
	return nil
}

func parsePrincipal(raw json.RawMessage) ([]string, error) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, fmt.Errorf(`Principal must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}, got %s`, clipRaw(raw))
		}
		return []string{"*"}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil, fmt.Errorf(`Principal must be "*" or an object such as {"AWS": "arn:aws:iam::123456789012:root"}, got %s`, clipRaw(raw))
	}
	for k := range m {
		if k != "AWS" {
			return nil, fmt.Errorf("principal type %q is not supported: wharf's principals are accounts and their users and roles, named under \"AWS\"", k)
		}
	}
	list, err := stringOrList(m["AWS"])
	if err != nil {
		return nil, fmt.Errorf("Principal AWS %v", err)
	}
	for _, p := range list {
		if p != "*" && !accountPattern.MatchString(p) && !iamARNPattern.MatchString(p) {
			return nil, fmt.Errorf(`principal %q is not "*", a 12-digit account id, or an IAM ARN such as arn:aws:iam::123456789012:root or arn:aws:iam::123456789012:user/NAME (wildcards are not allowed in principals)`, p)
		}
	}
	return list, nil
}

// strictJSON decodes exactly one JSON value.
func strictJSON(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("unexpected data after the JSON object")
	}
	return nil
}

func clipRaw(raw json.RawMessage) string {
	s := string(bytes.TrimSpace(raw))
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Actions are CodeArtifact's IAM actions (the service authorization
// reference): every API operation plus the data-plane ones.
var Actions = sortedActions(`AssociateExternalConnection AssociateWithDownstreamRepository CopyPackageVersions
CreateDomain CreatePackageGroup CreateRepository DeleteDomain DeleteDomainPermissionsPolicy DeletePackage
DeletePackageGroup DeletePackageVersions DeleteRepository DeleteRepositoryPermissionsPolicy DescribeDomain
DescribePackage DescribePackageGroup DescribePackageVersion DescribeRepository DisassociateExternalConnection
DisposePackageVersions GetAssociatedPackageGroup GetAuthorizationToken GetDomainPermissionsPolicy
GetPackageVersionAsset GetPackageVersionReadme GetRepositoryEndpoint GetRepositoryPermissionsPolicy
ListAllowedRepositoriesForGroup ListAssociatedPackages ListDomains ListPackageGroups ListPackageVersionAssets
ListPackageVersionDependencies ListPackageVersions ListPackages ListRepositories ListRepositoriesInDomain
ListSubPackageGroups ListTagsForResource PublishPackageVersion PutDomainPermissionsPolicy PutPackageMetadata
PutPackageOriginConfiguration PutRepositoryPermissionsPolicy ReadFromRepository TagResource UntagResource
UpdatePackageGroup UpdatePackageGroupOriginConfiguration UpdatePackageVersionsStatus UpdateRepository`)

func sortedActions(s string) []string {
	f := strings.Fields(s)
	sort.Strings(f)
	return f
}

// canonicalAction returns the action's canonical spelling ("" if unknown):
// IAM action names are case-insensitive.
func canonicalAction(name string) string {
	for _, a := range Actions {
		if strings.EqualFold(a, name) {
			return a
		}
	}
	return ""
}
