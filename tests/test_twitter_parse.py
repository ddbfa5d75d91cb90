"""Tweet JSON to Post, on the documented v2 shapes: long posts, media links, undetermined language."""

from __future__ import annotations

from connectors.twitter_parse import newest_id, tweet_to_post


def test_long_post_uses_note_tweet_text_and_its_links() -> None:
    tweet = {
        "id": "1790000000000000001",
        "text": "The start of a long post… https://t.co/short",
        "created_at": "2024-05-13T09:30:00.000Z",
        "lang": "en",
        "entities": {
            "urls": [
                {"start": 27, "end": 44, "url": "https://t.co/short", "expanded_url": "https://x.com/i/web/status/1"}
            ]
        },
        "note_tweet": {
            "text": "The start of a long post and all the rest of it, with a link https://t.co/full",
            "entities": {"urls": [{"url": "https://t.co/full", "expanded_url": "https://acme.example/report"}]},
        },
    }
    post = tweet_to_post(tweet, "Acme")
    assert post.text.endswith("with a link https://acme.example/report")
    assert post.links == ("https://acme.example/report",)
    assert post.published_at is not None and post.published_at.isoformat() == "2024-05-13T09:30:00+00:00"


def test_media_links_leave_the_text_and_unwound_urls_win() -> None:
    tweet = {
        "id": "1790000000000000002",
        "text": "Our new office! https://t.co/pic https://t.co/lnk",
        "lang": "und",
        "entities": {
            "urls": [
                {"url": "https://t.co/pic", "expanded_url": "https://x.com/Acme/status/2/photo/1", "media_key": "3_1"},
                {
                    "url": "https://t.co/lnk",
                    "expanded_url": "https://bit.ly/x",
                    "unwound_url": "https://acme.example/office",
                },
            ]
        },
    }
    post = tweet_to_post(tweet, "Acme")
    assert post.text == "Our new office!  https://acme.example/office"
    assert post.links == ("https://acme.example/office",)
    assert post.lang == "" and post.published_at is None and post.metrics == {}


def test_newest_id_compares_numbers_not_strings() -> None:
    assert newest_id(["999", "1000"], None) == "1000"
    assert newest_id([], "42") == "42"
    assert newest_id(["41"], "42") == "42"
