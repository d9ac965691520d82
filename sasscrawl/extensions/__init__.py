"""Scrapy extensions: the run summary and progress reporting."""
