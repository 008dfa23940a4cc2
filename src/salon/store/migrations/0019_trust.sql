-- Trust and safety (salon.campaigns.trust; docs/trust.md): spam verdicts of the rules, editors'
-- decisions and every moderation action, block/allow lists, lookalike flags, verification
-- signals, takedowns. Documented in docs/schema.md (section "Trust and safety").

-- What the spam rules hold, per campaign and member (derived: recomputed by
-- salon.campaigns.trust.spam.refresh when the campaign's members or its thresholds change).
CREATE TABLE trust_spam (
    campaign_id INTEGER NOT NULL,
    uid         VARCHAR NOT NULL,            -- campaign post or repost
    is_repost   BOOLEAN NOT NULL,
    author_uid  VARCHAR,
    reason      VARCHAR NOT NULL,            -- rule's reason code (hashtag_stuffing, ...)
    detail      VARCHAR                      -- the measure against its threshold, in words
);

-- What the rules read of each campaign post, computed once per post (text normalised, link
-- hosts, hashtag and mention counts) and kept up to date from posts.collected_at.
CREATE TABLE trust_features (
    campaign_id INTEGER NOT NULL,
    uid         VARCHAR NOT NULL,
    author_uid  VARCHAR,
    created_at  TIMESTAMPTZ,
    text_len    INTEGER NOT NULL,
    n_tags      INTEGER NOT NULL,
    tag_chars   INTEGER NOT NULL,
    n_mentions  INTEGER NOT NULL,
    domains     VARCHAR[] NOT NULL,          -- link hosts, the platform's own left out
    norm        VARCHAR NOT NULL             -- text without links, tags, mentions, digits, punctuation
);

-- Bluesky labels seen on collected post views (src = the labeler's DID), read once per post.
CREATE TABLE trust_labels (
    uid VARCHAR NOT NULL, src VARCHAR, val VARCHAR   -- val NULL: the post was read, no label
);

-- Impersonation flags (derived): an account posting in the campaign that imitates a registry account.
CREATE TABLE trust_lookalikes (
    campaign_id    INTEGER NOT NULL,
    author_uid     VARCHAR NOT NULL,
    platform       VARCHAR NOT NULL,
    handle         VARCHAR,
    display_name   VARCHAR,
    participant_id INTEGER NOT NULL,         -- the registry entry imitated
    imitated       VARCHAR NOT NULL,         -- its account as written in the registry
    evidence       VARCHAR NOT NULL          -- JSON list of {"signal", "detail"}
);

-- Watermarks of the derived trust tables of each campaign.
CREATE TABLE trust_state (
    campaign_id  INTEGER PRIMARY KEY,
    digest       VARCHAR NOT NULL,           -- members' watermarks + the [moderation] settings
    refreshed_at TIMESTAMPTZ NOT NULL
);

-- Every moderation action, append-only (who and when). The latest decision of a family about a
-- target is in force: spam review (spam | not_spam), the wall (approve | trash | restore),
-- consent (show | hide), lists (list_add | list_remove), takedown.
CREATE SEQUENCE moderation_log_seq START 1;
CREATE TABLE moderation_log (
    log_id      BIGINT PRIMARY KEY,
    campaign_id INTEGER,                     -- NULL: every campaign (takedowns, consent)
    family      VARCHAR NOT NULL,            -- spam | wall | consent | list | takedown
    action      VARCHAR NOT NULL,
    target      VARCHAR NOT NULL,            -- post uid, author uid, or list entry
    reason      VARCHAR,
    by_user     VARCHAR NOT NULL,            -- editor's username, or cli:<login>
    acted_at    TIMESTAMPTZ NOT NULL
);

-- Block and allow lists of a campaign: accounts (platform:handle or author uid) and words.
CREATE TABLE moderation_lists (
    campaign_id INTEGER NOT NULL,
    list        VARCHAR NOT NULL,            -- block_accounts | allow_accounts | block_words
    value       VARCHAR NOT NULL,            -- normalised: lower case
    note        VARCHAR,
    added_by    VARCHAR NOT NULL,
    added_at    TIMESTAMPTZ NOT NULL
);

-- Takedown requests (a post or a whole account), with what they removed.
CREATE TABLE takedowns (
    target      VARCHAR NOT NULL,            -- post uid or author uid as asked
    kind        VARCHAR NOT NULL,            -- post | account
    reason      VARCHAR NOT NULL,
    by_user     VARCHAR NOT NULL,
    acted_at    TIMESTAMPTZ NOT NULL,
    posts       BIGINT NOT NULL              -- posts tombstoned by it
);

-- Account status events at the source (Jetstream account events): takendown, deleted,
-- deactivated, suspended... The posts of an account that is not active leave public surfaces.
CREATE TABLE account_status (
    author_uid VARCHAR PRIMARY KEY,
    active     BOOLEAN NOT NULL,
    status     VARCHAR,
    seen_at    TIMESTAMPTZ NOT NULL
);

-- Watermarks of the trust scans over the archive (e.g. account events read up to a moment).
CREATE TABLE trust_marks (name VARCHAR PRIMARY KEY, value VARCHAR);

-- Registry verification signals (cached; salon.campaigns.trust.verify).
CREATE TABLE trust_verifications (
    platform   VARCHAR NOT NULL,
    handle     VARCHAR NOT NULL,
    signal     VARCHAR NOT NULL,             -- bluesky_domain | mastodon_verified_link
    ok         BOOLEAN NOT NULL,
    detail     VARCHAR,
    checked_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, handle, signal)
);
