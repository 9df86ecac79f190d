package store

import "time"

// The change feed lets replicas sharing a store keep their caches exact.
// Every write that can change what a cache derived from the store shows
// (a package's versions and assets, repositories and their upstreams,
// package groups, domains, policies, token revocations) records a Change in
// its own transaction, numbered by a counter that the same transaction
// increments. A replica reads the counter (and the changes after the one it
// last saw) at the start of a request, in one round trip: every write
// acknowledged before that read is then reflected in its caches, whichever
// replica made it.
//
// Numbers are dense and commit in order: the counter is one row that each
// recording transaction updates, so a transaction that numbers its change
// n+1 waits for the one holding n to commit first. A reader that sees the
// counter at n therefore sees every change up to n.

// Change kinds.
const (
	// ChangePackage: a package's origin controls, versions or assets
	// changed (Change.Package names it, in one repository).
	ChangePackage = "package"
	// ChangeDomain: a domain, a repository (its upstreams or external
	// connections) or a package group changed: any view of any package may
	// differ.
	ChangeDomain = "domain"
	// ChangePolicy: a resource policy was put or deleted.
	ChangePolicy = "policy"
	// ChangeRevocation: a token revocation was recorded.
	ChangeRevocation = "revocation"
)

// Change is one recorded write.
type Change struct {
	Seq     uint64
	Kind    string
	Package PackageKey // ChangePackage only; for ChangeDomain, the domain's owner and name
}

// ChangesKept is how many of the latest changes a store keeps at least; a
// reader further behind than that learns it from Changes returning fewer
// changes than the numbers it skipped, and must assume everything changed.
const ChangesKept = 10000

// Revocation revokes every token issued before Before that matches both
// AccessKeyID and Principal (an empty field matches every token). Tokens
// issued before wharf recorded access key ids in them have none, and are
// revoked by principal or by time only.
type Revocation struct {
	AccessKeyID string
	Principal   string
	Before      time.Time
	Reason      string // for the refusal message and the log: "access key deleted", "revoked by the administrator"
	CreatedAt   time.Time
}
