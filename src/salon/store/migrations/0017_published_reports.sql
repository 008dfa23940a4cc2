-- Campaign reports an editor published from the web app (salon.publish.reports), served read-only
-- at /reports/<slug> and /reports/<slug>.pdf. One row per campaign slug: publishing again replaces
-- it; unpublishing deletes it. Documented in docs/schema.md.

CREATE TABLE published_reports (
    slug          VARCHAR PRIMARY KEY,
    html          VARCHAR NOT NULL,          -- report.html as generated (self-contained, no script)
    pdf           BLOB,                      -- report.pdf from the same HTML (WeasyPrint)
    published_at  TIMESTAMPTZ NOT NULL,
    published_by  VARCHAR NOT NULL           -- the editor's user name
);
