-- The campaign index, incremental: what changed since a refresh is read from the end of the
-- archive tables (zone maps on batch times, or row positions of append-only tables), never by
-- scanning them, and the tally reads per-campaign aggregates kept by delta
-- (salon.campaigns.index; docs/schema.md).

-- The batch time of the post a hashtag row belongs to (= posts.collected_at), so the hashtags
-- written since a moment are found without scanning the table.
ALTER TABLE post_hashtags ADD COLUMN collected_at TIMESTAMPTZ;
UPDATE post_hashtags SET collected_at = p.collected_at FROM posts p WHERE p.uid = post_hashtags.uid;

-- When the author row was inserted or its handle last changed (the campaign index re-matches
-- these authors to the registries).
ALTER TABLE authors ADD COLUMN handle_changed_at TIMESTAMPTZ;

-- The index is derived data: rebuilt at the next refresh of each campaign.
DROP TABLE campaign_posts;
DROP TABLE campaign_post_tags;
DROP TABLE campaign_authors;
DROP TABLE campaign_index_state;

-- Current members (campaign posts and reposts, alive), denormalised.
CREATE TABLE campaign_posts (
    campaign_id    INTEGER NOT NULL,
    uid            VARCHAR NOT NULL,
    is_repost      BOOLEAN NOT NULL,
    platform       VARCHAR NOT NULL,
    author_uid     VARCHAR,
    participant_id INTEGER,                  -- registry match of the author
    created_at     TIMESTAMPTZ NOT NULL,
    day            DATE NOT NULL,            -- local date (campaign time zone)
    hour           TIMESTAMPTZ NOT NULL,     -- UTC hour
    likes          BIGINT,                   -- latest engagement snapshot (campaign posts only)
    reposts        BIGINT,
    replies        BIGINT,
    quotes         BIGINT,
    eng_at         TIMESTAMPTZ,              -- observed_at of that snapshot
    tags           VARCHAR[]                 -- the official keys a campaign post carries
);

-- Every repost created in the window (member or not): found by the post it reposts when that
-- post changes. own_tagged: the repost itself carries an official key.
CREATE TABLE campaign_reposts (
    campaign_id   INTEGER NOT NULL,
    uid           VARCHAR NOT NULL,
    repost_of_uid VARCHAR,
    own_tagged    BOOLEAN NOT NULL
);

-- Authors of members with their number of campaign posts and reposts (participants: posts > 0).
CREATE TABLE campaign_authors (
    campaign_id INTEGER NOT NULL,
    author_uid  VARCHAR NOT NULL,
    posts       BIGINT NOT NULL,
    reposts     BIGINT NOT NULL
);

-- Archive authors whose handle matches a registry account without a known id (min participant).
CREATE TABLE campaign_handles (
    campaign_id    INTEGER NOT NULL,
    author_uid     VARCHAR NOT NULL,
    platform       VARCHAR NOT NULL,
    handle_norm    VARCHAR NOT NULL,         -- lower(authors.handle)
    participant_id INTEGER NOT NULL
);

-- Signed counts of members by (day, hour, platform, participant, kind); the sum over a group is
-- the figure (rows are appended by each refresh and compacted now and then).
CREATE TABLE campaign_counts (
    campaign_id    INTEGER NOT NULL,
    day            DATE NOT NULL,
    hour           TIMESTAMPTZ NOT NULL,
    platform       VARCHAR NOT NULL,
    participant_id INTEGER,
    is_repost      BOOLEAN NOT NULL,
    n              BIGINT NOT NULL,
    likes          BIGINT NOT NULL,
    reposts        BIGINT NOT NULL,
    replies        BIGINT NOT NULL,
    quotes         BIGINT NOT NULL
);

-- Signed counts of campaign posts by official key and local day.
CREATE TABLE campaign_tag_counts (
    campaign_id INTEGER NOT NULL,
    tag_key     VARCHAR NOT NULL,
    day         DATE NOT NULL,
    n           BIGINT NOT NULL
);

CREATE TABLE campaign_index_state (
    campaign_id   INTEGER PRIMARY KEY,
    digest        VARCHAR NOT NULL,          -- of Campaign.definition(): a change rebuilds
    posts_mark    TIMESTAMPTZ,               -- max(posts.collected_at) seen (hashtags: the same)
    tombs_mark    TIMESTAMPTZ,               -- max(tombstones.recorded_at) seen
    snaps_mark    BIGINT NOT NULL,           -- rows of metrics_snapshots seen (append-only)
    authors_mark  TIMESTAMPTZ,               -- max(authors.handle_changed_at) seen
    compacted     BIGINT NOT NULL,           -- rows of campaign_counts after the last compaction
    refreshed_at  TIMESTAMPTZ NOT NULL
);
