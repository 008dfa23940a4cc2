-- Stories (salon.publish.stories): curated posts, headings and text blocks, published as files
-- in numbered versions; and the content-addressed media store (salon.publish.media).
-- Documented in docs/stories.md.

CREATE TABLE stories (
    story_id      INTEGER PRIMARY KEY,
    slug          VARCHAR NOT NULL UNIQUE,
    title         VARCHAR NOT NULL,
    description   VARCHAR,                   -- Markdown (sanitised when rendered)
    campaign_slug VARCHAR,                   -- the campaign it tells (its time zone, capture dates)
    chat_slug     VARCHAR,                   -- or one chat of it
    curator       VARCHAR,
    institution   VARCHAR,
    lang          VARCHAR,
    revision      INTEGER NOT NULL,          -- bumped on every change: editors' conflict check
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE story_items (
    story_id  INTEGER NOT NULL,
    position  INTEGER NOT NULL,              -- 0-based order
    kind      VARCHAR NOT NULL,              -- post | heading | text
    post_uid  VARCHAR,                       -- kind = post
    body      VARCHAR,                       -- heading text or Markdown
    PRIMARY KEY (story_id, position)
);

-- Each publication of a story: the items and metadata as they were (JSON), so every version
-- renders again (republish) with today's deletions and opt-outs applied.
CREATE TABLE story_versions (
    story_id     INTEGER NOT NULL,
    version      INTEGER NOT NULL,           -- 1, 2, ...
    published_at TIMESTAMPTZ NOT NULL,
    published_by VARCHAR,
    snapshot     VARCHAR NOT NULL,           -- JSON: story fields and items
    html         BLOB,                       -- the single-file rendering the web app serves
    rendered_at  TIMESTAMPTZ,
    removed_uids VARCHAR,                    -- JSON: posts of it no longer shown at that render
    PRIMARY KEY (story_id, version)
);

-- Dated entries shown in the colophon ("post removed at its author's request", ...).
CREATE TABLE story_changelog (
    story_id INTEGER NOT NULL,
    entry_at TIMESTAMPTZ NOT NULL,
    entry    VARCHAR NOT NULL
);

-- Where a story was written to disk, so `salon story republish` replaces those files.
CREATE TABLE story_outputs (
    story_id   INTEGER NOT NULL,
    path       VARCHAR NOT NULL,             -- absolute
    kind       VARCHAR NOT NULL,             -- folder | single | wacz
    version    INTEGER NOT NULL,
    written_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (story_id, path)
);

-- Media files fetched for publishing: one row per remote URL; the bytes live in the media
-- store folder under their sha256 (content-addressed, so a file shared by posts is kept once).
CREATE TABLE media_files (
    url        VARCHAR PRIMARY KEY,
    role       VARCHAR NOT NULL,             -- media | preview | avatar
    status     VARCHAR NOT NULL,             -- pending | done | failed
    sha256     VARCHAR,
    mime       VARCHAR,
    size_bytes BIGINT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    error      VARCHAR,
    fetched_at TIMESTAMPTZ
);

CREATE SEQUENCE story_id_seq START 1;
