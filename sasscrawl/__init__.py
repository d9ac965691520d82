"""Scrapy crawler for the Commentary section of the SASS English site (en.sass.cn)."""
