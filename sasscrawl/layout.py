"""Names in the data folder that modules share without importing the code that writes there.

The WARC archive's code (:mod:`sasscrawl.archive`) brings warcio and cdxj-indexer, and through
cdxj-indexer pyamf and pkg_resources: about a tenth of a second of every start. A run that does not
archive needs only the archive's folder name (the store keeps links out of it, the capture
middleware names it in an error), so the names live here and the archive is imported by the
code that archives.
"""

WARC_FOLDER = "warc"
INDEX_FILE = "index.cdxj"
