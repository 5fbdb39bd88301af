"""Ingest: one reader per source format, and the runner that stores what they read."""

from __future__ import annotations

from govweibo.ingest.base import Reader, ReadOptions
from govweibo.ingest.ced import CedReader
from govweibo.ingest.crawler_csv import CrawlerCsvReader
from govweibo.ingest.mastodon import MastodonReader
from govweibo.ingest.rumdect import RumdectReader
from govweibo.ingest.tabular import CsvReader, JsonlReader
from govweibo.ingest.twitter_v2 import TwitterV2Reader
from govweibo.ingest.weibo_api import WeiboApiReader
from govweibo.ingest.weibo_crawler import WeiboCrawlerReader
from govweibo.ingest.weibo_mobile import WeiboMobileReader
from govweibo.ingest.weibo_web import WeiboWebReader
from govweibo.ingest.weibospider_cookie import WeiboSpiderCookieReader
from govweibo.ingest.weibospider_scrapy import WeiboSpiderReader

# The explicit list of readers, in detection order (most specific first).
READERS: list[Reader] = [
    CedReader(),
    # Event arrays of flat records with "screen_name", which the Sina reader would claim.
    RumdectReader(),
    # dataabc/weibo-crawler: Chinese-headed CSVs, {"user", "weibo"} JSON, weibodata.db.
    WeiboCrawlerReader(),
    # dataabc/weiboSpider (weibo.cn): 微博id/微博正文 CSVs, 用户信息 TXTs, nickname JSON.
    WeiboSpiderCookieReader(),
    CrawlerCsvReader(),
    # Before the Sina reader, which claims any JSON with "created_at".
    MastodonReader(),
    TwitterV2Reader(),
    # WeiboSpider items name `_id`; weibo.com responses `text_raw`/`mblogid`; m.weibo.cn
    # `cards`/`bid`: most specific first.
    WeiboSpiderReader(),
    WeiboWebReader(),
    WeiboMobileReader(),
    WeiboApiReader(),
    CsvReader(),
    JsonlReader(),
]

from govweibo.ingest.runner import IngestSummary, detect, ingest  # noqa: E402

__all__ = ["READERS", "IngestSummary", "ReadOptions", "Reader", "detect", "ingest"]
