package postgres

// migrations[i] brings the schema from version i to i+1. Append only: a
// released migration never changes. The numbering is this backend's own:
// it need not follow SQLite's, which grew its tables over three migrations.
//
// The schema mirrors SQLite's, so that both backends mean the same thing:
//   - Times are BIGINT nanoseconds since the Unix epoch, NULL for the zero
//     time (exact, and the same values SQLite keeps; timestamptz would drop
//     to microseconds).
//   - Lists and maps are JSON in TEXT: stored, never queried, and TEXT keeps
//     what JSONB would reject (\u0000) or reorder.
//   - Every text column that is a sort or range key is COLLATE "C", so
//     ORDER BY, keyset cursors and prefix ranges compare bytes exactly as
//     SQLite and Go's strings.Compare do, whatever the database's locale.
//   - Integer ids keep child rows and indexes small; the natural keys are
//     UNIQUE constraints (which also index every foreign key's column, so
//     cascades and RESTRICT checks are index lookups).
var migrations = []string{
	`
CREATE TABLE settings (
	name  TEXT COLLATE "C" PRIMARY KEY,
	value TEXT NOT NULL
);

CREATE TABLE domains (
	id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner          TEXT COLLATE "C" NOT NULL,
	name           TEXT COLLATE "C" NOT NULL,
	encryption_key TEXT NOT NULL,
	created_at     BIGINT,
	UNIQUE (owner, name)
);
CREATE INDEX domains_by_name ON domains (name, owner);

CREATE TABLE repositories (
	id                   BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	domain_id            BIGINT NOT NULL REFERENCES domains (id) ON DELETE RESTRICT,
	name                 TEXT COLLATE "C" NOT NULL,
	description          TEXT NOT NULL,
	upstreams            TEXT NOT NULL,
	external_connections TEXT NOT NULL,
	created_at           BIGINT,
	UNIQUE (domain_id, name)
);
CREATE INDEX repositories_by_name ON repositories (name);

CREATE TABLE packages (
	id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repository_id   BIGINT NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
	format          TEXT COLLATE "C" NOT NULL,
	namespace       TEXT COLLATE "C" NOT NULL,
	name            TEXT COLLATE "C" NOT NULL,
	display_name    TEXT NOT NULL,
	origin_publish  TEXT NOT NULL,
	origin_upstream TEXT NOT NULL,
	created_at      BIGINT,
	UNIQUE (repository_id, format, namespace, name)
);

CREATE TABLE package_versions (
	id                         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	package_id                 BIGINT NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
	version                    TEXT COLLATE "C" NOT NULL,
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
	published_at               BIGINT,
	updated_at                 BIGINT,
	UNIQUE (package_id, version)
);

-- domain_id is denormalized (an asset never changes domain) so that orphan
-- detection and DomainAssetStats are index lookups by (domain, sha256).
CREATE TABLE assets (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	version_id BIGINT NOT NULL REFERENCES package_versions (id) ON DELETE CASCADE,
	domain_id  BIGINT NOT NULL REFERENCES domains (id),
	name       TEXT COLLATE "C" NOT NULL,
	size       BIGINT NOT NULL,
	sha256     TEXT COLLATE "C" NOT NULL,
	sha512     TEXT NOT NULL,
	sha1       TEXT NOT NULL,
	md5        TEXT NOT NULL,
	attributes TEXT NOT NULL,
	created_at BIGINT,
	UNIQUE (version_id, name)
);
CREATE INDEX assets_by_blob ON assets (domain_id, sha256, size);

-- The upstream page cache, shared by replicas and kept across restarts.
CREATE TABLE upstream_pages (
	key        TEXT COLLATE "C" PRIMARY KEY,
	body       BYTEA NOT NULL,
	fetched_at BIGINT
);

CREATE TABLE package_groups (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	domain_id    BIGINT NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
	pattern      TEXT COLLATE "C" NOT NULL,
	description  TEXT NOT NULL,
	contact_info TEXT NOT NULL,
	restrictions TEXT NOT NULL,
	created_at   BIGINT,
	UNIQUE (domain_id, pattern)
);

CREATE TABLE policies (
	resource_arn TEXT COLLATE "C" PRIMARY KEY,
	document     TEXT NOT NULL,
	revision     TEXT NOT NULL
);

CREATE TABLE tags (
	resource_arn TEXT COLLATE "C" NOT NULL,
	key          TEXT COLLATE "C" NOT NULL,
	value        TEXT NOT NULL,
	PRIMARY KEY (resource_arn, key)
);

CREATE TABLE access_keys (
	access_key_id TEXT COLLATE "C" PRIMARY KEY,
	secret        TEXT NOT NULL,
	principal     TEXT NOT NULL,
	created_at    BIGINT
);
`,
	// 2: the change feed (store.Change) and token revocations.
	`
CREATE TABLE change_seq (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq BIGINT NOT NULL
);
INSERT INTO change_seq (id, seq) VALUES (1, 0);

CREATE TABLE changes (
	seq          BIGINT PRIMARY KEY,
	kind         TEXT NOT NULL,
	domain_owner TEXT NOT NULL,
	domain_name  TEXT NOT NULL,
	repository   TEXT NOT NULL,
	format       TEXT NOT NULL,
	namespace    TEXT NOT NULL,
	name         TEXT NOT NULL
);

CREATE TABLE token_revocations (
	id            BIGSERIAL PRIMARY KEY,
	access_key_id TEXT NOT NULL,
	principal     TEXT NOT NULL,
	before_time   BIGINT NOT NULL,
	reason        TEXT NOT NULL,
	created_at    BIGINT
);
CREATE INDEX token_revocations_before ON token_revocations (before_time);

ALTER TABLE access_keys ADD COLUMN inactive BOOLEAN NOT NULL DEFAULT false;
`,
}
