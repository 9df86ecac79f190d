// Package store persists Wharf's metadata: domains, repositories, packages,
// package versions and assets. It knows nothing of business rules (those
// live in internal/registry); it guarantees atomicity and uniqueness.
//
// Every backend implements Store and must pass storetest.Run.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors every backend returns (wrapped or bare), so callers can
// use errors.Is without knowing the backend.
var (
	// ErrNotFound: the addressed record does not exist.
	ErrNotFound = errors.New("not found")
	// ErrExists: a record with the same unique key already exists.
	ErrExists = errors.New("already exists")
	// ErrNotEmpty: the record still has children (a domain with repositories).
	ErrNotEmpty = errors.New("not empty")
	// ErrUnavailable: retry later; see Unavailable.
	ErrUnavailable = errors.New("temporarily unavailable")
	// ErrRevisionMismatch: a compare-and-set found another revision.
	ErrRevisionMismatch = errors.New("revision mismatch")
	// ErrBadCursor: Page.After is not a cursor this backend handed out.
	ErrBadCursor = errors.New("bad page cursor")
)

// Domain is a CodeArtifact domain, unique by (Owner, Name).
type Domain struct {
	Owner         string // 12-digit account id
	Name          string
	EncryptionKey string // an ARN-shaped label; wharf does not use KMS
	CreatedAt     time.Time
}

// Repository belongs to one domain, unique by (DomainOwner, DomainName, Name).
type Repository struct {
	DomainOwner         string
	DomainName          string
	Name                string
	Description         string
	Upstreams           []string // repository names in the same domain, priority order
	ExternalConnections []string // connection names such as "public:pypi"
	CreatedAt           time.Time
}

// PackageKey addresses a package inside a repository. Name and Namespace are
// already normalized by the format ("" namespace for pypi).
type PackageKey struct {
	DomainOwner string
	DomainName  string
	Repository  string
	Format      string
	Namespace   string
	Name        string
}

// Package is the per-repository record of a package and its origin controls.
type Package struct {
	PackageKey
	DisplayName    string // the name as first published, before normalization
	OriginPublish  string // "ALLOW" | "BLOCK"
	OriginUpstream string // "ALLOW" | "BLOCK"
	CreatedAt      time.Time
}

// VersionKey addresses one version of a package. Version is the format's
// normalized version string (PEP 440 normal form for pypi).
type VersionKey struct {
	PackageKey
	Version string
}

// PackageVersion is one version of a package in one repository.
type PackageVersion struct {
	VersionKey
	DisplayVersion string // as the publisher wrote it
	Status         string // Published | Unlisted | Archived | Disposed | Unfinished | Deleted
	Revision       string // changes on every change to the version or its assets
	OriginType     string // INTERNAL | EXTERNAL | UNKNOWN
	// OriginRepository and OriginExternalConnection record where the version
	// entered the domain (DomainEntryPoint in the API).
	OriginRepository         string
	OriginExternalConnection string
	Summary                  string
	HomePage                 string
	SourceCodeRepository     string
	Licenses                 []string
	// Attributes are format-specific facts the core stores but does not
	// interpret (pypi: requires_python, description, requires_dist ...).
	Attributes  map[string]string
	PublishedAt time.Time
	UpdatedAt   time.Time
}

// Asset is one file of a package version. Its bytes live in the blob store
// under SHA256 in the domain's namespace.
type Asset struct {
	VersionKey
	Name   string
	Size   int64
	SHA256 string
	SHA512 string
	SHA1   string
	MD5    string
	// Attributes are format-specific facts about the file (pypi:
	// core_metadata_sha256, requires_python, yanked ...).
	Attributes map[string]string
	CreatedAt  time.Time
}

// PackageFile is an asset with the status of its version.
type PackageFile struct {
	Asset
	Status string
}

// UpstreamPage is the cached answer of an external connection about one
// package: opaque bytes the caller encodes, and when it was fetched.
type UpstreamPage struct {
	Key       string // built by the caller (connection URL + package)
	Body      []byte
	FetchedAt time.Time
}

