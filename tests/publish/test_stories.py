"""Stories: model and CLI, publishing (folder, single file, WACZ), determinism, microformats,
sanitised Markdown, and deletions dropped by republish from every file."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from salon.publish.stories import model
from salon.publish.stories.publish import publish, republish
from salon.publish.stories.render import sanitise_markdown
from salon.store.archive import open_archive
from tests.publish.conftest import CAMPAIGN, SALON


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_model_add_by_url_and_uid_export_import(story_archive: Path) -> None:
    with open_archive(story_archive) as arc:
        rows = arc.query(
            "SELECT uid, url FROM posts WHERE kind = 'original' AND url IS NOT NULL"
            " QUALIFY row_number() OVER (PARTITION BY platform ORDER BY uid) = 1 ORDER BY platform"
        )
        assert len(rows) == 3
        model.new_story(arc, "s1", "Story one", campaign=CAMPAIGN)
        # pasted URLs (X status, bsky.app, Mastodon) resolve to the stored posts
        s = model.add_items(arc, "s1", [model.post(url) for _uid, url in rows])
        assert [i.post_uid for i in s.items] == [uid for uid, _url in rows]
        s = model.add_items(arc, "s1", [model.heading("Start"), model.post(rows[0][0])], position=0)
        assert [i.kind for i in s.items] == ["heading", "post", "post", "post"]  # no duplicate post
        with pytest.raises(model.StoryError):
            model.add_items(arc, "s1", [model.post("https://x.com/nobody/status/1")])
        with pytest.raises(model.StoryError):
            model.new_story(arc, "Bad Slug", "x")
        # two editors: the second save with a stale revision fails visibly
        rev = s.revision
        model.save_story(arc, "s1", revision=rev, fields={"title": "Renamed"})
        with pytest.raises(model.StaleRevision):
            model.save_story(arc, "s1", revision=rev, fields={"title": "Other"})
        data = model.export_story(arc, "s1")
        assert data["format"] == "salon-story/1" and data["title"] == "Renamed"
        assert data["items"][1]["url"] == rows[0][1]
        # import elsewhere: a post the other archive lacks is skipped and reported
        data["items"].append({"kind": "post", "post_uid": "x:999", "url": "https://x.com/a/status/999"})
        s2, missing = model.import_story(arc, data, slug="s1-copy")
        assert [i.as_dict() for i in s2.items] == [i.as_dict() for i in model.get_story(arc, "s1").items]  # type: ignore[union-attr]
        assert missing == ["x:999"]
        # --top's picks leave out what may not be shown (the sample has opted-out authors)
        from salon.campaigns.shown import hidden_posts

        every = [r[0] for r in arc.query("SELECT uid FROM campaign_posts WHERE NOT is_repost")]
        assert hidden_posts(arc, every), "the sample should have opted-out authors' posts"
        picks = model.top_posts(arc, CAMPAIGN, len(every))
        assert picks and not hidden_posts(arc, picks)


def test_a_story_for_a_chat_takes_its_campaign(story_archive: Path) -> None:
    with open_archive(story_archive) as arc:
        chat, campaign = arc.query(
            "SELECT k.slug, c.slug FROM chats k JOIN campaigns c USING (campaign_id) ORDER BY k.slug LIMIT 1"
        )[0]
        s = model.new_story(arc, "chat-story", "A chat", chat=chat)
        assert (s.chat_slug, s.campaign_slug) == (chat, campaign)
        with pytest.raises(model.StoryError):
            model.new_story(arc, "no-chat", "x", chat="no-such-chat")


def test_markdown_is_sanitised() -> None:
    html = sanitise_markdown(
        "# Big\n\nHi <script>alert(1)</script> [a](javascript:alert(1)) ![x](https://e.org/x.png)"
        ' <img src="https://e.org/y.png"> [ok](https://example.org)'
    )
    # what is not allowed is shown as text, never as markup
    assert "<script" not in html and 'href="javascript' not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    assert "<h3>Big</h3>" in html
    assert 'href="https://example.org"' in html


def test_publish_folder_single_wacz_deterministic(demo_story: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, uids = demo_story
    with open_archive(path) as arc:
        p1 = publish(arc, "day-one", tmp_path / "a")
        assert p1.version == 1 and p1.new_version
        first = _files(tmp_path / "a")
        p2 = publish(arc, "day-one", tmp_path / "b")
        assert p2.version == 1 and not p2.new_version  # unchanged story: same version
        publish(arc, "day-one", tmp_path / "one.html", single_file=True)
        publish(arc, "day-one", tmp_path / "one-again.html", single_file=True)
        publish(arc, "day-one", tmp_path / "w", wacz=True)
    # byte-identical: the same version rendered twice
    assert _files(tmp_path / "b") == {k: v for k, v in first.items()}
    assert (tmp_path / "one.html").read_bytes() == (tmp_path / "one-again.html").read_bytes()
    files = _files(tmp_path / "b")
    assert {"index.html", "assets/story.css", "story.json", "story.md", "manifest.json"} <= set(files)
    manifest = json.loads(files["manifest.json"])
    import hashlib

    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, meta in manifest["files"].items():
        assert meta["sha256"] == hashlib.sha256(files[name]).hexdigest()
    html = files["index.html"].decode()
    # relative links only: nothing the page loads is remote
    import re

    for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
        if attr.startswith("http"):
            assert re.search(r'<a [^>]*href="' + re.escape(attr), html), attr  # links, never loads
    assert 'href="assets/story.css"' in html and "<script" not in html
    single = (tmp_path / "one.html").read_text()
    assert "<style>" in single and "<link" not in single and "<script" not in single
    data = json.loads(files["story.json"])
    assert data["counts"]["posts"] == len(uids)
    assert data["colophon"]["institution"] == "Musée de Test"
    assert "static copy, not live" in html
    # every post's text is in the page, the JSON and the Markdown
    with open_archive(path, read_only=True) as arc:
        texts = [r[0] for r in arc.query("SELECT text FROM posts WHERE uid IN (SELECT unnest(?))", [uids])]
    md = files["story.md"].decode()
    import html as html_mod

    visible = html_mod.unescape(re.sub(r"<[^>]+>", "", html))
    for t in texts:
        for line in t.splitlines():
            # links may be shown expanded (X's t.co): the words around them are there as written
            for part in re.split(r"https?://\S+", line):
                assert part.strip() in visible
                assert part.strip() in md
    # X's t.co links are shown and linked as the addresses they stand for
    assert "https://t.co/" not in visible
    assert re.search(r'href="https://t\.co/', html) is None
    # WACZ valid per py-wacz's own validator
    w = tmp_path / "w.wacz"
    assert w.exists()
    out = subprocess.run(
        [str(Path(SALON).with_name("wacz")), "validate", "-f", str(w)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0 and "valid" in out.stdout, out.stdout + out.stderr


def test_microformats(demo_story: tuple[Path, list[str]], tmp_path: Path) -> None:
    mf2py = pytest.importorskip("mf2py")
    path, uids = demo_story
    with open_archive(path) as arc:
        publish(arc, "day-one", tmp_path / "f")
    parsed = mf2py.parse(doc=(tmp_path / "f" / "index.html").read_text(), url="file:///story/index.html")
    entries = [i for i in parsed["items"] if "h-entry" in i["type"]]
    assert len(entries) == len(uids)
    for e in entries:
        props = e["properties"]
        author = props["author"][0]
        assert "h-card" in author["type"] and author["properties"]["name"][0]
        assert props["published"][0][:4] == "2025"
        assert props["url"][0].startswith("https://")
        assert props["content"][0]["value"].strip()


def _delete_bluesky(arc_path: Path, uid: str, tmp: Path) -> None:
    """A Jetstream delete event for ``uid`` (shape as in the corpus' golden events), imported."""
    from salon.importer import import_paths

    at = uid.removeprefix("bluesky:")
    did, _, rkey = at.removeprefix("at://").partition("/app.bsky.feed.post/")
    ev = {
        "did": did,
        "time_us": 1747000000000000,
        "kind": "commit",
        "commit": {
            "rev": "3mptbyp63ih2m",
            "operation": "delete",
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
        },
    }
    f = tmp / "delete.jsonl"
    f.write_text(json.dumps(ev) + "\n")
    with open_archive(arc_path) as arc:
        import_paths([str(f)], arc, fmt="jetstream")


def test_deletion_then_republish_removes_the_post_everywhere(
    demo_story: tuple[Path, list[str]], tmp_path: Path
) -> None:
    path, uids = demo_story
    with open_archive(path) as arc:
        # a Bluesky post of the story whose text no other post has (the generator reuses texts)
        victim, text = arc.query(
            "SELECT uid, text FROM posts p WHERE uid IN (SELECT unnest(?)) AND platform = 'bluesky'"
            " AND (SELECT count(*) FROM posts q WHERE q.text = p.text) = 1 ORDER BY uid LIMIT 1",
            [uids],
        )[0]
        publish(arc, "day-one", tmp_path / "f", wacz=True)
        publish(arc, "day-one", tmp_path / "one.html", single_file=True)
    assert text.split()[0] and text in (tmp_path / "f" / "story.json").read_text()
    _delete_bluesky(path, victim, tmp_path)
    rkey = victim.rsplit("/", 1)[1]
    r = subprocess.run(
        [SALON, "story", "republish", "--all", "-a", str(path)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
    assert "1 post(s) newly removed" in r.stdout
    every = _files(tmp_path / "f") | {"one.html": (tmp_path / "one.html").read_bytes()}
    import zipfile

    with zipfile.ZipFile(tmp_path / "f.wacz") as z:
        for name in z.namelist():
            body = z.read(name)
            if name.endswith(".gz"):
                import gzip

                body = gzip.decompress(body)
            every["wacz:" + name] = body
    for name, body in every.items():
        assert text.encode() not in body, name
        assert rkey.encode() not in body, name
    data = json.loads((tmp_path / "f" / "story.json").read_text())
    assert data["counts"]["removed"] == 1
    assert data["changelog"][-1]["entry"].startswith("1 post(s) removed (deleted")
    assert "no longer shown" in (tmp_path / "one.html").read_text()
    with open_archive(path) as arc:
        html = arc.scalar("SELECT html FROM story_versions")
        assert text.encode() not in html
        # a second republish finds nothing new and adds no entry
        again = republish(arc, "day-one")
        assert again[0].removed == 0
        assert len(json.loads((tmp_path / "f" / "story.json").read_text())["changelog"]) == 1


def test_a_story_in_french(demo_story: tuple[Path, list[str]], tmp_path: Path) -> None:
    path, _uids = demo_story
    with open_archive(path) as arc:
        s = model.get_story(arc, "day-one")
        assert s is not None
        model.save_story(arc, "day-one", revision=s.revision, fields={"lang": "fr"})
        publish(arc, "day-one", tmp_path / "one.html", single_file=True)
    html = (tmp_path / "one.html").read_text()
    assert '<html lang="fr">' in html
    assert "Une copie figée, pas un fil en direct" in html and "Commissaire" in html
    assert "pas de description" in html and "no description" not in html


def test_cli_story_commands(story_archive: Path, tmp_path: Path) -> None:
    a = ["-a", str(story_archive)]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([SALON, *args], capture_output=True, text=True, timeout=120)

    with open_archive(story_archive, read_only=True) as arc:
        url = arc.scalar(
            "SELECT url FROM posts WHERE platform = 'mastodon' AND kind = 'original' ORDER BY uid LIMIT 1"
        )
    assert run("story", "new", "cli-story", "-t", "From the CLI", "--campaign", CAMPAIGN, *a).returncode == 0
    r = run("story", "add", "cli-story", url, "--heading", "Hello", "--text", "Some *text*", *a)
    assert r.returncode == 0, r.stderr
    r = run("story", "add", "cli-story", "--top", "4", *a)
    assert r.returncode == 0 and "7 items" in r.stderr, r.stderr
    r = run("story", "add", "cli-story", "https://x.com/nobody/status/1", *a)
    assert r.returncode == 1 and "no such post" in r.stderr
    r = run("story", "list", "--json", *a)
    assert json.loads(r.stdout)[0]["items"] == 7
    assert "Some *text*" in run("story", "show", "cli-story", *a).stdout
    r = run("story", "publish", "cli-story", "-o", str(tmp_path / "out"), *a)
    assert r.returncode == 0 and (tmp_path / "out" / "index.html").exists(), r.stderr
    r = run("story", "publish", "cli-story", "-o", str(tmp_path / "s.html"), "--single-file", *a)
    assert r.returncode == 0 and (tmp_path / "s.html").exists()
    assert run("story", "export", "cli-story", "-o", str(tmp_path / "e.json"), *a).returncode == 0
    r = run("story", "import", str(tmp_path / "e.json"), "--slug", "cli-copy", *a)
    assert r.returncode == 0 and "7 items" in r.stderr
    # refuses to overwrite a folder that is not a story
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("mine")
    r = run("story", "publish", "cli-story", "-o", str(tmp_path / "other"), *a)
    assert r.returncode == 1 and (tmp_path / "other" / "keep.txt").exists()
