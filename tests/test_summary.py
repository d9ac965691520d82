"""The run summary (extensions/summary.py), logged and saved, from a real crawl."""


def test_run_summary_is_logged_and_saved(clean_crawl):
    result, articles = clean_crawl.result, clean_crawl.site.articles
    summary = result.summary
    assert summary["articles"]["new"] == len(articles)
    assert summary["images"]["downloaded"] > 0 and summary["images"]["bytes"] > 0
    assert summary["requests"] == result.stat("downloader/request_count")
    assert summary["durationSeconds"] > 0 and summary["finishReason"] == "finished"
    assert f"Run summary {summary['runId']}: articles new {len(articles)}" in result.log
    assert len(list((result.data_dir / "runs").glob("*.json"))) == 1
