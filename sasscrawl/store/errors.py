"""What the store raises when the data folder cannot be used."""


class StoreError(RuntimeError):
    """The data folder cannot be used; the message says why in words a user can act on."""


class DataDirLocked(StoreError):
    """Another process (a crawl, ``scrapy verify``) holds the data folder."""
