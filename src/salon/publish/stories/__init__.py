"""Stories: curated posts, headings and text, published as files that need no platform, no
script and no server (docs/stories.md).

- ``model``: create, edit, export and import stories;
- ``data``: a story version as data (``story.json``), removed posts as placeholders;
- ``render``: HTML (folder or single file), Markdown, JSON;
- ``publish``: versions, files on disk, ``republish`` after deletions and opt-outs;
- ``wacz``: the WACZ package.
"""