// UpstreamPrune says which cached upstream pages to delete: those fetched
// before Before, "not found" answers (an empty Body) fetched before
// EmptyBefore, and then the oldest beyond the newest Keep (0: no bound).
type UpstreamPrune struct {
	Before, EmptyBefore time.Time
	Keep                int
}

// PackageGroup is a domain's package group (CodeArtifact package groups).
// Pattern is stored in its canonical form (e.g. "/pypi//requests$",
// "/npm/scope/*", "/*"); the root group "/*" is created with its domain.
type PackageGroup struct {
	DomainOwner  string
	DomainName   string
	Pattern      string
	Description  string
	ContactInfo  string
	Restrictions map[string]GroupRestriction // by type: PUBLISH, EXTERNAL_UPSTREAM, INTERNAL_UPSTREAM
	CreatedAt    time.Time
}

// GroupRestriction is one origin restriction of a package group.
type GroupRestriction struct {
	Mode         string   // ALLOW | BLOCK | ALLOW_SPECIFIC_REPOSITORIES | INHERIT
	Repositories []string // allowed repositories (ALLOW_SPECIFIC_REPOSITORIES)
}

// Policy is a resource policy (IAM JSON) on a domain or repository ARN.
type Policy struct {
	ResourceARN string
	Document    string
	Revision    string
}

// AccessKey is a principal's SigV4 key. Secret is stored as the caller
// gives it (the server encrypts it at rest before storing).
type AccessKey struct {
	AccessKeyID string
	Secret      string
	Principal   string // ARN, e.g. arn:aws:iam::123456789012:user/ci
	CreatedAt   time.Time
	Inactive    bool // an inactive key signs nothing (IAM's Status Inactive)
}

// Page asks for one page of a listing. After is the cursor returned with the
// previous page ("" for the first page); Limit must be at least 1 (a smaller
// one is an error, not a default: defaults belong to the API layer).
type Page struct {
	After string
	Limit int
}

// PackageFilter narrows ListPackages. Empty fields match everything.
type PackageFilter struct {
	Format     string
	Namespace  *string // nil: any namespace; non-nil: exactly this one
	NamePrefix string
}

