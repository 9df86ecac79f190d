package registry

// Package groups (CodeArtifact's newer origin controls): a domain's groups
// are patterns over package paths (/format/namespace/name) arranged in a
// hierarchy by containment. A package belongs to the most specific group
// whose pattern matches it, and that group's origin restrictions (PUBLISH,
// EXTERNAL_UPSTREAM, INTERNAL_UPSTREAM; INHERIT resolved up to the root
// "/*", which every domain has) add to the package's own origin controls:
// a version enters a repository only if both allow it.

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/wharfhq/wharf/internal/store"
)

// Restriction types and the modes beyond Allow and Block.
const (
	RestrictPublish          = "PUBLISH"
	RestrictExternalUpstream = "EXTERNAL_UPSTREAM"
	RestrictInternalUpstream = "INTERNAL_UPSTREAM"

	AllowSpecificRepositories = "ALLOW_SPECIFIC_REPOSITORIES"
	Inherit                   = "INHERIT"

	// RootGroup is the pattern of the group every domain is created with.
	RootGroup = "/*"
)

// RestrictionTypes lists the restriction types in the order responses use.
var RestrictionTypes = []string{RestrictExternalUpstream, RestrictInternalUpstream, RestrictPublish}

var restrictionModes = []string{Allow, AllowSpecificRepositories, Block, Inherit}

// groupFormats are the model's PackageFormat values; a group may name a
// format this wharf does not serve yet (the pattern is only metadata then).
var groupFormats = []string{"cargo", "generic", "maven", "npm", "nuget", "pypi", "ruby", "swift"}

// Formats whose packages never have a namespace, and those whose packages
// always do (so a pattern naming a package must name its namespace).
var (
	noNamespaceFormats   = []string{"cargo", "nuget", "pypi", "ruby"}
	needsNamespaceFormat = []string{"generic", "maven", "swift"}
)

type matchKind int

const (
	matchAny    matchKind = iota // "*": every value
	matchPrefix                  // "~": values starting with the word prefix
	matchExact                   // "$" (or a namespace followed by more)
)

// part is one component of a pattern: a decoded value and how it matches.
type part struct {
	kind  matchKind
	value string
}

// GroupPattern is a parsed package group pattern. The root "/*" has an
// empty Format; Namespace and Name are matchAny where the pattern stops.
type GroupPattern struct {
	Format          string
	Namespace, Name part
}

// ParseGroupPattern parses and validates a pattern. Its String is the
// canonical spelling, which identifies the group: components are
// percent-decoded, then re-encoded where a character would be read as
// syntax ("/npm//%72eact$" and "/npm//react$" are the same group).
func ParseGroupPattern(s string) (GroupPattern, error) {
	const examples = "/* (everything), /pypi/* (a format), /npm/scope/* (a namespace), /maven/com.example~ (a namespace prefix), /npm/scope/ui~ (a name prefix), /pypi//requests$ (one package)"
	var p GroupPattern
	if s == RootGroup {
		return p, nil
	}
	if !strings.HasPrefix(s, "/") {
		return p, Invalid("package group pattern %q must start with '/'; patterns look like %s", s, examples)
	}
	comps := strings.Split(s[1:], "/")
	if len(comps) > 3 {
		return p, Invalid("package group pattern %q has too many '/': a pattern is /format/namespace/name followed by $, ~ or *; write a '/' inside a namespace or name as %%2F", s)
	}
	p.Format = comps[0]
	if !slices.Contains(groupFormats, p.Format) {
		return p, Invalid("package group pattern %q: %q is not a package format; use one of %s (lowercase), or /* for every format", s, p.Format, strings.Join(groupFormats, ", "))
	}
	last := comps[len(comps)-1]
	switch {
	case len(comps) == 1:
		return p, Invalid("package group pattern %q has no suffix: write /%s/* for every %s package", s, p.Format, p.Format)
	case len(comps) == 2 && last == "*":
		return p, nil
	case len(comps) == 2 && strings.HasSuffix(last, "~"):
		v, err := decodePart(s, "namespace prefix", last[:len(last)-1], false)
		if err != nil {
			return p, err
		}
		p.Namespace = part{matchPrefix, v}
	case len(comps) == 2:
		return p, Invalid("package group pattern %q: after /%s/ write * (every package), NAMESPACE~ (a namespace prefix) or NAMESPACE/... (one namespace, e.g. /%s/%s/*)", s, p.Format, p.Format, strings.TrimRight(last, "$"))
	default: // format, namespace, name
		ns, err := decodePart(s, "namespace", comps[1], true)
		if err != nil {
			return p, err
		}
		p.Namespace = part{matchExact, ns}
		switch {
		case last == "*":
		case strings.HasSuffix(last, "~"):
			p.Name.kind = matchPrefix
		case strings.HasSuffix(last, "$"):
			p.Name.kind = matchExact
		default:
			return p, Invalid("package group pattern %q must end with $ (exactly this name), ~ (names starting with this word) or /* (every name); for example /%s/%s/%s$", s, p.Format, comps[1], last)
		}
		if p.Name.kind != matchAny {
			if p.Name.value, err = decodePart(s, "name", last[:len(last)-1], false); err != nil {
				return p, err
			}
		}
	}
	hasNS := p.Namespace.kind == matchPrefix || p.Namespace.value != ""
	if hasNS && slices.Contains(noNamespaceFormats, p.Format) {
		return p, Invalid("package group pattern %q: %s packages have no namespace, so the namespace part must be empty: /%s//NAME$, /%s//PREFIX~ or /%s/*", s, p.Format, p.Format, p.Format, p.Format)
	}
	if !hasNS && p.Name.kind != matchAny && slices.Contains(needsNamespaceFormat, p.Format) {
		return p, Invalid("package group pattern %q: %s packages always have a namespace, so a pattern naming a package must name it too: /%s/NAMESPACE/%s", s, p.Format, p.Format, last)
	}
	return p, nil
}

