package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wharfhq/wharf/internal/blob"
	"github.com/wharfhq/wharf/internal/store"
	"github.com/wharfhq/wharf/internal/upstream"
)

// MaxSearched is how many repositories one resolution visits at most.
const MaxSearched = 25

// ExternalConnections are CodeArtifact's connection names with the format
// each serves and the public registry wharf uses unless configured otherwise.
var ExternalConnections = map[string]struct{ Format, DefaultURL string }{
	"public:pypi":                {"pypi", "https://pypi.org/simple/"},
	"public:npmjs":               {"npm", "https://registry.npmjs.org/"},
	"public:maven-central":       {"maven", "https://repo1.maven.org/maven2/"},
	"public:maven-googleandroid": {"maven", "https://maven.google.com/"},
	"public:maven-gradleplugins": {"maven", "https://plugins.gradle.org/m2/"},
	"public:maven-commonsware":   {"maven", "https://s3.amazonaws.com/repo.commonsware.com/"},
	"public:maven-clojars":       {"maven", "https://repo.clojars.org/"},
	"public:nuget-org":           {"nuget", "https://api.nuget.org/v3/index.json"},
	"public:crates-io":           {"cargo", "https://index.crates.io/"},
	"public:ruby-gems-org":       {"ruby", "https://rubygems.org/"},
}

// UseUpstreams enables external connections: client fetches, conns
// configures connections by name (a URL overriding the public default,
// credentials). Each connection's credentials go only to its own origin.
func (r *Registry) UseUpstreams(client *upstream.Client, conns map[string]upstream.Connection) error {
	all := map[string]upstream.Connection{}
	for name, ec := range ExternalConnections {
		all[name] = upstream.MustParseConnection(ec.DefaultURL)
	}
	for name, c := range conns {
		if _, ok := ExternalConnections[name]; !ok {
			return fmt.Errorf("unknown external connection %q; known: %s", name, connectionNames())
		}
		if c.URL.IsZero() {
			c.URL = all[name].URL
		}
		all[name] = c
	}
	for _, name := range slices.Sorted(maps.Keys(all)) {
		if client == nil {
			continue // configuration checks only (tests)
		}
		if err := client.Authenticate(all[name]); err != nil {
			return fmt.Errorf("external connection %s: %w", name, err)
		}
	}
	r.upstream, r.connections = client, all
	return nil
}

