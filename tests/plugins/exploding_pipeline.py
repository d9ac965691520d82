"""A pipeline that fails on one article: an unexpected error, as a bug would make, for the monitor tests."""


class ExplodingPipeline:
    def process_item(self, item):
        if item["articleId"] % 7 == 0:
            raise RuntimeError(f"boom on {item['articleId']}")
        return item
