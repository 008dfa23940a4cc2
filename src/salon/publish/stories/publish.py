"""Publishing a story as files, and publishing it again after deletions and opt-outs.

>>> from salon.publish.stories.publish import publish, republish
>>> publish(arc, "day-1", "out/day-1")                         # doctest: +SKIP  folder
>>> publish(arc, "day-1", "out/day-1.html", single_file=True)  # doctest: +SKIP  one file
>>> republish(arc)                                             # doctest: +SKIP  every story

A publication is a numbered *version*: the story's fields and items as they were (its snapshot)
and the time it was first published. Publishing an unchanged story again reuses its last version,
so the files come out byte-identical. Each version is rendered from the archive as it is at
rendering time: a post deleted or opted out since becomes a placeholder. ``republish`` renders
every version again, rewrites every place the story was written to (recorded in
``story_outputs``) and the copy the web app serves, and adds a dated changelog entry saying how
many posts were removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from salon.normalize.avatars import avatars_from
from salon.publish.stories import render
from salon.publish.stories.data import build_data
from salon.publish.stories.model import Story, StoryError, get_story
from salon.publish.stories.strings import say
from salon.publish.stories.wacz import write_wacz
from salon.store import stories as db
from salon.store.archive import Archive
from salon.store.media import MediaStore, media_dir

__all__ = ["MANIFEST_FORMAT", "Published", "publish", "render_version", "republish", "snapshot_of"]

MANIFEST_FORMAT = "salon-story-files/1"


def snapshot_of(s: Story) -> dict[str, Any]:
    """What a version keeps of the story: its fields and items (JSON-able, key order fixed)."""
    return {"slug": s.slug, **s.fields(), "items": [i.as_dict() for i in s.items]}


def _dumps(d: Any) -> str:
    return json.dumps(d, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


@dataclass
class Rendered:
    """One version rendered: its data, the files of the folder form, the single file."""

    version: int
    data: dict[str, Any]
    removed: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)  # relative path -> bytes (folder)
    single: bytes = b""


def render_version(
    arc: Archive, s: Story, version: dict[str, Any], store: MediaStore | None = None
) -> Rendered:
    """Render stored ``version`` (a ``story_versions`` row) of story ``s`` in both forms."""
    store = store or MediaStore(media_dir(arc.path))
    snap = json.loads(version["snapshot"])
    uids = [i["post_uid"] for i in snap["items"] if i["kind"] == "post"]
    urls = [
        u
        for r in arc.query(
            "SELECT url, preview_url FROM post_media WHERE uid IN (SELECT unnest(?))"
            " OR uid IN (SELECT reply_to_uid FROM posts WHERE uid IN (SELECT unnest(?)))"
            " OR uid IN (SELECT quote_of_uid FROM posts WHERE uid IN (SELECT unnest(?)))",
            [uids, uids, uids],
        )
        for u in r
        if u
    ]
    around = [
        u
        for r in arc.query(
            "SELECT reply_to_uid, quote_of_uid FROM posts WHERE uid IN (SELECT unnest(?))", [uids]
        )
        for u in r
        if u
    ]
    avatars = avatars_from(db.author_payloads(arc, uids + around))
    fetched = store.lookup(arc, urls + sorted(avatars.values()))
    data, removed = build_data(
        arc,
        snap,
        version=version["version"],
        published_at=version["published_at"],
        changelog=db.changelog(arc, s.story_id),
        media_of=lambda url: (
            {k: v for k, v in fetched[url].items() if k != "path"} if url and url in fetched else None
        ),
        avatars=avatars,
    )
    blobs: dict[str, bytes] = {}
    by_sha = {m["sha256"]: m for m in fetched.values()}
    for sha in sorted(by_sha):
        blobs[sha] = Path(by_sha[sha]["path"]).read_bytes()

    def folder_src(m: dict[str, Any]) -> str | None:
        f = m.get("file")
        return f"media/{f['sha256']}.{f['ext']}" if f else None

    def single_src(m: dict[str, Any]) -> str | None:
        f = m.get("file")
        return render.data_uri(f["mime"], blobs[f["sha256"]]) if f else None

    out = Rendered(version["version"], data, removed)
    files = {
        "index.html": render.render_html(data, single=False, media_src=folder_src),
        "assets/story.css": render.CSS.encode("utf-8"),
        "story.json": render.story_json(data),
        "story.md": render.render_markdown(data),
    }
    for sha in sorted(by_sha):
        files[f"media/{sha}.{by_sha[sha]['ext']}"] = blobs[sha]
    files["manifest.json"] = _manifest(s.slug, version["version"], files)
    out.files = dict(sorted(files.items()))
    out.single = render.render_html(data, single=True, media_src=single_src)
    return out


def _manifest(slug: str, version: int, files: dict[str, bytes]) -> bytes:
    body = {
        "format": MANIFEST_FORMAT,
        "story": slug,
        "version": version,
        "files": {
            p: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()} for p, b in sorted(files.items())
        },
    }
    return (json.dumps(body, sort_keys=True, indent=2) + "\n").encode()


def _is_story_folder(path: Path) -> bool:
    m = path / "manifest.json"
    with contextlib.suppress(OSError, ValueError):
        return bool(json.loads(m.read_text()).get("format") == MANIFEST_FORMAT)
    return False


def write_folder(path: Path, files: dict[str, bytes]) -> None:
    """Write the folder afresh (built beside it, then swapped in), so no file of an earlier
    rendering survives. An existing folder must be empty or an earlier story folder."""
    if path.exists() and any(path.iterdir()) and not _is_story_folder(path):
        raise StoryError(f"{path}: not empty and not a published story folder; choose another -o")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; a published folder is for everyone
    for rel, body in files.items():
        f = tmp / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(body)
    if path.exists():
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old)
    else:
        tmp.rename(path)


def write_file(path: Path, body: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(body)
    tmp.replace(path)


@dataclass
class Published:
    slug: str
    version: int
    new_version: bool
    written: list[tuple[str, str]]  # (kind, path)
    removed: int


def _current_version(arc: Archive, s: Story, by: str | None) -> tuple[dict[str, Any], bool]:
    snap = snapshot_of(s)
    vs = db.versions(arc, s.story_id)
    if vs and _dumps(json.loads(vs[-1]["snapshot"])) == _dumps(snap):
        return vs[-1], False
    n = db.add_version(arc, s.story_id, _dumps(snap), by)
    return db.versions(arc, s.story_id)[n - 1], True


def _write(arc: Archive, s: Story, r: Rendered, kind: str, path: Path, base_url: str | None = None) -> None:
    if kind == "folder":
        write_folder(path, r.files)
    elif kind == "single":
        write_file(path, r.single)
    elif kind == "wacz":
        write_wacz(path, r.data, r.files, base_url=base_url)
    db.record_output(arc, s.story_id, str(path.resolve()), kind, r.version)


def _store_html(arc: Archive, s: Story, r: Rendered) -> None:
    db.set_version_html(arc, s.story_id, r.version, r.single, _dumps(sorted(r.removed)))


def publish(
    arc: Archive,
    slug: str,
    out: str | Path | None = None,
    *,
    single_file: bool = False,
    wacz: bool = False,
    by: str | None = None,
) -> Published:
    """Publish story ``slug``: a new version if it changed since the last one, stored for the web
    app (``/s/<slug>/``) and, with ``out``, written there: a folder (``index.html``, assets,
    media, ``story.json``, ``story.md``, ``manifest.json``), or with ``single_file`` one HTML
    file (``out`` ending in ``.html``, else ``out/<slug>.html``); ``wacz`` adds
    ``<slug>.wacz`` (beside a file, inside a folder's parent as ``<folder>.wacz``)."""
    s = get_story(arc, slug)
    if s is None:
        raise StoryError(f"no story {slug!r} (see `salon story list`)")
    if not s.items:
        raise StoryError(f"story {slug!r} has no items yet (salon story add)")
    v, new = _current_version(arc, s, by)
    r = render_version(arc, s, v)
    written: list[tuple[str, str]] = []
    with arc.transaction():
        _store_html(arc, s, r)
        if out is not None:
            p = Path(out)
            if single_file:
                target = p if p.suffix.lower() in (".html", ".htm") else p / f"{slug}.html"
                _write(arc, s, r, "single", target)
                written.append(("single", str(target)))
            else:
                _write(arc, s, r, "folder", p)
                written.append(("folder", str(p)))
            if wacz:
                target = p.with_suffix(".wacz") if single_file else p.with_name(p.name + ".wacz")
                if single_file and p.suffix.lower() not in (".html", ".htm"):
                    target = p / f"{slug}.wacz"
                _write(arc, s, r, "wacz", target)
                written.append(("wacz", str(target)))
    return Published(slug, r.version, new, written, len(r.removed))


def _reason_text(lang: str | None, reasons: list[str]) -> str:
    why = "; ".join(say(lang, f"why.{w}") for w in sorted(set(reasons)))
    return say(lang, "changelog.removed", n=len(reasons), why=why)


def republish(arc: Archive, slug: str | None = None, *, now: datetime | None = None) -> list[Published]:
    """Render every published version of story ``slug`` (None: of every story) again with the
    archive as it is now; where posts were removed since the last rendering, add a dated
    changelog entry; rewrite the stored copies and every recorded output (files replaced, so
    nothing of a removed post survives in them)."""
    slugs = [slug] if slug else [r["slug"] for r in db.story_rows(arc)]
    done = []
    for sl in slugs:
        s = get_story(arc, sl)
        if s is None:
            raise StoryError(f"no story {sl!r} (see `salon story list`)")
        vs = db.versions(arc, s.story_id)
        if not vs:
            continue
        before: set[str] = set()
        for v in vs:
            before |= set(json.loads(v["removed_uids"] or "[]"))
        rendered = [render_version(arc, s, v) for v in vs]
        now_removed: dict[str, str] = {}
        for r in rendered:
            now_removed.update(r.removed)
        fresh = sorted(set(now_removed) - before)
        if fresh:
            db.add_changelog(
                arc,
                s.story_id,
                _reason_text(s.lang, [now_removed[u] for u in fresh]),
                now or datetime.now(UTC),
            )
            rendered = [render_version(arc, s, v) for v in vs]  # the entry is in the colophon
        by_version = {r.version: r for r in rendered}
        written = []
        with arc.transaction():
            for r in rendered:
                _store_html(arc, s, r)
            for o in db.outputs(arc, s.story_id):
                if not Path(o["path"]).exists():
                    # removed by hand since: nothing of a post survives there, nothing to recreate
                    db.forget_output(arc, s.story_id, o["path"])
                    continue
                r = by_version.get(o["version"]) or rendered[-1]
                _write(arc, s, r, o["kind"], Path(o["path"]))
                written.append((o["kind"], o["path"]))
        done.append(Published(sl, rendered[-1].version, False, written, len(fresh)))
    return done
