package sqlite

// migrations[i] brings the schema from version i to i+1. Append only: a
// released migration never changes.
//
// Conventions: times are INTEGER nanoseconds since the Unix epoch, UTC, NULL
// for the zero time; lists and maps are JSON text. Integer ids keep child
// rows and indexes small; the natural keys are UNIQUE constraints.
var migrations = []string{
	`
CREATE TABLE settings (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE domains (
	id             INTEGER PRIMARY KEY,
	owner          TEXT NOT NULL,
	name           TEXT NOT NULL,
	encryption_key TEXT NOT NULL,
	created_at     INTEGER,
	UNIQUE (owner, name)
) STRICT;
CREATE INDEX domains_by_name ON domains (name, owner);

CREATE TABLE repositories (
	id                   INTEGER PRIMARY KEY,
	domain_id            INTEGER NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
	name                 TEXT NOT NULL,
	description          TEXT NOT NULL,
	upstreams            TEXT NOT NULL,
	external_connections TEXT NOT NULL,
	created_at           INTEGER,
	UNIQUE (domain_id, name)
) STRICT;
CREATE INDEX repositories_by_name ON repositories (name);

CREATE TABLE packages (
	id              INTEGER PRIMARY KEY,
	repository_id   INTEGER NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	format          TEXT NOT NULL,
	namespace       TEXT NOT NULL,
	name            TEXT NOT NULL,
	display_name    TEXT NOT NULL,
	origin_publish  TEXT NOT NULL,
	origin_upstream TEXT NOT NULL,
	created_at      INTEGER,
	UNIQUE (repository_id, format, namespace, name)
) STRICT;

CREATE TABLE package_versions (
	id                         INTEGER PRIMARY KEY,
	package_id                 INTEGER NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
	version                    TEXT NOT NULL,
	display_version            TEXT NOT NULL,
	status                     TEXT NOT NULL,
	revision                   TEXT NOT NULL,
	origin_type                TEXT NOT NULL,
	origin_repository          TEXT NOT NULL,
	origin_external_connection TEXT NOT NULL,
	summary                    TEXT NOT NULL,
	home_page                  TEXT NOT NULL,
	source_code_repository     TEXT NOT NULL,
	licenses                   TEXT NOT NULL,
	attributes                 TEXT NOT NULL,
	published_at               INTEGER,
	updated_at                 INTEGER,
	UNIQUE (package_id, version)
) STRICT;

-- domain_id is denormalized (an asset never changes domain) so that orphan
-- detection and DomainAssetStats are index lookups by (domain, sha256).
CREATE TABLE assets (
	id         INTEGER PRIMARY KEY,
	version_id INTEGER NOT NULL REFERENCES package_versions (id) ON DELETE CASCADE,
	domain_id  INTEGER NOT NULL REFERENCES domains (id),
	name       TEXT NOT NULL,
	size       INTEGER NOT NULL,
	sha256     TEXT NOT NULL,
	sha512     TEXT NOT NULL,
	sha1       TEXT NOT NULL,
	md5        TEXT NOT NULL,
	attributes TEXT NOT NULL,
	created_at INTEGER,
	UNIQUE (version_id, name)
) STRICT;
CREATE INDEX assets_by_blob ON assets (domain_id, sha256, size);
`,
	// 2: the upstream page cache, shared by replicas and kept across restarts.
	`
CREATE TABLE upstream_pages (
	key        TEXT PRIMARY KEY,
	body       BLOB NOT NULL,
	fetched_at INTEGER
) STRICT;
`,
	// 3: package groups, resource policies, tags and access keys.
	`
CREATE TABLE package_groups (
	id           INTEGER PRIMARY KEY,
	domain_id    INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
	pattern      TEXT NOT NULL,
	description  TEXT NOT NULL,
	contact_info TEXT NOT NULL,
	restrictions TEXT NOT NULL,
	created_at   INTEGER,
	UNIQUE (domain_id, pattern)
) STRICT;

CREATE TABLE policies (
	resource_arn TEXT PRIMARY KEY,
	document     TEXT NOT NULL,
	revision     TEXT NOT NULL
) STRICT;

CREATE TABLE tags (
	resource_arn TEXT NOT NULL,
	key          TEXT NOT NULL,
	value        TEXT NOT NULL,
	PRIMARY KEY (resource_arn, key)
) STRICT;

CREATE TABLE access_keys (
	access_key_id TEXT PRIMARY KEY,
	secret        TEXT NOT NULL,
	principal     TEXT NOT NULL,
	created_at    INTEGER
) STRICT;
`,
	// 4: the change feed (store.Change) and token revocations.
	`
CREATE TABLE change_seq (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
) STRICT;
INSERT INTO change_seq (id, seq) VALUES (1, 0);

CREATE TABLE changes (
	seq          INTEGER PRIMARY KEY,
	kind         TEXT NOT NULL,
	domain_owner TEXT NOT NULL,
	domain_name  TEXT NOT NULL,
	repository   TEXT NOT NULL,
	format       TEXT NOT NULL,
	namespace    TEXT NOT NULL,
	name         TEXT NOT NULL
) STRICT;

CREATE TABLE token_revocations (
	id            INTEGER PRIMARY KEY,
	access_key_id TEXT NOT NULL,
	principal     TEXT NOT NULL,
	before_time   INTEGER NOT NULL,
	reason        TEXT NOT NULL,
	created_at    INTEGER
) STRICT;
CREATE INDEX token_revocations_before ON token_revocations (before_time);

ALTER TABLE access_keys ADD COLUMN inactive INTEGER NOT NULL DEFAULT 0 CHECK (inactive IN (0, 1));
`,
}