// decodePart percent-decodes one component, refusing what could never be
// part of a namespace or name.
func decodePart(pattern, what, raw string, mayBeEmpty bool) (string, error) {
	if strings.ContainsAny(raw, "*~$") {
		return "", Invalid("package group pattern %q: the %s %q contains *, ~ or $; those are only suffixes. Percent-encode them inside a %s (%%2A, %%7E, %%24)", pattern, what, raw, what)
	}
	v, err := url.PathUnescape(raw)
	if err != nil {
		return "", Invalid("package group pattern %q: the %s %q has a broken percent-encoding (use %%XX with two hex digits, e.g. %%2F for '/')", pattern, what, raw)
	}
	if v == "" && !mayBeEmpty {
		return "", Invalid("package group pattern %q: the %s before the suffix is empty", pattern, what)
	}
	if !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r == '/' || r == '#' || unicode.IsSpace(r) || unicode.IsControl(r) }) {
		return "", Invalid("package group pattern %q: the %s %q contains '/', '#', whitespace or control characters, which no package namespace or name can contain", pattern, what, v)
	}
	return v, nil
}

// String is the canonical spelling of the pattern.
func (p GroupPattern) String() string {
	if p.Format == "" {
		return RootGroup
	}
	s := "/" + p.Format + "/"
	switch p.Namespace.kind {
	case matchAny:
		return s + "*"
	case matchPrefix:
		return s + encodePart(p.Namespace.value) + "~"
	}
	s += encodePart(p.Namespace.value) + "/"
	switch p.Name.kind {
	case matchPrefix:
		return s + encodePart(p.Name.value) + "~"
	case matchExact:
		return s + encodePart(p.Name.value) + "$"
	}
	return s + "*"
}

