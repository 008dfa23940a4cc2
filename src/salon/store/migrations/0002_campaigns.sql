-- Campaigns (DESIGN.md, Campaign file) and the participants registry, plus the precomputed
-- campaign index the tally reads (salon.campaigns.index keeps it exact).

CREATE TABLE series (
    series       VARCHAR PRIMARY KEY,        -- e.g. "MuseumWeek"
    created_at   TIMESTAMPTZ NOT NULL
);

CREATE TABLE campaigns (
    campaign_id      INTEGER PRIMARY KEY,
    slug             VARCHAR NOT NULL UNIQUE,
    name             VARCHAR NOT NULL,
    series           VARCHAR,                -- series.series
    edition          VARCHAR,                -- e.g. "2015"
    timezone         VARCHAR NOT NULL,       -- IANA zone of the window
    start_local      VARCHAR NOT NULL,       -- as written: YYYY-MM-DD or local YYYY-MM-DDTHH:MM:SS
    end_local        VARCHAR NOT NULL,       -- exclusive
    start_utc        TIMESTAMPTZ NOT NULL,
    end_utc          TIMESTAMPTZ NOT NULL,
    hashtags         VARCHAR NOT NULL,       -- JSON list, as written
    accent_sensitive BOOLEAN NOT NULL,
    description      VARCHAR,
    participants_file VARCHAR,
    extra            VARCHAR,                -- JSON of other tables ([[chats]], [sources.*])
    source_toml      VARCHAR,                -- the file as last added
    added_at         TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE TABLE campaign_days (
    campaign_id INTEGER NOT NULL,
    day         DATE NOT NULL,               -- campaign time zone
    theme       VARCHAR,
    hashtags    VARCHAR NOT NULL             -- JSON list, as written
);

-- Every official hashtag with its key (campaign tags have day NULL).
CREATE TABLE campaign_hashtags (
    campaign_id INTEGER NOT NULL,
    tag         VARCHAR NOT NULL,
    tag_key     VARCHAR NOT NULL,            -- tag_key, or tag_norm when accent_sensitive
    day         DATE
);

CREATE TABLE participants (
    campaign_id    INTEGER NOT NULL,
    participant_id INTEGER NOT NULL,         -- position in the CSV (0-based)
    name           VARCHAR NOT NULL,
    country        VARCHAR,                  -- ISO 3166-1 alpha-2
    city           VARCHAR,
    kind           VARCHAR,
    line           INTEGER
);

CREATE TABLE participant_accounts (
    campaign_id    INTEGER NOT NULL,
    participant_id INTEGER NOT NULL,
    platform       VARCHAR NOT NULL,         -- x | mastodon | bluesky
    handle         VARCHAR NOT NULL,         -- as written
    handle_norm    VARCHAR NOT NULL,         -- lower(handle)
    account_uid    VARCHAR,                  -- platform account id, learned at first handle match
    learned_at     TIMESTAMPTZ
);

-- The precomputed index: current members of each campaign (campaign posts and reposts, alive),
-- denormalised for the tally. Derived data: rebuilt from the tables above and the archive core.
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
    quotes         BIGINT
);

CREATE TABLE campaign_post_tags (
    campaign_id INTEGER NOT NULL,
    uid         VARCHAR NOT NULL,
    tag_key     VARCHAR NOT NULL,            -- the official key the post carries
    day         DATE NOT NULL
);

CREATE TABLE campaign_authors (
    campaign_id    INTEGER NOT NULL,
    author_uid     VARCHAR NOT NULL,
    participant_id INTEGER
);

CREATE TABLE campaign_index_state (
    campaign_id   INTEGER PRIMARY KEY,
    digest        VARCHAR NOT NULL,          -- of Campaign.definition(): a change rebuilds
    posts_mark    TIMESTAMPTZ,               -- max(posts.collected_at) seen
    tombs_mark    TIMESTAMPTZ,               -- max(tombstones.recorded_at) seen
    raw_mark      TIMESTAMPTZ,               -- max(raw.received_at) seen
    refreshed_at  TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE campaign_id_seq START 1;
