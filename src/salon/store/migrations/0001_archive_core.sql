-- The archive core: raw records with provenance, and the tables derived from them.
-- Documented in docs/schema.md; keep both in step.

CREATE TABLE imports (
    import_id     BIGINT PRIMARY KEY,
    kind          VARCHAR NOT NULL,          -- import | collect
    started_at    TIMESTAMPTZ NOT NULL,
    finished_at   TIMESTAMPTZ,
    salon_version VARCHAR NOT NULL,
    arguments     VARCHAR,
    status        VARCHAR NOT NULL,          -- running | done | interrupted | failed
    records_in    BIGINT DEFAULT 0,
    records_new   BIGINT DEFAULT 0,
    records_duplicate BIGINT DEFAULT 0,
    records_bad   BIGINT DEFAULT 0,
    posts_new     BIGINT DEFAULT 0
);

CREATE TABLE import_files (
    import_id   BIGINT NOT NULL,
    file_id     BIGINT PRIMARY KEY,
    path        VARCHAR NOT NULL,            -- as given; members of archives as outer.zip!inner.json
    sha256      VARCHAR,                     -- of the file bytes as stored on disk
    size_bytes  BIGINT,
    format      VARCHAR,
    records_in  BIGINT DEFAULT 0,
    records_new BIGINT DEFAULT 0,
    records_duplicate BIGINT DEFAULT 0,
    records_bad BIGINT DEFAULT 0,
    status      VARCHAR NOT NULL             -- reading | done | failed
);

CREATE TABLE raw (
    raw_id       VARCHAR PRIMARY KEY,        -- blake2b-128 of the payload bytes, hex
    format       VARCHAR NOT NULL,
    payload      BLOB NOT NULL,              -- the record exactly as received
    file_id      BIGINT,                     -- provenance of the first sighting
    line         BIGINT,                     -- 1-based line (or element start line) in that file
    source       VARCHAR,                    -- file path or URL
    retrieved_at TIMESTAMPTZ,
    salon_version VARCHAR NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE posts (
    uid           VARCHAR PRIMARY KEY,       -- platform:native_id
    platform      VARCHAR NOT NULL,          -- x | mastodon | bluesky
    native_id     VARCHAR NOT NULL,
    uri           VARCHAR,
    url           VARCHAR,
    author_uid    VARCHAR,
    created_at    TIMESTAMPTZ,
    indexed_at    TIMESTAMPTZ,
    collected_at  TIMESTAMPTZ NOT NULL,
    text          VARCHAR,
    lang          VARCHAR,
    kind          VARCHAR NOT NULL,          -- original | reply | quote | repost
    reply_to_uid  VARCHAR,
    root_uid      VARCHAR,
    quote_of_uid  VARCHAR,
    repost_of_uid VARCHAR,
    edited_at     TIMESTAMPTZ,
    deleted_at    TIMESTAMPTZ,
    sensitive     BOOLEAN,
    is_context    BOOLEAN NOT NULL,          -- only ever seen nested in another payload
    raw_id        VARCHAR                    -- the raw record it was first read from
);

CREATE TABLE post_hashtags (
    uid         VARCHAR NOT NULL,
    tag_key     VARCHAR NOT NULL,            -- NFKC, casefold, accents folded
    tag_norm    VARCHAR NOT NULL,            -- NFKC, casefold, accents kept
    tag_display VARCHAR NOT NULL,            -- as written
    source      VARCHAR NOT NULL             -- entities | tags | facet | text
);

-- Other keys a platform uses for a post (Mastodon per-instance status ids); tombstones and
-- reply links that carry an alias are resolved to the post's uid through this table.
CREATE TABLE post_aliases (alias_uid VARCHAR PRIMARY KEY, uid VARCHAR NOT NULL);

CREATE TABLE post_mentions (uid VARCHAR NOT NULL, handle VARCHAR NOT NULL);
CREATE TABLE post_urls (uid VARCHAR NOT NULL, url VARCHAR NOT NULL);
CREATE TABLE post_media (
    uid VARCHAR NOT NULL, position INTEGER NOT NULL, type VARCHAR, url VARCHAR,
    alt_text VARCHAR, preview_url VARCHAR
);

CREATE TABLE authors (
    uid          VARCHAR PRIMARY KEY,
    platform     VARCHAR NOT NULL,
    native_id    VARCHAR NOT NULL,
    handle       VARCHAR,
    display_name VARCHAR,
    bio          VARCHAR,
    url          VARCHAR,
    followers    BIGINT,
    following    BIGINT,
    posts_count  BIGINT,
    bot          BOOLEAN,
    verified     BOOLEAN,
    created_at   TIMESTAMPTZ,
    indexable    BOOLEAN,
    observed_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE author_snapshots (
    uid VARCHAR NOT NULL, observed_at TIMESTAMPTZ NOT NULL, handle VARCHAR, display_name VARCHAR,
    bio VARCHAR, url VARCHAR, followers BIGINT, following BIGINT, posts_count BIGINT, bot BOOLEAN,
    verified BOOLEAN, created_at TIMESTAMPTZ, indexable BOOLEAN, digest VARCHAR NOT NULL
);

CREATE TABLE metrics_snapshots (
    uid VARCHAR NOT NULL, observed_at TIMESTAMPTZ NOT NULL,
    likes BIGINT, reposts BIGINT, replies BIGINT, quotes BIGINT, raw_id VARCHAR
);

CREATE TABLE tombstones (
    uid VARCHAR PRIMARY KEY, deleted_at TIMESTAMPTZ, raw_id VARCHAR, recorded_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE quarantine (
    import_id BIGINT, file_id BIGINT, path VARCHAR, line BIGINT, reason VARCHAR NOT NULL,
    payload BLOB, recorded_at TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE import_id_seq START 1;
CREATE SEQUENCE file_id_seq START 1;
