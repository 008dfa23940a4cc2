"""Every spam rule holds a spam post with its reason and leaves a genuine post alone; the
tally's `posts` is unchanged and its `spam` part says what is held; editors' decisions
override the rules and are logged."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from salon.campaigns.tally import tally
from salon.campaigns.trust import lists, log, spam
from salon.campaigns.trust.settings import ModerationError, moderation_of
from salon.store.archive import open_archive
from tests.trust.data import SLUG, Builder

MODERATION = """[moderation]
mode = "auto"
spam = { max_hashtags = 5, flood_same_text = 3, cluster_same_text = 3, max_mentions = 4, new_account_hours = 12, promo_domains = ["win-a-trip.example"] }
"""

GENUINE = "A quiet morning in our galleries, come and see the new hang"


def _reasons(arc, uid: str) -> set[str]:
    return {r[0] for r in arc.query("SELECT reason FROM trust_spam WHERE uid = ?", [uid])}


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    b = Builder(tmp_path, MODERATION)
    u: dict[str, str] = {}
    u["genuine"] = b.post(GENUINE, user="visitor", tags=("MuseumWeek", "SecretsMW"))
    u["stuffed"] = b.post("Look", user="stuffer", tags=("MuseumWeek", "a1", "b2", "c3", "d4", "e5"))
    u["ratio"] = b.post("Hi", user="ratio", tags=("MuseumWeek", "SecretsMW", "SouvenirsMW", "museums"))
    u["promo"] = b.post("Nice museum week everyone", user="promo", links=("https://go.win-a-trip.example/x",))
    u["other_link"] = b.post(
        "Our new catalogue is online", user="library", links=("https://library.example/cat",)
    )
    for k in range(3):
        u[f"flood{k}"] = b.post("Buy the best replica paintings today please", user="flooder", minutes=20 + k)
    for k in range(2):
        u[f"twice{k}"] = b.post("We love this museum week so much indeed", user="fan", minutes=30 + k)
    for k in range(3):
        u[f"cluster{k}"] = b.post(
            "Claim your free culture pass right now friends",
            user=f"bot{k}",
            links=(f"https://pass{k}.example/claim",),
            minutes=40 + k,
        )
    for k in range(3):  # a phrase many people echo, without links: not a cluster
        u[f"echo{k}"] = b.post("Loving all the museum posts this week", user=f"fan{k}", minutes=50 + k)
    u["mentions"] = b.post("Hello all of you", user="mentioner", mentions=5)
    u["few_mentions"] = b.post("Hello friends of the museum", user="friendly", mentions=2)
    u["newacc"] = b.post("First post ever here", user="newbie", account_created="2015-03-23T08:30:00.000Z")
    u["oldacc"] = b.post("Long time member here", user="oldie", account_created="2015-03-20T08:30:00.000Z")
    # A registry account posting like a spammer is never held by a rule.
    u["registry"] = b.post("Look", user="louvre", tags=("MuseumWeek", "a1", "b2", "c3", "d4", "e5"))
    return b.build(), u


def test_each_rule_holds_spam_and_leaves_genuine_posts(built: tuple[Path, dict[str, str]]) -> None:
    path, u = built
    with open_archive(path) as arc:
        t = tally(arc, SLUG)
        assert _reasons(arc, u["stuffed"]) == {"hashtag_stuffing"}
        assert _reasons(arc, u["ratio"]) == {"hashtag_stuffing"}
        assert _reasons(arc, u["promo"]) == {"promotional_link"}
        assert all(_reasons(arc, u[f"flood{k}"]) == {"repeated_text"} for k in range(3))
        assert all(_reasons(arc, u[f"cluster{k}"]) == {"text_cluster"} for k in range(3))
        assert _reasons(arc, u["mentions"]) == {"mention_flood"}
        assert _reasons(arc, u["newacc"]) == {"new_account"}
        for k in ("genuine", "other_link", "twice0", "twice1", "echo0", "few_mentions", "oldacc", "registry"):
            assert _reasons(arc, u[k]) == set(), k
        detail = arc.scalar("SELECT detail FROM trust_spam WHERE uid = ?", [u["promo"]])
        assert detail == "links to go.win-a-trip.example"
        held = 2 + 1 + 3 + 3 + 1 + 1
        total = len(u)
        assert t["posts"] == total  # spam changes no definition
        assert t["spam"]["posts"] == held
        assert t["spam"]["shown"]["posts"] == total - held
        assert t["spam"]["by_reason"]["repeated_text"] == 3
        assert t["spam"]["participants"] == 9  # stuffer, ratio, promo, flooder, 3 bots, mentioner, newbie
        q = spam.review_queue(arc, arc_campaign(arc))
        assert {r["uid"] for r in q} == {k for k in (u[x] for x in u) if _reasons(arc, k)}


def arc_campaign(arc):
    from salon.campaigns.tally import resolve_campaign

    return resolve_campaign(arc, SLUG)


def test_decisions_override_rules_and_are_logged(built: tuple[Path, dict[str, str]]) -> None:
    path, u = built
    with open_archive(path) as arc:
        c = arc_campaign(arc)
        before = tally(arc, SLUG)["spam"]["posts"]
        spam.decide(arc, c, u["promo"], "not_spam", by="editor1", note="a partner's link")
        spam.decide(arc, c, u["genuine"], "spam", by="editor1")
        t = tally(arc, SLUG)
        assert _reasons(arc, u["promo"]) == set()
        assert _reasons(arc, u["genuine"]) == {"editor"}
        assert t["spam"]["posts"] == before
        h = log.history(arc, c.campaign_id)
        assert [(r["action"], r["by_user"], r["target"]) for r in h[:2]] == [
            ("spam", "editor1", u["genuine"]),
            ("not_spam", "editor1", u["promo"]),
        ]
        assert h[0]["at"] is not None
        reviewed = spam.review_queue(arc, c, status="reviewed")
        assert {r["uid"] for r in reviewed} == {u["promo"], u["genuine"]}
        with pytest.raises(LookupError):
            spam.decide(arc, c, "mastodon:nope", "spam", by="editor1")


def test_block_and_allow_lists(built: tuple[Path, dict[str, str]]) -> None:
    path, u = built
    with open_archive(path) as arc:
        c = arc_campaign(arc)
        cid = c.campaign_id
        out = lists.import_csv(
            arc,
            cid,
            "block_accounts",
            "account,note\n@Oldie@mastodon.example,reported\nmastodon:friendly@mastodon.example\n\n",
            by="ed",
        )
        assert out == {"added": 2, "already": 0, "bad": 0}
        lists.add(arc, cid, "block_words", "Galleries", by="ed")
        lists.add(arc, cid, "allow_accounts", "mastodon:promo@mastodon.example", by="ed")
        tally(arc, SLUG)
        assert _reasons(arc, u["oldacc"]) == {"blocked_account"}
        assert _reasons(arc, u["few_mentions"]) == {"blocked_account"}
        assert _reasons(arc, u["genuine"]) == {"blocked_word"}
        assert _reasons(arc, u["promo"]) == set()  # allowed: no rule holds it
        assert lists.remove(arc, cid, "block_words", "galleries", by="ed")
        tally(arc, SLUG)
        assert _reasons(arc, u["genuine"]) == set()
        actions = [r["action"] for r in log.history(arc, cid) if r["family"] == "list"]
        assert actions.count("list_add") == 4 and actions.count("list_remove") == 1


def test_thresholds_come_from_the_campaign_file(tmp_path: Path) -> None:
    b = Builder(tmp_path, "[moderation]\nspam = { max_hashtags = false, hashtag_ratio = false }\n")
    uid = b.post(
        "Look", user="stuffer", tags=("MuseumWeek", "a1", "b2", "c3", "d4", "e5", "f6", "g7", "h8", "i9")
    )
    path = b.build()
    with open_archive(path) as arc:
        tally(arc, SLUG)
        assert _reasons(arc, uid) == set()  # the rule is off
        c = arc_campaign(arc)
        assert moderation_of(c).spam["max_hashtags"] is False
    c.extra["moderation"] = {"spam": {"max_hashtag": 3}}
    with pytest.raises(ModerationError, match="unknown rule threshold 'max_hashtag'"):
        moderation_of(c)
    c.extra["moderation"] = {"mode": "later"}
    with pytest.raises(ModerationError, match="mode must be one of auto, pre"):
        moderation_of(c)


def test_bluesky_labeler_spam_label(tmp_path: Path) -> None:
    """A real Bluesky post view (atproto-python corpus) in a campaign through its record's
    ``tags``; a labeler's ``spam`` label on the view holds it, its absence does not."""
    import json

    from salon.campaigns.config import parse_campaign
    from salon.campaigns.stored import save_campaign
    from salon.importer import import_paths
    from tests.conftest import corpus_path

    src = corpus_path(
        "atproto-python",
        "tests",
        "test_atproto_client",
        "models",
        "test_data",
        "thread_view_post_with_embed_media.json",
    )
    raw = json.loads(src.read_text(encoding="utf-8"))
    post = raw["thread"]["post"]
    assert post["labels"] == []  # the real field; a labeler's verdict is a label in it
    post["record"]["tags"] = ["MuseumWeek"]
    clean = tmp_path / "clean.json"
    clean.write_text(json.dumps(raw), encoding="utf-8")
    labelled = copy.deepcopy(raw)
    labelled["thread"]["post"]["uri"] = post["uri"] + "x"
    labelled["thread"]["post"]["labels"] = [
        {"src": "did:plc:" + "l" * 24, "uri": post["uri"] + "x", "val": "spam", "cts": post["indexedAt"]}
    ]
    lab = tmp_path / "labelled.json"
    lab.write_text(json.dumps(labelled), encoding="utf-8")
    toml = (
        '[campaign]\nname = "L"\nslug = "labels"\ntimezone = "UTC"\nstart = 2023-09-28\nend = 2023-09-29\n'
        'hashtags = ["MuseumWeek"]\n'
    )
    with open_archive(tmp_path / "a.duckdb") as arc:
        save_campaign(arc, parse_campaign(toml), toml)
        import_paths([str(clean), str(lab)], arc)
        t = tally(arc, "labels")
        assert t["posts"] == 2
        assert _reasons(arc, "bluesky:" + post["uri"] + "x") == {"labeler_spam"}
        assert _reasons(arc, "bluesky:" + post["uri"]) == set()
        assert t["spam"]["by_reason"] == {"labeler_spam": 1}
        detail = arc.scalar("SELECT detail FROM trust_spam WHERE reason = 'labeler_spam'")
        assert detail == "labelled spam by did:plc:" + "l" * 24
