"""The words of a published story in its language (``stories.lang``): English and French; any
other language falls back to English (the posts keep their own ``lang``)."""

from __future__ import annotations

__all__ = ["STRINGS", "say"]

STRINGS: dict[str, dict[str, str]] = {
    "en": {
        "kicker": "Salon story",
        "meta": "Version {version}, published",
        "curated_by": "curated by {who}",
        "colophon": "Colophon",
        "notice": "A static copy, not live: rendered from the archive by Salon; nothing here is loaded "
        "from the platforms.",
        "institution": "Institution",
        "curator": "Curator",
        "campaign": "Campaign",
        "campaign_span": "{start} to {end}, times in {tz} and UTC",
        "posts_written": "Posts written",
        "captured": "Captured",
        "to": "to",
        "posts": "Posts",
        "no_longer_shown": "{n} no longer shown",
        "published": "Published",
        "version_n": "version {version}",
        "made_with": "Made with",
        "changes": "Changes",
        "files": "Beside this page: story.json (the data), story.md (the text) and manifest.json "
        "(the SHA-256 of every file).",
        "in_reply_to": "In reply to",
        "quoting": "Quoting",
        "original": "Original",
        "sensitive": "Marked sensitive by its author.",
        "removed_label": "Post no longer shown",
        "removed.deleted": "This post was deleted at its source or taken down; it is no longer shown.",
        "removed.opted_out": "Its author asked not to be shown; this post is no longer shown.",
        "removed.missing": "This post is not in the archive.",
        "removed.withheld": "This post is no longer shown.",
        "why.withheld": "withheld",
        "img_no_alt": "Image without a description",
        "video_no_alt": "Video poster without a description",
        "not_archived": "{type} not archived",
        "video_poster": "Video (poster image).",
        "description": "Description",
        "no_description": "no description",
        "photo": "Photo",
        "video": "Video",
        "gifv": "Animation",
        "media": "Medium",
        "image": "Image",
        "audio": "Audio",
        "unknown": "Medium",
        "changelog.removed": "{n} post(s) removed ({why})",
        "why.deleted": "deleted at the source or taken down",
        "why.opted_out": "their authors asked not to be shown",
    },
    "fr": {
        "kicker": "Récit Salon",
        "meta": "Version {version}, publiée le",
        "curated_by": "sélection de {who}",
        "colophon": "Colophon",
        "notice": "Une copie figée, pas un fil en direct : produite par Salon à partir de l’archive ; "
        "rien n’est chargé depuis les plateformes.",
        "institution": "Institution",
        "curator": "Commissaire",
        "campaign": "Campagne",
        "campaign_span": "du {start} au {end}, heures de {tz} et UTC",
        "posts_written": "Messages écrits",
        "captured": "Collectés",
        "to": "au",
        "posts": "Messages",
        "no_longer_shown": "{n} retirés",
        "published": "Publication",
        "version_n": "version {version}",
        "made_with": "Réalisé avec",
        "changes": "Modifications",
        "files": "À côté de cette page : story.json (les données), story.md (le texte) et manifest.json "
        "(l’empreinte SHA-256 de chaque fichier).",
        "in_reply_to": "En réponse à",
        "quoting": "Citant",
        "original": "Original",
        "sensitive": "Marqué sensible par son auteur.",
        "removed_label": "Message retiré",
        "removed.deleted": "Ce message a été supprimé à la source ou retiré ; il n’est plus montré.",
        "removed.opted_out": "Son auteur a demandé à ne pas être montré ; ce message n’est plus montré.",
        "removed.missing": "Ce message n’est pas dans l’archive.",
        "removed.withheld": "Ce message n’est plus montré.",
        "why.withheld": "retirés",
        "img_no_alt": "Image sans description",
        "video_no_alt": "Image de vidéo sans description",
        "not_archived": "{type} : fichier non archivé",
        "video_poster": "Vidéo (image d’aperçu).",
        "description": "Description",
        "no_description": "pas de description",
        "photo": "Photo",
        "video": "Vidéo",
        "gifv": "Animation",
        "media": "Média",
        "image": "Image",
        "audio": "Audio",
        "unknown": "Média",
        "changelog.removed": "{n} message(s) retiré(s) ({why})",
        "why.deleted": "supprimés à la source ou retirés",
        "why.opted_out": "leurs auteurs ont demandé à ne pas être montrés",
    },
}


def say(lang: str | None, key: str, **values: object) -> str:
    """The string ``key`` in ``lang`` (its primary subtag), else in English."""
    primary = (lang or "en").split("-")[0].lower()
    s = STRINGS.get(primary, {}).get(key) or STRINGS["en"].get(key) or key
    return s.format(**values) if values else s
