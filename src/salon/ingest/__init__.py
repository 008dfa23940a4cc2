"""Raw records into the archive: one batch at a time (``batches``, the path of collectors and
the web app), the X v2 bulk path (``bulk``) and the two-stage write of a file import
(``pipeline``). ``salon.importer`` is the file import built on them."""