// Store is the metadata persistence interface. Implementations must be safe
// for concurrent use. List methods return at most page.Limit items ordered by
// their cursor key, plus the cursor to pass as Page.After for the next page
// ("" when there is no next page).
//
// Round trips (pinned by storetest):
//   - Times come back in UTC with at least microsecond precision (the
//     PostgreSQL limit; SQLite keeps nanoseconds). The zero time comes back
//     as the zero time.
//   - Empty slices and maps (Upstreams, Licenses, Attributes ...) come back
//     as nil; order of slices is preserved.
//   - A method addressed by a parent key (a domain, repository, package or
//     version) returns ErrNotFound when that parent does not exist, list
//     methods included. ListDomains and ListRepositories only filter.
type Store interface {
	// Settings: small named values that must survive restarts and be shared
	// by replicas (account id, token signing keys). PutSettingIfAbsent
	// returns the value that is stored after the call (so the first writer
	// wins when several replicas start at once).
	GetSetting(ctx context.Context, name string) (string, error)
	PutSettingIfAbsent(ctx context.Context, name, value string) (string, error)

	CreateDomain(ctx context.Context, d Domain) error // ErrExists
	GetDomain(ctx context.Context, owner, name string) (Domain, error)
	// ListDomains lists all domains ordered by (name, owner). The cursor is opaque.
	ListDomains(ctx context.Context, page Page) ([]Domain, string, error)
	// DeleteDomain fails with ErrNotEmpty while the domain has repositories.
	DeleteDomain(ctx context.Context, owner, name string) error
	// CountRepositories counts the domain's repositories.
	CountRepositories(ctx context.Context, owner, domain string) (int, error)
	// DomainAssetStats returns the number of distinct blobs the domain's
	// assets reference and their total size.
	DomainAssetStats(ctx context.Context, owner, domain string) (count int64, size int64, err error)

	CreateRepository(ctx context.Context, r Repository) error // ErrExists; ErrNotFound if the domain is missing
	GetRepository(ctx context.Context, owner, domain, name string) (Repository, error)
	// UpdateRepository replaces Description, Upstreams and ExternalConnections.
	UpdateRepository(ctx context.Context, r Repository) error
	// ListRepositories lists repositories whose name starts with prefix, of one
	// domain when domain != "" (owner likewise), else of all domains, ordered
	// by (name, domain owner, domain name). The cursor is opaque.
	ListRepositories(ctx context.Context, owner, domain, prefix string, page Page) ([]Repository, string, error)
	// DeleteRepository deletes the repository with all its packages,
	// versions and assets, and returns the sha256 of every blob that no
	// asset of the domain references any more (for the caller to delete).
	DeleteRepository(ctx context.Context, owner, domain, name string) (orphans []string, err error)

	GetPackage(ctx context.Context, k PackageKey) (Package, error)
	// ListPackages lists packages of a repository ordered by (format,
	// namespace, name). The cursor is opaque.
	ListPackages(ctx context.Context, owner, domain, repo string, f PackageFilter, page Page) ([]Package, string, error)
	// PutPackageOrigin sets the origin controls of an existing package.
	PutPackageOrigin(ctx context.Context, k PackageKey, publish, upstream string) error

	GetVersion(ctx context.Context, k VersionKey) (PackageVersion, error)
	// ListVersions lists all versions of a package (any status) in no
	// particular order; the caller sorts with the format's version order.
	ListVersions(ctx context.Context, k PackageKey) ([]PackageVersion, error)

	// AddAsset records one asset atomically, creating the package (with pkg's
	// DisplayName and origin controls) and the version (with v's fields) when
	// they do not exist yet; an existing package or version is kept as is,
	// except that the version's Revision and UpdatedAt are set from v.
	// If an asset with the same name already exists in that version, nothing
	// changes and the existing asset is returned with ErrExists (the caller
	// compares hashes to tell an idempotent retry from a conflict).
	// pkg.PackageKey, v.PackageKey and a.VersionKey must be the same key;
	// ErrNotFound if the repository is missing. On success a is returned as
	// GetAsset will return it.
	AddAsset(ctx context.Context, pkg Package, v PackageVersion, a Asset) (Asset, error)
	GetAsset(ctx context.Context, k VersionKey, name string) (Asset, error)
	// ListAssets lists a version's assets ordered by name.
	ListAssets(ctx context.Context, k VersionKey) ([]Asset, error)
	// ListPackageAssets lists the assets of every version of a package
	// (one query for a whole project page), ordered by (Version, Name).
	ListPackageAssets(ctx context.Context, k PackageKey) ([]Asset, error)
	// ListPackageFiles is ListPackageAssets with each asset's version status,
	// and a version without assets as one entry with an empty Name:
	// everything an index page needs, in one query, without decoding the
	// versions' attributes (descriptions can be large).
	ListPackageFiles(ctx context.Context, k PackageKey) ([]PackageFile, error)

	// GetUpstreamPage returns a cached upstream page (ErrNotFound if none);
	// PutUpstreamPage inserts or replaces one. The cache lives in the store
	// so every replica shares it and it survives restarts (stale-if-error).
	GetUpstreamPage(ctx context.Context, key string) (UpstreamPage, error)
	PutUpstreamPage(ctx context.Context, p UpstreamPage) error
	// PruneUpstreamPages bounds the cache (see UpstreamPrune) and returns
	// how many pages it deleted.
	PruneUpstreamPages(ctx context.Context, p UpstreamPrune) (int64, error)

	// Version lifecycle. Orphans are the sha256 of blobs that no asset of
	// the domain references any more after the change (for the caller to
	// delete from the blob store).
	//
	// SetVersionStatus sets status, revision and UpdatedAt; a non-empty
	// ifRevision must equal the current revision (ErrRevisionMismatch).
	SetVersionStatus(ctx context.Context, k VersionKey, status, revision, ifRevision string, updatedAt time.Time) (PackageVersion, error)
	// DisposeVersion deletes a version's assets and marks it Disposed.
	DisposeVersion(ctx context.Context, k VersionKey, revision string, updatedAt time.Time) (orphans []string, err error)
	// DeleteVersion removes a version and its assets; a package left with
	// no versions remains (with its origin controls).
	DeleteVersion(ctx context.Context, k VersionKey) (orphans []string, err error)
	// DeletePackage removes a package with all its versions and assets.
	DeletePackage(ctx context.Context, k PackageKey) (orphans []string, err error)

	// Package groups, unique by (owner, domain, pattern); listed ordered by
	// pattern. UpdatePackageGroup replaces Description, ContactInfo and
	// Restrictions. Deleting a domain deletes its groups.
	CreatePackageGroup(ctx context.Context, g PackageGroup) error // ErrExists; ErrNotFound without the domain
	GetPackageGroup(ctx context.Context, owner, domain, pattern string) (PackageGroup, error)
	UpdatePackageGroup(ctx context.Context, g PackageGroup) error
	DeletePackageGroup(ctx context.Context, owner, domain, pattern string) error
	ListPackageGroups(ctx context.Context, owner, domain string, page Page) ([]PackageGroup, string, error)

	// Resource policies, by resource ARN. A non-empty ifRevision must equal
	// the stored revision (ErrRevisionMismatch; ErrNotFound if none).
	GetPolicy(ctx context.Context, resourceARN string) (Policy, error)
	PutPolicy(ctx context.Context, p Policy, ifRevision string) error
	DeletePolicy(ctx context.Context, resourceARN, ifRevision string) (Policy, error)

	// Tags, by resource ARN: GetTags returns nil when there are none;
	// SetTags adds or replaces add, then removes the keys in remove.
	GetTags(ctx context.Context, resourceARN string) (map[string]string, error)
	SetTags(ctx context.Context, resourceARN string, add map[string]string, remove []string) error

	// Access keys of principals other than the root (which is configured).
	CreateAccessKey(ctx context.Context, k AccessKey) error // ErrExists
	GetAccessKey(ctx context.Context, accessKeyID string) (AccessKey, error)
	ListAccessKeys(ctx context.Context) ([]AccessKey, error) // ordered by AccessKeyID
	DeleteAccessKey(ctx context.Context, accessKeyID string) error
	SetAccessKeyInactive(ctx context.Context, accessKeyID string, inactive bool) error // ErrNotFound

	// Changes returns the number of the latest recorded change and the
	// changes numbered after `after`, in order, at most limit of them, as of
	// one instant (see Change). Each of the writes listed under Change's
	// kinds records exactly one change in its transaction when it succeeds;
	// a write that fails records none.
	Changes(ctx context.Context, after uint64, limit int) (latest uint64, changes []Change, err error)

	// Token revocations. CreateRevocation records one (and a
	// ChangeRevocation); ListRevocations returns those whose Before is
	// after since (older ones only revoke tokens that have expired),
	// ordered by Before.
	CreateRevocation(ctx context.Context, r Revocation) error
	ListRevocations(ctx context.Context, since time.Time) ([]Revocation, error)

	// BlobReferenced reports whether any asset of the domain references the
	// blob, as its content or in an attribute (a sidecar's digest).
	BlobReferenced(ctx context.Context, owner, domain, sha256 string) (bool, error)

	// Lock takes a lock named key that every replica sharing this store
	// respects, waiting until it is free or ctx ends; unlock releases it.
	// It coalesces upstream fetches across replicas. SQLite serves one
	// node, so its lock is process-local.
	Lock(ctx context.Context, key string) (unlock func(), err error)

	Close() error
}