// encodePart escapes exactly the characters a pattern reads as syntax.
func encodePart(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '%', '/', '*', '~', '$':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// IsRoot reports whether p is "/*".
func (p GroupPattern) IsRoot() bool { return p.Format == "" }

// specificity orders patterns that match the same package: a pattern
// fixing more components is narrower, and of two prefixes of the same
// component the longer one is (AWS: "the longest matching pattern").
func (p GroupPattern) specificity() [2]int {
	switch {
	case p.IsRoot():
		return [2]int{0, 0}
	case p.Namespace.kind == matchAny:
		return [2]int{1, 0}
	case p.Namespace.kind == matchPrefix:
		return [2]int{2, len(p.Namespace.value)}
	case p.Name.kind == matchAny:
		return [2]int{3, 0}
	case p.Name.kind == matchPrefix:
		return [2]int{4, len(p.Name.value)}
	}
	return [2]int{5, 0}
}

func moreSpecific(a, b GroupPattern) bool {
	sa, sb := a.specificity(), b.specificity()
	return sa[0] > sb[0] || sa[0] == sb[0] && sa[1] > sb[1]
}

// Match reports whether a package (its format's normalized namespace and
// name) matches p, and whether strongly. Matching ignores case, so a
// restriction cannot be dodged by a package spelled in another case (the
// dependency-confusion trick); a match only up to case is WEAK, an exact
// one STRONG (AWS: "a weak match can be thought of as a variation match").
func (p GroupPattern) Match(format, namespace, name string) (matched, strong bool) {
	if p.IsRoot() {
		return true, true
	}
	if format != p.Format {
		return false, false
	}
	nsOK, nsStrong := p.Namespace.match(namespace)
	if !nsOK {
		return false, false
	}
	nameOK, nameStrong := p.Name.match(name)
	return nameOK, nsStrong && nameStrong
}

func (c part) match(v string) (matched, strong bool) {
	switch c.kind {
	case matchPrefix:
		if wordPrefix(v, c.value) {
			return true, true
		}
		return wordPrefix(strings.ToLower(v), strings.ToLower(c.value)), false
	case matchExact:
		if v == c.value {
			return true, true
		}
		return strings.EqualFold(v, c.value), false
	}
	return true, true
}

// wordPrefix implements "~": v starts with prefix, and the prefix ends on
// a word boundary of v, so /npm//ui~ matches ui, ui-kit and ui.core but
// not uikit. Words are letters, digits and combining marks (AWS: "Words,
// word boundaries, and prefix matching"); a prefix ending in a separator
// (ui-~) matches whatever follows it.
func wordPrefix(v, prefix string) bool {
	if !strings.HasPrefix(v, prefix) {
		return false
	}
	if len(v) == len(prefix) {
		return true
	}
	last, _ := utf8.DecodeLastRuneInString(prefix)
	next, _ := utf8.DecodeRuneInString(v[len(prefix):])
	return !isWordRune(last) || !isWordRune(next)
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.IsMark(r) }

// covers reports whether p is strictly broader than q: every package q
// matches, p matches too, and p != q. A group's parent is the most
// specific group that covers it.
func (p GroupPattern) covers(q GroupPattern) bool {
	if p == q {
		return false
	}
	if p.IsRoot() {
		return true
	}
	if q.Format != p.Format {
		return false
	}
	switch p.Namespace.kind {
	case matchAny:
		return true
	case matchPrefix:
		return q.Namespace.kind != matchAny && wordPrefix(q.Namespace.value, p.Namespace.value)
	}
	if q.Namespace.kind != matchExact || q.Namespace.value != p.Namespace.value {
		return false
	}
	switch p.Name.kind {
	case matchAny:
		return true
	case matchPrefix:
		return q.Name.kind != matchAny && wordPrefix(q.Name.value, p.Name.value)
	}
	return false
}

// ---------------------------------------------------------------- the tree

type groupNode struct {
	store.PackageGroup
	pat GroupPattern
}

// mode is the group's own setting for a restriction type: a group without
// one inherits, except the root, which allows (AWS's defaults).
func (n *groupNode) mode(typ string) string {
	if m := n.Restrictions[typ].Mode; m != "" {
		return m
	}
	if n.pat.IsRoot() {
		return Allow
	}
	return Inherit
}

// groupTree is a snapshot of a domain's groups.
type groupTree struct {
	owner, domain string
	nodes         []*groupNode // ordered by pattern
	byPattern     map[string]*groupNode
}

// groupTree reads a domain's groups. A domain created before package
// groups existed gets its root group here, once.
func (r *Registry) groupTree(ctx context.Context, owner, domain string) (*groupTree, error) {
	d, err := r.GetDomain(ctx, owner, domain)
	if err != nil {
		return nil, err
	}
	t := &groupTree{owner: owner, domain: domain, byPattern: map[string]*groupNode{}}
	for after := ""; ; {
		gs, next, err := r.store.ListPackageGroups(ctx, owner, domain, store.Page{After: after, Limit: 1000})
		if err != nil {
			return nil, translate(err, "domain", domain)
		}
		for _, g := range gs {
			p, err := ParseGroupPattern(g.Pattern)
			if err != nil {
				return nil, fmt.Errorf("stored package group %q of domain %s: %w", g.Pattern, domain, err)
			}
			t.add(&groupNode{PackageGroup: g, pat: p})
		}
		if next == "" {
			break
		}
		after = next
	}
	if t.byPattern[RootGroup] == nil {
		root := rootGroup(owner, domain, d.CreatedAt)
		if err := r.store.CreatePackageGroup(ctx, root); err != nil && !isErr(err, store.ErrExists) {
			return nil, err
		}
		t.add(&groupNode{PackageGroup: root})
	}
	return t, nil
}

// sharedGroupTree is groupTree remembered while no group or domain changes,
// for the checks every publish and resolution makes; the tree is shared, so
// callers must only read it.
func (r *Registry) sharedGroupTree(ctx context.Context, owner, domain string) (*groupTree, error) {
	return r.groups.get(domainKey{owner, domain}, func() (*groupTree, error) { return r.groupTree(ctx, owner, domain) })
}

func rootGroup(owner, domain string, created time.Time) store.PackageGroup {
	rs := map[string]store.GroupRestriction{}
	for _, typ := range RestrictionTypes {
		rs[typ] = store.GroupRestriction{Mode: Allow}
	}
	return store.PackageGroup{DomainOwner: owner, DomainName: domain, Pattern: RootGroup, Restrictions: rs, CreatedAt: created}
}

func (t *groupTree) add(n *groupNode) {
	t.byPattern[n.Pattern] = n
	i, _ := slices.BinarySearchFunc(t.nodes, n.Pattern, func(x *groupNode, p string) int { return strings.Compare(x.Pattern, p) })
	t.nodes = slices.Insert(t.nodes, i, n)
}

func (t *groupTree) get(pattern string) (*groupNode, error) {
	n := t.byPattern[pattern]
	if n == nil {
		return nil, NotFound("package-group", pattern, "package group %s not found in domain %s; list the domain's groups with `aws codeartifact list-package-groups --domain %s`", pattern, t.domain, t.domain)
	}
	return n, nil
}

// parent is the most specific other group whose pattern covers n's.
func (t *groupTree) parent(n *groupNode) *groupNode {
	var best *groupNode
	for _, c := range t.nodes {
		if c.pat.covers(n.pat) && (best == nil || moreSpecific(c.pat, best.pat)) {
			best = c
		}
	}
	return best
}

// match finds the group a package is associated with: the most specific
// matching one (a strong match wins a tie with a weak one). The root
// matches everything, so there always is one.
func (t *groupTree) match(format, namespace, name string) (best *groupNode, strong bool) {
	for _, n := range t.nodes {
		ok, s := n.pat.Match(format, namespace, name)
		if !ok {
			continue
		}
		if best == nil || moreSpecific(n.pat, best.pat) || !moreSpecific(best.pat, n.pat) && s && !strong {
			best, strong = n, s
		}
	}
	return best, strong
}

// effective resolves INHERIT up the hierarchy: from is the group whose own
// (non-INHERIT) setting applies, and its allowed list is the one used.
func (t *groupTree) effective(n *groupNode, typ string) (mode string, from *groupNode) {
	for cur, depth := n, 0; cur != nil && depth <= len(t.nodes); cur, depth = t.parent(cur), depth+1 {
		if m := cur.mode(typ); m != Inherit {
			return m, cur
		}
	}
	return Allow, nil // unreachable while the root cannot inherit
}

// allows says whether the group's effective restriction of typ admits repo.
func (t *groupTree) allows(n *groupNode, typ, repo string) bool {
	mode, from := t.effective(n, typ)
	switch mode {
	case Block:
		return false
	case AllowSpecificRepositories:
		return slices.Contains(from.Restrictions[typ].Repositories, repo)
	}
	return true
}

// refusal explains why the group refuses typ for repo, with the command
// that changes it.
func (t *groupTree) refusal(n *groupNode, typ, repo string) string {
	mode, from := t.effective(n, typ)
	what := map[string]string{
		RestrictPublish:          "publishing directly to",
		RestrictExternalUpstream: "ingesting from external connections into",
		RestrictInternalUpstream: "retaining from upstream repositories into",
	}[typ]
	via := ""
	if from != n {
		via = fmt.Sprintf(", inherited from package group %s", from.Pattern)
	}
	cmd := fmt.Sprintf("aws codeartifact update-package-group-origin-configuration --domain %s --domain-owner %s --package-group '%s'", t.domain, t.owner, n.Pattern)
	if mode == AllowSpecificRepositories {
		return fmt.Sprintf("package group %s allows %s only the repositories on its %s allowed list (%s=%s%s), and repository %s is not on it. To allow it: aws codeartifact update-package-group-origin-configuration --domain %s --domain-owner %s --package-group '%s' --add-allowed-repositories originRestrictionType=%s,repositoryName=%s",
			n.Pattern, what, typ, typ, mode, via, repo, t.domain, t.owner, from.Pattern, typ, repo)
	}
	return fmt.Sprintf("package group %s blocks %s repository %s (%s=%s%s). To allow it: %s --restrictions %s=ALLOW",
		n.Pattern, what, repo, typ, mode, via, cmd, typ)
}

// ---------------------------------------------------------------- enforcement

// groupAllowsPublish applies the package's group to a direct publish.
func (r *Registry) groupAllowsPublish(ctx context.Context, ref RepoRef, k store.PackageKey) error {
	t, err := r.sharedGroupTree(ctx, ref.Owner, ref.Domain)
	if err != nil {
		return err
	}
	g, _ := t.match(k.Format, k.Namespace, k.Name)
	if t.allows(g, RestrictPublish, ref.Repository) {
		return nil
	}
	return Forbidden("publishing %s (%s) to repository %s is refused: %s", k.Name, k.Format, ref.Repository, t.refusal(g, RestrictPublish, ref.Repository))
}

// upstreamGate decides which sources of a resolution from ref the
// package's group lets in: upstream repositories need INTERNAL_UPSTREAM
// for the requesting repository; an external connection needs
// EXTERNAL_UPSTREAM for the repository holding it (and, when that is not
// the requesting repository, INTERNAL_UPSTREAM too, since its versions
// reach the requester through an upstream).
type upstreamGate struct {
	tree    *groupTree
	group   *groupNode
	ref     RepoRef
	refused []string // why sources were skipped, for a "not found"
}

func (r *Registry) upstreamGate(ctx context.Context, ref RepoRef, k store.PackageKey) (*upstreamGate, error) {
	t, err := r.sharedGroupTree(ctx, ref.Owner, ref.Domain)
	if err != nil {
		return nil, err
	}
	g, _ := t.match(k.Format, k.Namespace, k.Name)
	return &upstreamGate{tree: t, group: g, ref: ref}, nil
}

func (u *upstreamGate) allows(src source) bool {
	check := func(typ, repo string) bool {
		if u.tree.allows(u.group, typ, repo) {
			return true
		}
		if why := u.tree.refusal(u.group, typ, repo); !slices.Contains(u.refused, why) {
			u.refused = append(u.refused, why)
		}
		return false
	}
	if src.repo.Name != u.ref.Repository && !check(RestrictInternalUpstream, u.ref.Repository) {
		return false
	}
	return src.connection == "" || check(RestrictExternalUpstream, src.repo.Name)
}

// note is appended to a "not found" so a blocked package says why.
func (u *upstreamGate) note() string {
	if u == nil || len(u.refused) == 0 {
		return ""
	}
	return "; " + strings.Join(u.refused, "; ")
}

// ---------------------------------------------------------------- operations

// PackageGroupInfo is a group with its place in the hierarchy and its
// origin restrictions as the API reports them.
type PackageGroupInfo struct {
	store.PackageGroup
	Parent       string                          // pattern of the parent; "" for the root
	Restrictions map[string]EffectiveRestriction // every restriction type
}

// EffectiveRestriction is one restriction type of a group.
type EffectiveRestriction struct {
	Mode          string
	EffectiveMode string
	InheritedFrom string   // the group the effective mode comes from, when Mode is INHERIT
	Repositories  []string // this group's allowed list for the type
}

func (t *groupTree) info(n *groupNode) PackageGroupInfo {
	out := PackageGroupInfo{PackageGroup: n.PackageGroup, Restrictions: map[string]EffectiveRestriction{}}
	if p := t.parent(n); p != nil {
		out.Parent = p.Pattern
	}
	for _, typ := range RestrictionTypes {
		mode, from := t.effective(n, typ)
		er := EffectiveRestriction{Mode: n.mode(typ), EffectiveMode: mode, Repositories: n.Restrictions[typ].Repositories}
		if er.Mode == Inherit && from != nil {
			er.InheritedFrom = from.Pattern
		}
		out.Restrictions[typ] = er
	}
	return out
}

// canonicalPattern parses a pattern and, for a format this wharf serves,
// insists on the format's normalized names (CodeArtifact matches groups
// against normalized names, so /pypi//Foo_Bar$ could never match).
func (r *Registry) canonicalPattern(s string) (GroupPattern, error) {
	p, err := ParseGroupPattern(s)
	if err != nil {
		return p, err
	}
	f, served := r.formats[p.Format]
	if !served || p.Name.kind == matchAny {
		return p, nil
	}
	want := p
	if p.Name.kind == matchExact {
		ns, name, err := f.NormalizeName(p.Namespace.value, p.Name.value)
		if err != nil {
			return p, Invalid("package group pattern %q can never match a package: %v", s, err)
		}
		want.Namespace.value, want.Name.value = ns, name
	} else if _, name, err := f.NormalizeName(p.Namespace.value, p.Name.value+"0"); err == nil {
		// A prefix is the start of a name: normalize it as one (the "0"
		// keeps a trailing separator valid) and drop the probe again.
		want.Name.value = strings.TrimSuffix(name, "0")
	}
	if want != p {
		return p, Invalid("package group pattern %q must use the %s normalized name, as packages are matched by it: write %s", s, p.Format, want)
	}
	return p, nil
}

// CreatePackageGroup creates a group; its restrictions start as INHERIT.
func (r *Registry) CreatePackageGroup(ctx context.Context, owner, domain, pattern, contactInfo, description string) (PackageGroupInfo, error) {
	p, err := r.canonicalPattern(pattern)
	if err != nil {
		return PackageGroupInfo{}, err
	}
	t, err := r.groupTree(ctx, owner, domain)
	if err != nil {
		return PackageGroupInfo{}, err
	}
	rs := map[string]store.GroupRestriction{}
	for _, typ := range RestrictionTypes {
		rs[typ] = store.GroupRestriction{Mode: Inherit}
	}
	g := store.PackageGroup{DomainOwner: owner, DomainName: domain, Pattern: p.String(), Description: description,
		ContactInfo: contactInfo, Restrictions: rs, CreatedAt: r.now().UTC()}
	if err := r.store.CreatePackageGroup(ctx, g); err != nil {
		if isErr(err, store.ErrExists) {
			return PackageGroupInfo{}, Conflict("package-group", g.Pattern, "package group %s already exists in domain %s", g.Pattern, domain)
		}
		return PackageGroupInfo{}, translate(err, "domain", domain)
	}
	n := &groupNode{PackageGroup: g, pat: p}
	t.add(n)
	return t.info(n), nil
}

// lookupGroup reads the domain's groups and finds one by any spelling.
func (r *Registry) lookupGroup(ctx context.Context, owner, domain, pattern string) (*groupTree, *groupNode, error) {
	p, err := ParseGroupPattern(pattern)
	if err != nil {
		return nil, nil, err
	}
	t, err := r.groupTree(ctx, owner, domain)
	if err != nil {
		return nil, nil, err
	}
	n, err := t.get(p.String())
	return t, n, err
}

func (r *Registry) DescribePackageGroup(ctx context.Context, owner, domain, pattern string) (PackageGroupInfo, error) {
	t, n, err := r.lookupGroup(ctx, owner, domain, pattern)
	if err != nil {
		return PackageGroupInfo{}, err
	}
	return t.info(n), nil
}

// UpdatePackageGroup changes contact info and/or description (nil: keep).
func (r *Registry) UpdatePackageGroup(ctx context.Context, owner, domain, pattern string, contactInfo, description *string) (PackageGroupInfo, error) {
	t, n, err := r.lookupGroup(ctx, owner, domain, pattern)
	if err != nil {
		return PackageGroupInfo{}, err
	}
	if contactInfo != nil {
		n.ContactInfo = *contactInfo
	}
	if description != nil {
		n.Description = *description
	}
	if err := r.store.UpdatePackageGroup(ctx, n.PackageGroup); err != nil {
		return PackageGroupInfo{}, translate(err, "package-group", n.Pattern)
	}
	return t.info(n), nil
}

// DeletePackageGroup deletes a group (never its packages). Its children
// become children of its parent, since parents follow from the patterns
// (AWS: "the direct child package groups will become children of the
// package group's direct parent"). The root cannot be deleted.
func (r *Registry) DeletePackageGroup(ctx context.Context, owner, domain, pattern string) (PackageGroupInfo, error) {
	t, n, err := r.lookupGroup(ctx, owner, domain, pattern)
	if err != nil {
		return PackageGroupInfo{}, err
	}
	if n.pat.IsRoot() {
		return PackageGroupInfo{}, Invalid("the root package group /* of domain %s cannot be deleted: it holds the domain's default origin restrictions. Change them with `aws codeartifact update-package-group-origin-configuration --domain %s --package-group '/*' --restrictions ...`", domain, domain)
	}
	info := t.info(n)
	if err := r.store.DeletePackageGroup(ctx, owner, domain, n.Pattern); err != nil {
		return info, translate(err, "package-group", n.Pattern)
	}
	return info, nil
}

// ListPackageGroups lists a domain's groups whose pattern starts with prefix.
func (r *Registry) ListPackageGroups(ctx context.Context, owner, domain, prefix string) ([]PackageGroupInfo, error) {
	t, err := r.groupTree(ctx, owner, domain)
	if err != nil {
		return nil, err
	}
	var out []PackageGroupInfo
	for _, n := range t.nodes {
		if strings.HasPrefix(n.Pattern, prefix) {
			out = append(out, t.info(n))
		}
	}
	return out, nil
}

// ListSubPackageGroups lists a group's direct children.
func (r *Registry) ListSubPackageGroups(ctx context.Context, owner, domain, pattern string) ([]PackageGroupInfo, error) {
	t, parent, err := r.lookupGroup(ctx, owner, domain, pattern)
	if err != nil {
		return nil, err
	}
	var out []PackageGroupInfo
	for _, n := range t.nodes {
		if t.parent(n) == parent {
			out = append(out, t.info(n))
		}
	}
	return out, nil
}

// AllowedRepository names a repository on one of a group's allowed lists.
type AllowedRepository struct {
	Repository, Type string
}

// UpdatePackageGroupOriginConfiguration sets restriction modes (by type)
// and edits the allowed lists. It returns the group and, by type, the
// repositories actually ADDED to or REMOVED from a list.
func (r *Registry) UpdatePackageGroupOriginConfiguration(ctx context.Context, owner, domain, pattern string, modes map[string]string, add, remove []AllowedRepository) (PackageGroupInfo, map[string]map[string][]string, error) {
	t, n, err := r.lookupGroup(ctx, owner, domain, pattern)
	if err != nil {
		return PackageGroupInfo{}, nil, err
	}
	checkType := func(typ string) error {
		if !slices.Contains(RestrictionTypes, typ) {
			return Invalid("%q is not a package group restriction type; use EXTERNAL_UPSTREAM, INTERNAL_UPSTREAM or PUBLISH", typ)
		}
		return nil
	}
	rs := map[string]store.GroupRestriction{}
	for typ, gr := range n.Restrictions {
		gr.Repositories = slices.Clone(gr.Repositories)
		rs[typ] = gr
	}
	for typ, mode := range modes {
		if err := checkType(typ); err != nil {
			return PackageGroupInfo{}, nil, err
		}
		if !slices.Contains(restrictionModes, mode) {
			return PackageGroupInfo{}, nil, Invalid("%q is not a restriction mode for %s; use ALLOW, BLOCK, ALLOW_SPECIFIC_REPOSITORIES or INHERIT", mode, typ)
		}
		if mode == Inherit && n.pat.IsRoot() {
			return PackageGroupInfo{}, nil, Invalid("the root package group /* has no parent to inherit %s from; set it to ALLOW, BLOCK or ALLOW_SPECIFIC_REPOSITORIES", typ)
		}
		gr := rs[typ]
		gr.Mode = mode
		rs[typ] = gr
	}
	updates := map[string]map[string][]string{}
	edit := func(list []AllowedRepository, verb string) error {
		for _, a := range list {
			if err := checkType(a.Type); err != nil {
				return err
			}
			if a.Repository == "" {
				return Invalid("an allowed repository needs a repositoryName (and an originRestrictionType)")
			}
			gr := rs[a.Type]
			has := slices.Contains(gr.Repositories, a.Repository)
			switch {
			case verb == "ADDED" && !has:
				if _, err := r.GetRepository(ctx, owner, domain, a.Repository); err != nil {
					return err
				}
				gr.Repositories = append(gr.Repositories, a.Repository)
				slices.Sort(gr.Repositories)
			case verb == "REMOVED" && has:
				gr.Repositories = slices.DeleteFunc(gr.Repositories, func(s string) bool { return s == a.Repository })
			default:
				continue // already so: nothing changed
			}
			if gr.Mode == "" {
				gr.Mode = n.mode(a.Type)
			}
			rs[a.Type] = gr
			if updates[a.Type] == nil {
				updates[a.Type] = map[string][]string{}
			}
			updates[a.Type][verb] = append(updates[a.Type][verb], a.Repository)
		}
		return nil
	}
	if err := edit(add, "ADDED"); err != nil {
		return PackageGroupInfo{}, nil, err
	}
	if err := edit(remove, "REMOVED"); err != nil {
		return PackageGroupInfo{}, nil, err
	}
	n.Restrictions = rs
	if err := r.store.UpdatePackageGroup(ctx, n.PackageGroup); err != nil {
		return PackageGroupInfo{}, nil, translate(err, "package-group", n.Pattern)
	}
	return t.info(n), updates, nil
}

// ListAllowedRepositoriesForGroup lists a group's own allowed list of typ.
func (r *Registry) ListAllowedRepositoriesForGroup(ctx context.Context, owner, domain, pattern, typ string) ([]string, error) {
	_, n, err := r.lookupGroup(ctx, owner, domain, pattern)
	if err != nil {
		return nil, err
	}
	return n.Restrictions[typ].Repositories, nil
}

// GetAssociatedPackageGroup finds the group a package belongs to; the
// package need not exist. strong is false for a match only up to case.
func (r *Registry) GetAssociatedPackageGroup(ctx context.Context, owner, domain, format, namespace, name string) (PackageGroupInfo, bool, error) {
	t, err := r.groupTree(ctx, owner, domain)
	if err != nil {
		return PackageGroupInfo{}, false, err
	}
	if f, ok := r.formats[format]; ok {
		if namespace, name, err = f.NormalizeName(namespace, name); err != nil {
			return PackageGroupInfo{}, false, Invalid("%v", err)
		}
	}
	n, strong := t.match(format, namespace, name)
	return t.info(n), strong, nil
}

// AssociatedPackage is a package of the domain and how it belongs to a group.
type AssociatedPackage struct {
	Format, Namespace, Name string
	Strong                  bool
}

// ListAssociatedPackages lists the packages of the domain's repositories
// that belong to a group (each once). With preview the group need not
// exist: the answer is what it would hold if it were created.
func (r *Registry) ListAssociatedPackages(ctx context.Context, owner, domain, pattern string, preview bool) ([]AssociatedPackage, error) {
	p, err := r.canonicalPattern(pattern)
	if err != nil {
		return nil, err
	}
	t, err := r.groupTree(ctx, owner, domain)
	if err != nil {
		return nil, err
	}
	n := t.byPattern[p.String()]
	if n == nil {
		if !preview {
			_, err := t.get(p.String())
			return nil, err
		}
		n = &groupNode{PackageGroup: store.PackageGroup{Pattern: p.String()}, pat: p}
		t.add(n)
	}
	seen := map[[3]string]bool{}
	var out []AssociatedPackage
	err = r.eachDomainPackage(ctx, owner, domain, func(pk store.Package) {
		key := [3]string{pk.Format, pk.Namespace, pk.Name}
		if seen[key] {
			return
		}
		seen[key] = true
		if g, strong := t.match(pk.Format, pk.Namespace, pk.Name); g == n {
			out = append(out, AssociatedPackage{Format: pk.Format, Namespace: pk.Namespace, Name: pk.Name, Strong: strong})
		}
	})
	slices.SortFunc(out, func(a, b AssociatedPackage) int {
		return strings.Compare(a.Format+"/"+a.Namespace+"/"+a.Name, b.Format+"/"+b.Namespace+"/"+b.Name)
	})
	return out, err
}

func (r *Registry) eachDomainPackage(ctx context.Context, owner, domain string, fn func(store.Package)) error {
	for after := ""; ; {
		repos, next, err := r.store.ListRepositories(ctx, owner, domain, "", store.Page{After: after, Limit: 500})
		if err != nil {
			return err
		}
		for _, repo := range repos {
			for pafter := ""; ; {
				pkgs, pnext, err := r.store.ListPackages(ctx, owner, domain, repo.Name, store.PackageFilter{}, store.Page{After: pafter, Limit: 1000})
				if isErr(err, store.ErrNotFound) {
					break // deleted meanwhile
				}
				if err != nil {
					return err
				}
				for _, pk := range pkgs {
					fn(pk)
				}
				if pnext == "" {
					break
				}
				pafter = pnext
			}
		}
		if next == "" {
			return nil
		}
		after = next
	}
}
