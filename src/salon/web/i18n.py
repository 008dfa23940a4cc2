"""The interface in English and French. ``t(lang, key, **values)`` looks a string up; a key
missing in French falls back to English, and a key missing everywhere shows itself (a test
checks both catalogues have the same keys)."""

from __future__ import annotations

from typing import Any

from salon.web.chat_i18n import CHAT_MESSAGES

__all__ = ["LANGS", "MESSAGES", "fmt_int", "pick_lang", "t"]

LANGS = ("en", "fr")

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "app": "Salon",
        "skip": "Skip to content",
        "nav.campaigns": "Campaigns",
        "nav.explore": "Explore the archive",
        "nav.edit": "Edit",
        "nav.login": "Log in",
        "nav.logout": "Log out",
        "lang.switch": "Français",
        "lang.label": "Language",
        "live": "Live",
        "live.off": "Reconnecting…",
        "posts": "posts",
        "reposts": "reposts",
        "institutions": "institutions",
        "countries": "countries",
        "participants": "participants",
        "likes": "likes",
        "counters": "Live counters",
        "themes": "Theme days",
        "on_the_day": "on the day",
        "timeline": "Posts per hour",
        "timeline.desc": "Campaign posts per hour over the campaign window",
        "top_institutions": "Top institutions",
        "map": "Participating countries",
        "map.desc": "World map: countries shaded by their number of participating institutions",
        "latest": "Latest posts",
        "wall": "Full-screen wall",
        "embed": "Embeddable widget",
        "api": "JSON API",
        "csv": "CSV",
        "no_campaigns": "No campaign in this archive yet.",
        "no_campaigns.hint": "Editors can create one; or add a campaign file with `salon campaign add`.",
        "no_posts": "No posts yet. They will appear here as soon as they arrive.",
        "no_results": "No post matches these filters.",
        "search": "Search",
        "search.label": "Words (accents and case do not matter)",
        "search.placeholder": "musée, museum, #MuseumWeek…",
        "filter.platform": "Platform",
        "filter.hashtag": "Hashtag",
        "filter.author": "Author (handle)",
        "filter.campaign": "Campaign",
        "filter.institution": "Institution",
        "filter.country": "Country (2 letters)",
        "filter.lang": "Language",
        "filter.kind": "Kind",
        "filter.since": "From",
        "filter.until": "To",
        "filter.any": "any",
        "filters": "Filters",
        "results": "Results",
        "next_page": "Older posts",
        "download_csv": "Download CSV",
        "post": "Post",
        "post.original": "View on the platform",
        "post.reply_to": "In reply to",
        "post.quote_of": "Quoting",
        "post.repost_of": "Reposting",
        "post.media": "Media",
        "post.no_alt": "(no alt text)",
        "post.links": "Links",
        "post.mentions": "Mentions",
        "post.engagement": "Engagement when collected",
        "post.provenance": "Provenance",
        "post.raw": "Raw record as received",
        "post.deleted": "This post was deleted at the source; only a tombstone is kept.",
        "post.not_stored": "not in the archive",
        "author": "Author",
        "author.followers": "followers",
        "author.posts": "posts in the archive",
        "institution": "Institution",
        "accounts": "Accounts",
        "login.title": "Editors' log in",
        "login.username": "Username",
        "login.password": "Password",
        "login.submit": "Log in",
        "login.failed": "Wrong username or password.",
        "login.limited": "Too many attempts. Wait a few minutes and try again.",
        "edit.title": "Campaigns",
        "edit.new": "New campaign",
        "edit.toml": "Campaign file (TOML)",
        "edit.csv": "Participants (CSV: name,country,city,kind,x,mastodon,bluesky)",
        "edit.save": "Save",
        "edit.saved": "Saved.",
        "edit.errors": "The campaign was not saved:",
        "edit.export": "Export",
        "edit.add_participant": "Add a participant",
        "edit.name": "Name",
        "edit.city": "City",
        "edit.kind": "Kind",
        "error.404": "Not found",
        "error.404.text": "There is nothing at this address.",
        "error.403": "Forbidden",
        "error.403.text": "You are not allowed to do this.",
        "error.401": "Please log in",
        "error.401.text": "Editors must log in first.",
        "error.429": "Too many requests",
        "error.500": "Something went wrong",
        "error.500.text": "The error was logged. Try again in a moment.",
        "error.back": "Back to the campaigns",
        "window": "{start} – {end} ({tz})",
        "updated": "Updated",
    },
    "fr": {
        "app": "Salon",
        "skip": "Aller au contenu",
        "nav.campaigns": "Campagnes",
        "nav.explore": "Explorer l’archive",
        "nav.edit": "Éditer",
        "nav.login": "Connexion",
        "nav.logout": "Déconnexion",
        "lang.switch": "English",
        "lang.label": "Langue",
        "live": "En direct",
        "live.off": "Reconnexion…",
        "posts": "messages",
        "reposts": "partages",
        "institutions": "institutions",
        "countries": "pays",
        "participants": "participants",
        "likes": "j’aime",
        "counters": "Compteurs en direct",
        "themes": "Journées thématiques",
        "on_the_day": "le jour même",
        "timeline": "Messages par heure",
        "timeline.desc": "Messages de la campagne par heure sur toute sa durée",
        "top_institutions": "Institutions les plus actives",
        "map": "Pays participants",
        "map.desc": "Carte du monde : pays colorés selon leur nombre d’institutions participantes",
        "latest": "Derniers messages",
        "wall": "Mur plein écran",
        "embed": "Widget à intégrer",
        "api": "API JSON",
        "csv": "CSV",
        "no_campaigns": "Aucune campagne dans cette archive pour l’instant.",
        "no_campaigns.hint": "Les éditeurs peuvent en créer une, ou ajouter un fichier avec `salon campaign add`.",
        "no_posts": "Aucun message pour l’instant. Ils apparaîtront ici dès leur arrivée.",
        "no_results": "Aucun message ne correspond à ces filtres.",
        "search": "Rechercher",
        "search.label": "Mots (accents et majuscules indifférents)",
        "search.placeholder": "musée, museum, #MuseumWeek…",
        "filter.platform": "Plateforme",
        "filter.hashtag": "Mot-dièse",
        "filter.author": "Auteur (identifiant)",
        "filter.campaign": "Campagne",
        "filter.institution": "Institution",
        "filter.country": "Pays (2 lettres)",
        "filter.lang": "Langue",
        "filter.kind": "Type",
        "filter.since": "Du",
        "filter.until": "Au",
        "filter.any": "tous",
        "filters": "Filtres",
        "results": "Résultats",
        "next_page": "Messages plus anciens",
        "download_csv": "Télécharger en CSV",
        "post": "Message",
        "post.original": "Voir sur la plateforme",
        "post.reply_to": "En réponse à",
        "post.quote_of": "Citant",
        "post.repost_of": "Partage de",
        "post.media": "Médias",
        "post.no_alt": "(pas de texte alternatif)",
        "post.links": "Liens",
        "post.mentions": "Mentions",
        "post.engagement": "Interactions lors de la collecte",
        "post.provenance": "Provenance",
        "post.raw": "Enregistrement brut tel que reçu",
        "post.deleted": "Ce message a été supprimé à la source ; seule une trace est conservée.",
        "post.not_stored": "absent de l’archive",
        "author": "Auteur",
        "author.followers": "abonnés",
        "author.posts": "messages dans l’archive",
        "institution": "Institution",
        "accounts": "Comptes",
        "login.title": "Connexion des éditeurs",
        "login.username": "Identifiant",
        "login.password": "Mot de passe",
        "login.submit": "Se connecter",
        "login.failed": "Identifiant ou mot de passe incorrect.",
        "login.limited": "Trop de tentatives. Patientez quelques minutes puis réessayez.",
        "edit.title": "Campagnes",
        "edit.new": "Nouvelle campagne",
        "edit.toml": "Fichier de campagne (TOML)",
        "edit.csv": "Participants (CSV : name,country,city,kind,x,mastodon,bluesky)",
        "edit.save": "Enregistrer",
        "edit.saved": "Enregistré.",
        "edit.errors": "La campagne n’a pas été enregistrée :",
        "edit.export": "Exporter",
        "edit.add_participant": "Ajouter un participant",
        "edit.name": "Nom",
        "edit.city": "Ville",
        "edit.kind": "Type",
        "error.404": "Page introuvable",
        "error.404.text": "Il n’y a rien à cette adresse.",
        "error.403": "Accès refusé",
        "error.403.text": "Vous n’avez pas le droit de faire cela.",
        "error.401": "Connectez-vous",
        "error.401.text": "Les éditeurs doivent d’abord se connecter.",
        "error.429": "Trop de requêtes",
        "error.500": "Une erreur est survenue",
        "error.500.text": "L’erreur a été enregistrée. Réessayez dans un instant.",
        "error.back": "Retour aux campagnes",
        "window": "{start} – {end} ({tz})",
        "updated": "Mis à jour",
    },
}


def t(lang: str, key: str, **values: Any) -> str:
    """The string ``key`` in ``lang`` (English when missing), formatted with ``values``."""
    s = MESSAGES.get(lang, {}).get(key) or MESSAGES["en"].get(key) or key
    return s.format(**values) if values else s


def fmt_int(lang: str, n: Any) -> str:
    """1,234,567 in English, 1 234 567 (narrow no-break spaces) in French."""
    try:
        s = f"{int(n):,}"
    except (TypeError, ValueError):
        return str(n)
    return s.replace(",", "\u202f") if lang == "fr" else s


def pick_lang(cookie: str | None, query: str | None, accept: str | None) -> str:
    """The interface language: ``?lang=``, else the cookie, else Accept-Language, else English."""
    for v in (query, cookie):
        if v in LANGS:
            return v
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGS:
            return code
    return "en"


def _merge_chat_messages() -> None:
    """The chat pages' strings live beside them (salon.web.chat_i18n)."""
    for code, strings in CHAT_MESSAGES.items():
        MESSAGES[code].update(strings)


_merge_chat_messages()