func connectionNames() string {
	var names []string
	for n := range ExternalConnections {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// ConnectionURL is where an external connection's packages come from. It
// prints redacted.
func (r *Registry) ConnectionURL(name string) upstream.URL {
	return r.connections[name].URL
}

// AssociateExternalConnection gives a repository its (single) connection.
func (r *Registry) AssociateExternalConnection(ctx context.Context, owner, domain, repo, connection string) (store.Repository, error) {
	if _, ok := ExternalConnections[connection]; !ok {
		return store.Repository{}, Invalid("unknown external connection %q; valid names: %s", connection, connectionNames())
	}
	rp, err := r.GetRepository(ctx, owner, domain, repo)
	if err != nil {
		return rp, err
	}
	if len(rp.ExternalConnections) > 0 {
		if rp.ExternalConnections[0] == connection {
			return rp, Conflict("repository", repo, "repository %s is already associated with %s", repo, connection)
		}
		return rp, Conflict("repository", repo, "repository %s already has the external connection %s, and a repository can have only one; disassociate it first, or add a separate repository with %s as an upstream", repo, rp.ExternalConnections[0], connection)
	}
	rp.ExternalConnections = []string{connection}
	return rp, translate(r.store.UpdateRepository(ctx, rp), "repository", repo)
}

// DisassociateExternalConnection removes it; what was ingested stays.
func (r *Registry) DisassociateExternalConnection(ctx context.Context, owner, domain, repo, connection string) (store.Repository, error) {
	rp, err := r.GetRepository(ctx, owner, domain, repo)
	if err != nil {
		return rp, err
	}
	if len(rp.ExternalConnections) == 0 || rp.ExternalConnections[0] != connection {
		return rp, NotFound("repository", repo, "repository %s has no external connection %s", repo, connection)
	}
	rp.ExternalConnections = nil
	return rp, translate(r.store.UpdateRepository(ctx, rp), "repository", repo)
}

// source is one place a resolution looks: a repository's own contents, or
// (connection != "") what its external connection offers.
type source struct {
	repo       store.Repository
	connection string
}

func (s source) String() string {
	if s.connection != "" {
		return s.repo.Name + " (" + s.connection + ")"
	}
	return s.repo.Name
}

// searchOrder lists the sources of a resolution from ref: the repository,
// then each upstream depth-first in priority order, each repository once,
// at most MaxSearched. A repository's external connection comes after its
// upstream repositories, so internal repositories always win over public ones.
// The order is remembered while no repository changes; callers must not
// modify it.
func (r *Registry) searchOrder(ctx context.Context, ref RepoRef) ([]source, error) {
	return r.orders.get(ref, func() ([]source, error) { return r.readSearchOrder(ctx, ref) })
}

func (r *Registry) readSearchOrder(ctx context.Context, ref RepoRef) ([]source, error) {
	var order []source
	seen := map[string]bool{}
	var visit func(name string) error
	visit = func(name string) error {
		if seen[name] || len(seen) >= MaxSearched {
			return nil
		}
		seen[name] = true
		repo, err := r.store.GetRepository(ctx, ref.Owner, ref.Domain, name)
		if isErr(err, store.ErrNotFound) {
			return nil // deleted meanwhile
		}
		if err != nil {
			return err
		}
		order = append(order, source{repo: repo})
		for _, u := range repo.Upstreams {
			if err := visit(u); err != nil {
				return err
			}
		}
		for _, c := range repo.ExternalConnections {
			order = append(order, source{repo: repo, connection: c})
		}
		return nil
	}
	if _, err := r.repository(ctx, ref); err != nil {
		return nil, err
	}
	return order, visit(ref.Repository)
}

// ViewFile is one file of a package as a repository's clients see it.
type ViewFile struct {
	Status string      // the version's status
	Asset  store.Asset // for a remote file: what the index declared
	Remote *RemoteFile // set when the file is not yet ingested
	Source string      // where it comes from, for logs
	from   source      // the same, for ingestion
}

// View is a package as seen from one repository through its upstreams.
type View struct {
	Files []ViewFile
	// Stale names the upstreams that failed and were replaced by cached
	// pages, or skipped because other sources answered.
	Degraded []string
	// Volatile: an external connection was consulted, so the view can
	// change without a write here (its index page expires); a rendering of
	// it must not be cached under ViewGeneration alone.
	Volatile bool
	// FreshFor, for a Volatile view, is how long every upstream page it
	// used stays fresh (the shortest remaining TTL): a rendering may be
	// reused that long while ViewGeneration is unchanged. Zero when an
	// upstream failed or a stale page was used: then not at all.
	FreshFor time.Duration
}

// PackageView merges what the search order offers for a package. Each
// version comes from the first source that has it. A source holding the
// package with upstream=BLOCK ends the search: nothing later, public or
// internal, is merged with it (the dependency-confusion defense).
func (r *Registry) PackageView(ctx context.Context, ref RepoRef, format, namespace, name string) (*View, error) {
	k, f, err := r.packageKey(ctx, ref, format, namespace, name)
	if err != nil {
		return nil, err
	}
	return r.view(ctx, ref, k, f, true)
}

// view resolves k from ref; without own, the repository's own contents are
// skipped (to ask "does an upstream have this?").
func (r *Registry) view(ctx context.Context, ref RepoRef, k store.PackageKey, f Format, own bool) (*View, error) {
	order, err := r.searchOrder(ctx, ref)
	if err != nil {
		return nil, err
	}
	if !own {
		order = order[1:]
	}
	gate, err := r.upstreamGate(ctx, ref, k)
	if err != nil {
		return nil, err
	}
	view := &View{}
	seen := map[string]bool{}
	var upstreamErr error
	fresh, reusable := time.Duration(-1), true
	for _, src := range order {
		if !gate.allows(src) { // the package's group blocks this way in
			continue
		}
		if src.connection != "" {
			view.Volatile = true
			files, freshFor, err := r.remoteFiles(ctx, src, f, k)
			if err != nil {
				upstreamErr = err
				reusable = false
				view.Degraded = append(view.Degraded, src.String())
				continue
			}
			if freshFor >= 0 && (fresh < 0 || freshFor < fresh) {
				fresh = freshFor
			}
			added := map[string]bool{}
			for i := range files {
				rf := files[i]
				// An index page may list other projects' files; they must
				// never be ingested under this package's name.
				if seen[rf.Version] || rf.Name != k.Name {
					continue
				}
				added[rf.Version] = true
				view.Files = append(view.Files, ViewFile{Status: StatusPublished, Remote: &rf, Source: src.String(), from: src, Asset: store.Asset{
					VersionKey: store.VersionKey{PackageKey: k, Version: rf.Version}, Name: rf.Filename, Size: rf.Size,
					SHA256: rf.SHA256, Attributes: rf.Attributes, CreatedAt: parseTime(rf.UploadTime),
				}})
			}
			for v := range added {
				seen[v] = true
			}
			continue
		}
		pk := k
		pk.Repository = src.repo.Name
		p, err := r.store.GetPackage(ctx, pk)
		if isErr(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		files, err := r.store.ListPackageFiles(ctx, pk)
		if err != nil {
			return nil, err
		}
		// A version found in an earlier source hides this one's, even
		// when it has no files (disposed).
		added := map[string]bool{}
		for _, f := range files {
			if seen[f.Version] {
				continue
			}
			added[f.Version] = true
			if f.Name != "" {
				view.Files = append(view.Files, ViewFile{Status: f.Status, Asset: f.Asset, Source: src.String(), from: src})
			}
		}
		for v := range added {
			seen[v] = true
		}
		if p.OriginUpstream == Block {
			break
		}
	}
	if view.Volatile && reusable && fresh > 0 {
		view.FreshFor = fresh
	}
	if len(view.Files) == 0 {
		if upstreamErr != nil {
			return nil, upstreamErr
		}
		return nil, NotFound("package", k.Name, "package %s not found in repository %s/%s or its upstreams%s", k.Name, ref.Domain, ref.Repository, gate.note())
	}
	if upstreamErr != nil {
		// The client gets a page without the upstream's versions, and
		// perhaps "No matching distribution": the reason is only here.
		attrs := []any{"client", clientOf(ctx), "package", k.Name, "repository", ref.Repository}
		var re *Error
		if errors.As(upstreamErr, &re) && re.Upstream != nil {
			attrs = append(attrs, "connection", re.Upstream.Connection, "upstream_url", re.Upstream.URL)
		}
		r.log.Warn("external connection failed; serving the package page without it", append(attrs, "reason", upstreamErr.Error())...)
	}
	return view, nil
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// remoteFiles reads (through the cache) what src's connection lists for k,
// and how long that page stays fresh (negative: no page was consulted).
func (r *Registry) remoteFiles(ctx context.Context, src source, f Format, k store.PackageKey) ([]RemoteFile, time.Duration, error) {
	conn := ExternalConnections[src.connection]
	if conn.Format != k.Format || r.upstream == nil {
		return nil, -1, nil
	}
	ri, ok := f.(RemoteIndex)
	if !ok {
		return nil, -1, nil
	}
	base := r.ConnectionURL(src.connection)
	pageURL, err := base.WithPage(ri.IndexURL(base.Public(), k.Namespace, k.Name))
	if err != nil {
		return nil, 0, err
	}
	page, err := r.upstream.Page(ctx, upstream.PageRequest{
		URL: pageURL, Accept: ri.Accept(), Requester: requester(ctx),
		Parse: func(pageURL, ct string, body []byte) ([]byte, error) {
			files, err := ri.ParseIndex(pageURL, ct, body)
			if err != nil {
				return nil, err
			}
			return json.Marshal(files)
		},
	})
	if err != nil {
		return nil, 0, upstreamError(src.connection, err)
	}
	var files []RemoteFile
	if len(page.Body) > 0 {
		if err := json.Unmarshal(page.Body, &files); err != nil {
			return nil, 0, fmt.Errorf("cached upstream page %s: %w", pageURL, err)
		}
	}
	return files, r.upstream.FreshFor(page), nil
}

type clientKey struct{}

// WithClient returns ctx naming the package client that makes the request
// (useragent.Short: "pip/26.3"), for the log lines of the upstream failures
// it meets.
func WithClient(ctx context.Context, client string) context.Context {
	return context.WithValue(ctx, clientKey{}, client)
}

// clientOf is the client WithClient put in ctx, "unknown" if none.
func clientOf(ctx context.Context) string {
	if c, _ := ctx.Value(clientKey{}).(string); c != "" {
		return c
	}
	return "unknown"
}

// UpstreamFailure says which external connection failed, and where, for
// the log line of the request it failed (format/httperr). URL prints
// redacted.
type UpstreamFailure struct {
	Connection string
	URL        upstream.URL
}

// upstreamError turns an upstream failure into a registry error that names
// the connection and the upstream.
func upstreamError(connection string, err error) error {
	var le *upstream.LimitError
	if errors.As(err, &le) {
		return &Error{Kind: KindTooManyRequests, RetryAfter: le.RetryAfter, Message: fmt.Sprintf("too many requests for packages that external connection %s has not cached: %v. "+
			"Names that do not exist are asked upstream too; check for typos, or ask the administrator to raise --upstream-miss-limit (WHARF_UPSTREAM_MISS_LIMIT)", connection, le)}
	}
	var ue *upstream.Error
	if !errors.As(err, &ue) {
		return err
	}
	kind := KindUpstream
	if ue.Timeout {
		kind = KindUpstreamTimeout
	}
	return &Error{Kind: kind, Upstream: &UpstreamFailure{Connection: connection, URL: ue.URL},
		Message: fmt.Sprintf("external connection %s failed and wharf has nothing cached to serve instead: %v. Check that the upstream is reachable from the wharf server, or configure its URL with WHARF_EXTERNAL_CONNECTIONS", connection, ue)}
}

// FetchAsset opens a file for a package client: from the repository itself,
// else through its upstreams, retaining what it finds (CODEARTIFACT.md:
// in the requested repository and in the one holding the connection).
func (r *Registry) FetchAsset(ctx context.Context, ref RepoRef, format, namespace, name, version, filename string) (*OpenedAsset, error) {
	local, err := r.OpenAsset(ctx, ref, format, namespace, name, version, filename)
	if err == nil || !IsKind(err, KindNotFound) {
		return local, err
	}
	vf, f, k, found, verr := r.viewFile(ctx, ref, format, namespace, name, version, filename)
	if verr != nil || !found {
		return nil, cmp.Or(verr, err)
	}
	if !Downloadable(vf.Status) {
		return nil, upstreamNotDownloadable(vf, k)
	}
	var held store.Asset
	var fromVersion store.PackageVersion
	if vf.Remote != nil {
		held, fromVersion, err = r.ingest(ctx, ref, f, k, vf)
	} else {
		held = vf.Asset
		fromVersion, err = r.store.GetVersion(ctx, held.VersionKey)
	}
	if err != nil {
		return nil, err
	}
	if err := r.retain(ctx, ref.Repository, fromVersion, held); err != nil {
		return nil, err
	}
	return r.OpenAsset(ctx, ref, format, namespace, name, held.Version, filename)
}

// viewFile finds filename of version in ref's view of the package; found
// is false when no source lists it (or the package is nowhere).
func (r *Registry) viewFile(ctx context.Context, ref RepoRef, format, namespace, name, version, filename string) (vf ViewFile, f Format, k store.PackageKey, found bool, err error) {
	view, err := r.PackageView(ctx, ref, format, namespace, name)
	if err != nil {
		if IsKind(err, KindNotFound) {
			err = nil
		}
		return vf, nil, k, false, err
	}
	if k, f, err = r.packageKey(ctx, ref, format, namespace, name); err != nil {
		return vf, nil, k, false, err
	}
	want, _ := f.NormalizeVersion(version)
	for _, v := range view.Files {
		if v.Asset.Name == filename && f.CompareVersions(v.Asset.Version, want) == 0 {
			return v, f, k, true, nil
		}
	}
	return vf, f, k, false, nil
}

func upstreamNotDownloadable(vf ViewFile, k store.PackageKey) error {
	return Forbidden("version %s of %s is %s upstream and cannot be downloaded", vf.Asset.Version, k.Name, vf.Status)
}

// upstreamFailed is a refusal caused by connection's upstream at u: its
// log line names both (UpstreamFailure).
func upstreamFailed(connection string, u upstream.URL, format string, args ...any) *Error {
	return &Error{Kind: KindUpstream, Upstream: &UpstreamFailure{Connection: connection, URL: u}, Message: fmt.Sprintf(format, args...)}
}

// digestMismatch refuses an upstream's bytes that its index did not declare.
func digestMismatch(connection string, u upstream.URL, sha string) error {
	return upstreamFailed(connection, u, "the upstream file %s does not match the sha256 its index declared (%s); it was not stored. The upstream may be corrupt or tampered with", u, sha)
}

// retain records an upstream version's asset in repo (metadata only: the
// bytes are already in the domain's blob store).
func (r *Registry) retain(ctx context.Context, repo string, v store.PackageVersion, a store.Asset) error {
	v.Repository, a.Repository = repo, repo
	pkg := store.Package{PackageKey: v.PackageKey, DisplayName: v.Name, OriginPublish: Block, OriginUpstream: Allow, CreatedAt: r.now().UTC()}
	v.Revision, v.UpdatedAt = newRevision(), r.now().UTC()
	release, err := r.holdBlobs(ctx, a)
	if err != nil {
		return err
	}
	stored, err := r.store.AddAsset(ctx, pkg, v, a)
	release()
	if errors.Is(err, store.ErrExists) && stored.SHA256 == a.SHA256 {
		return nil
	}
	return err
}

// ingest downloads a remote file once (concurrent requests share the
// download), checks it against the declared sha256 before anything is
// visible, and records it in the repository holding the connection.
func (r *Registry) ingest(ctx context.Context, ref RepoRef, f Format, k store.PackageKey, vf ViewFile) (store.Asset, store.PackageVersion, error) {
	rf := vf.Remote
	ri := f.(RemoteIndex)
	holder, connection := vf.from.repo.Name, vf.from.connection
	ns := blobNamespace(ref.Owner, ref.Domain)
	type result struct {
		asset   store.Asset
		version store.PackageVersion
	}
	hk := k
	hk.Repository = holder
	hv := store.VersionKey{PackageKey: hk, Version: rf.Version}
	// The file's URL as a page listed it; it prints redacted (a mirror may
	// sign its links with a token in the query).
	fileURL, err := upstream.ParseURL(rf.URL)
	if err != nil {
		return store.Asset{}, store.PackageVersion{}, upstreamFailed(connection, r.ConnectionURL(connection),
			"external connection %s listed %s for %s: %v", connection, rf.Filename, k.Name, err)
	}
	// Another replica may have ingested the file while this one waited.
	recheck := func(ctx context.Context) (any, bool, error) {
		a, err := r.store.GetAsset(ctx, hv, rf.Filename)
		if isErr(err, store.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		v, err := r.store.GetVersion(ctx, hv)
		return result{asset: a, version: v}, err == nil, err
	}
	res, err := r.upstream.Fetch(ctx, ns+"|"+rf.URL, fileURL, recheck, func(ctx context.Context, body io.Reader) (any, error) {
		sums := newMultiHash()
		info, err := r.blobs.Put(ctx, ns, io.TeeReader(body, sums), rf.SHA256)
		if errors.Is(err, blob.ErrDigestMismatch) {
			return nil, digestMismatch(connection, fileURL, rf.SHA256)
		}
		if err != nil {
			return nil, err
		}
		if rf.SHA256 == "" {
			r.log.Warn("upstream declared no sha256; the file could not be verified", "url", fileURL)
		}
		// Held while inspecting (blobrefs.go); retain holds again to record.
		holds := r.newHolds(ref.Owner, ref.Domain)
		defer holds.release()
		if err := holds.hold(ctx, info.SHA256); err != nil {
			return nil, err
		}
		obj, err := r.blobs.Open(ctx, ns, info.SHA256)
		if err != nil {
			return nil, err
		}
		insp, err := ri.InspectRemote(obj, *rf)
		obj.Close()
		if err != nil {
			return nil, upstreamFailed(connection, fileURL, "the upstream file %s is not a valid package: %v", fileURL, err)
		}
		for sc, data := range insp.Sidecars {
			si, err := r.blobs.Put(ctx, ns, strings.NewReader(string(data)), "")
			if err != nil {
				return nil, err
			}
			if insp.AssetAttributes == nil {
				insp.AssetAttributes = map[string]string{}
			}
			insp.AssetAttributes[SidecarAttr(sc)] = si.SHA256
		}
		now := r.now().UTC()
		v := store.PackageVersion{
			VersionKey: hv, DisplayVersion: rf.Version,
			Status: StatusPublished, Revision: newRevision(), OriginType: "EXTERNAL",
			OriginRepository: holder, OriginExternalConnection: connection,
			Summary: insp.Summary, HomePage: insp.HomePage, SourceCodeRepository: insp.SourceCodeRepository,
			Licenses: insp.Licenses, Attributes: insp.VersionAttributes, PublishedAt: now, UpdatedAt: now,
		}
		a := store.Asset{
			VersionKey: v.VersionKey, Name: rf.Filename, Size: info.Size, SHA256: info.SHA256,
			SHA512: hexSum(sums.sha512), SHA1: hexSum(sums.sha1), MD5: hexSum(sums.md5),
			Attributes: insp.AssetAttributes, CreatedAt: now,
		}
		holds.release()
		if err := r.retain(ctx, holder, v, a); err != nil {
			return nil, err
		}
		r.log.Info("ingested from external connection", "connection", connection, "repository", holder, "file", rf.Filename, "size", info.Size)
		return result{asset: a, version: v}, nil
	})
	if err != nil {
		return store.Asset{}, store.PackageVersion{}, upstreamError(connection, err)
	}
	out := res.(result)
	return out.asset, out.version, nil
}
