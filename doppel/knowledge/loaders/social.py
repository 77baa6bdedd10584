"""Importers for an owner's own posts: Instagram and Facebook exports, an X archive, video
captions, and a generic list of posts (JSON or CSV).

Each post, tweet or comment becomes one record ("2024-05-03: caption") in a `Section(records=
True)`, so it is its own chunk. What is not the owner's words (reposts, retweets, shares) or has
no words at all (media-only posts) is left out and reported in `LoadedDocument.skipped`.

Meta's "Download Your Information" JSON writes UTF-8 bytes as if each were a Latin-1 character
("cafÃ©" for "café"); `fix_mojibake` undoes that wherever it round-trips.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from doppel.errors import IngestError
from doppel.knowledge.loaders.base import (
    LoadedDocument,
    Section,
    csv_header,
    decode_text,
    file_title,
    read_csv,
)
from doppel.knowledge.loaders.catalog import is_catalog_header

__all__ = ["InstagramLoader", "FacebookLoader", "XLoader", "CaptionsLoader", "PostsLoader",
           "fix_mojibake", "caption_paragraphs", "TEXT_COLUMNS", "DATE_COLUMNS"]

# Column or key names that hold a post's text / date in generic exports, in order of preference.
TEXT_COLUMNS = ("text", "caption", "content", "body", "message", "post")
DATE_COLUMNS = ("date", "created_at", "created", "timestamp", "time", "published", "posted",
                "date posted", "published_at")

# --- shared helpers -----------------------------------------------------------------------------

def fix_mojibake(text: str) -> str:
    """Meta's Latin-1 escaped UTF-8 back to text; any other string is returned unchanged."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def _fix_all(value: Any) -> Any:
    if isinstance(value, str):
        return fix_mojibake(value)
    if isinstance(value, list):
        return [_fix_all(v) for v in value]
    if isinstance(value, dict):
        return {fix_mojibake(k): _fix_all(v) for k, v in value.items()}
    return value


def _json(data: bytes, filename: str, meta: bool = False) -> Any:
    try:
        doc = json.loads(decode_text(data, filename))
    except json.JSONDecodeError as exc:
        raise IngestError(f"invalid JSON: {str(exc).splitlines()[0]}") from None
    return _fix_all(doc) if meta else doc


def _day(timestamp: object) -> str | None:
    """Epoch seconds (int, float or digits) -> 'YYYY-MM-DD' in UTC; None when not a time."""
    if isinstance(timestamp, str) and timestamp.strip().isdigit():
        timestamp = int(timestamp)
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)) or timestamp <= 0:
        return None
    try:
        return datetime.fromtimestamp(timestamp, UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return None


def _clean(text: object) -> str:
    """Runs of spaces made one, blank lines dropped (a caption's line breaks are kept)."""
    if not isinstance(text, str):
        return ""
    return re.sub(r"[ \t]*\n\s*", "\n", re.sub(r"[ \t]+", " ", text)).strip()


def _document(title: str, units: list[str], skipped: list[tuple[str, str]]) -> LoadedDocument:
    sections = [Section(title, units, 0, records=True)] if units else []
    return LoadedDocument(title, sections, skipped=skipped)


def _dated(label: str, day: str | None) -> str:
    """An item's label with its date, so the owner can find it: 'post 3 (2024-05-07)'."""
    return f"{label} ({day})" if day else label


def _path(filename: str) -> str:
    return filename.replace("\\", "/").lower()


def _head(head: bytes) -> str:
    return head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")


class _Posts:
    """Collects the records of one file and the items left out, with a label for each."""

    def __init__(self) -> None:
        self.units: list[str] = []
        self.skipped: list[tuple[str, str]] = []

    def add(self, label: str, day: str | None, text: str, note: str = "") -> None:
        """A dated post ('2024-05-03: text'), or the reason it is left out."""
        if day is None:
            self.skip(label, "invalid date")
        elif not text:
            self.skip(_dated(label, day), "no text (media only)")
        else:
            self.units.append(f"{day}: {note}{text}")

    def skip(self, label: str, reason: str) -> None:
        self.skipped.append((label, reason))

    def document(self, title: str) -> LoadedDocument:
        return _document(title, self.units, self.skipped)


# --- Instagram ----------------------------------------------------------------------------------

_SINGULAR = {"posts": "post", "reels": "reel", "stories": "story"}


class InstagramLoader:
    """Instagram's JSON export: posts_N.json, reels.json, stories.json, post_comments_N.json."""

    name = "instagram"
    suffixes: tuple[str, ...] = ()

    _PATH = re.compile(r"(^|/)(content/posts_\d+|content/reels|content/stories|"
                       r"comments/post_comments_\d+)\.json$")

    def sniff(self, filename: str, head: bytes) -> bool:
        path = _path(filename)
        if not path.endswith(".json"):
            return False
        if self._PATH.search(path) or "your_instagram_activity/" in path:
            return True
        text = _head(head)
        return bool(re.search(r'"(ig_reels_media|ig_stories|comments_media_comments)"', text)
                    or (text.startswith("[") and '"string_map_data"' in text
                        and '"Comment"' in text)
                    or (text.startswith("[") and re.search(r'"media"\s*:\s*\[', text)
                        and '"creation_timestamp"' in text))

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        path = _path(filename)
        if "your_instagram_activity/" in path and not self._PATH.search(path):
            # Likes, saved posts, messages...: not the owner's public words (messages are
            # private conversations), so never knowledge for the agent.
            raise IngestError("not imported: of your Instagram activity only posts, reels, "
                              "stories and comments are")
        doc = _json(data, filename, meta=True)
        if isinstance(doc, dict):
            for key, kind in (("ig_reels_media", "reels"), ("ig_stories", "stories"),
                              ("comments_media_comments", "comments")):
                if isinstance(doc.get(key), list):
                    return (self._comments(doc[key]) if kind == "comments"
                            else self._posts(doc[key], kind))
            raise IngestError("not an Instagram posts, reels or comments file")
        if not isinstance(doc, list):
            raise IngestError("not an Instagram posts, reels or comments file")
        if any(isinstance(x, dict) and "string_map_data" in x for x in doc):
            return self._comments(doc)
        kind = "reels" if "reels" in _path(filename) else "posts"
        return self._posts(doc, kind)

    @staticmethod
    def _posts(items: list[Any], kind: str) -> LoadedDocument:
        # A single photo keeps its caption and time on the media item; a carousel has them at
        # the top level, with every media item's own title empty; a story is a media item.
        out = _Posts()
        for n, post in enumerate(items, start=1):
            label = f"{_SINGULAR[kind]} {n}"
            if not isinstance(post, dict):
                out.skip(label, "not a post")
                continue
            media = post["media"] if isinstance(post.get("media"), list) else [post]
            media = [m for m in media if isinstance(m, dict)]
            text = _clean(post.get("title")) or next(
                (_clean(m.get("title")) for m in media if _clean(m.get("title"))), "")
            stamp = post.get("creation_timestamp") or next(
                (m.get("creation_timestamp") for m in media if m.get("creation_timestamp")), None)
            if stamp is None:
                out.skip(label, "missing creation_timestamp")
                continue
            out.add(label, _day(stamp), text)
        return out.document(f"Instagram {kind}")

    @staticmethod
    def _comments(items: list[Any]) -> LoadedDocument:
        out = _Posts()
        for n, item in enumerate(items, start=1):
            label = f"comment {n}"
            fields = item.get("string_map_data") if isinstance(item, dict) else None
            if not isinstance(fields, dict):
                out.skip(label, "not a comment")
                continue
            # Keys are the export's language ("Comment" in English); fall back to the first
            # value that is not the media owner's name.
            values = {k: v for k, v in fields.items() if isinstance(v, dict)}
            comment = values.get("Comment") or next(
                (v for k, v in values.items() if "value" in v and k != "Media Owner"), {})
            stamp = next((v["timestamp"] for v in values.values() if v.get("timestamp")), None)
            owner = _clean(values.get("Media Owner", {}).get("value"))
            if stamp is None:
                out.skip(label, "missing timestamp")
                continue
            out.add(label, _day(stamp), _clean(comment.get("value")),
                    f"(comment on @{owner}'s post) " if owner else "")
        return out.document("Instagram comments")


# --- Facebook -----------------------------------------------------------------------------------

class FacebookLoader:
    """Facebook's JSON export: your_posts_N.json and comments.json."""

    name = "facebook"
    suffixes: tuple[str, ...] = ()

    # your_posts_1.json, or your_posts__check_ins__photos_and_videos_1.json in newer exports
    _PATH = re.compile(r"(^|/)(posts/your_posts\w*|comments_and_reactions/comments)\.json$")

    def sniff(self, filename: str, head: bytes) -> bool:
        path = _path(filename)
        if not path.endswith(".json"):
            return False
        text = _head(head)
        return bool(self._PATH.search(path) or "your_facebook_activity/" in path
                    or '"comments_v2"' in text
                    or (text.startswith("[")
                        and re.search(r'"data"\s*:\s*\[\s*\{\s*"post"\s*:', text)))

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        path = _path(filename)
        if "your_facebook_activity/" in path and not self._PATH.search(path):
            raise IngestError("not imported: of your Facebook activity only posts and "
                              "comments are")
        doc = _json(data, filename, meta=True)
        if isinstance(doc, dict) and isinstance(doc.get("comments_v2"), list):
            return self._comments(doc["comments_v2"])
        if isinstance(doc, dict) and isinstance(doc.get("status_updates_v2"), list):
            doc = doc["status_updates_v2"]  # older exports wrap the list
        if not isinstance(doc, list):
            raise IngestError("not a Facebook posts or comments file")
        return self._posts(doc)

    @staticmethod
    def _posts(items: list[Any]) -> LoadedDocument:
        out = _Posts()
        for n, post in enumerate(items, start=1):
            label = f"post {n}"
            if not isinstance(post, dict):
                out.skip(label, "not a post")
                continue
            if post.get("timestamp") is None:
                out.skip(label, "missing timestamp")
                continue
            day = _day(post["timestamp"])
            data = [d for d in post.get("data") or [] if isinstance(d, dict)]
            text = " ".join(_clean(d.get("post")) for d in data if _clean(d.get("post")))
            title = _clean(post.get("title"))
            # A share's words are someone else's, except the owner's own line on top of it;
            # a memory repeats an older post the export already holds.
            if " shared a memory" in title:
                out.skip(_dated(label, day), "memory re-share (repeats an older post)")
                continue
            if " shared " in title and not text:
                out.skip(_dated(label, day), "share of someone else's post (not your words)")
                continue
            for url in _attachment_urls(post):
                if text and url not in text:
                    text += f" ({url})"
            out.add(label, day, text)
        return out.document("Facebook posts")

    @staticmethod
    def _comments(items: list[Any]) -> LoadedDocument:
        out = _Posts()
        for n, item in enumerate(items, start=1):
            label = f"comment {n}"
            if not isinstance(item, dict):
                out.skip(label, "not a comment")
                continue
            comments = [d["comment"] for d in item.get("data") or []
                        if isinstance(d, dict) and isinstance(d.get("comment"), dict)]
            text = " ".join(_clean(c.get("comment")) for c in comments)
            stamp = item.get("timestamp") or next(
                (c.get("timestamp") for c in comments if c.get("timestamp")), None)
            if stamp is None:
                out.skip(label, "missing timestamp")
                continue
            out.add(label, _day(stamp), text.strip())
        return out.document("Facebook comments")


def _attachment_urls(post: dict[str, Any]) -> list[str]:
    """The links a post shares (attachments[].data[].external_context.url)."""
    urls = []
    for attachment in post.get("attachments") or []:
        entries = attachment.get("data") if isinstance(attachment, dict) else None
        for entry in entries or []:
            context = entry.get("external_context") if isinstance(entry, dict) else None
            if isinstance(context, dict) and isinstance(context.get("url"), str):
                urls.append(context["url"])
    return urls


# --- X (Twitter) --------------------------------------------------------------------------------

class XLoader:
    """An X/Twitter archive's data/tweets.js (`window.YTD.tweets.part0 = [...]`)."""

    name = "x"
    suffixes: tuple[str, ...] = ()

    _PREFIX = re.compile(r"\A\s*window\.YTD\.(\w+)\.part\d+\s*=\s*")
    _TWEETS = {"tweets", "tweet", "community_tweet"}

    def sniff(self, filename: str, head: bytes) -> bool:
        path = _path(filename)
        return path.endswith(".js") and (bool(re.search(r"(^|/)data/tweets?\.js$", path))
                                         or _head(head).startswith("window.YTD."))

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        text = decode_text(data, filename)
        m = self._PREFIX.match(text)
        if not m:
            raise IngestError("not an X archive file (it should begin 'window.YTD.')")
        if m.group(1) not in self._TWEETS:
            raise IngestError(f"X archive '{m.group(1)}' data is not imported (only your "
                              "posts, data/tweets.js)")
        try:
            items = json.loads(text[m.end():].strip().rstrip(";"))
        except json.JSONDecodeError as exc:
            raise IngestError(f"invalid JSON: {str(exc).splitlines()[0]}") from None
        if not isinstance(items, list):
            raise IngestError("not an X posts file")
        out = _Posts()
        for n, item in enumerate(items, start=1):
            tweet = item.get("tweet", item) if isinstance(item, dict) else None
            label = f"post {tweet.get('id_str') or n}" if isinstance(tweet, dict) else f"post {n}"
            if not isinstance(tweet, dict):
                out.skip(label, "not a post")
                continue
            self._add(out, label, tweet)
        return out.document("X posts")

    @staticmethod
    def _add(out: _Posts, label: str, tweet: dict[str, Any]) -> None:
        raw = tweet.get("full_text", tweet.get("text"))
        if not isinstance(raw, str):
            out.skip(label, "missing full_text")
            return
        if raw.startswith("RT @") or "retweeted_status" in tweet:
            out.skip(label, "retweet (not your words)")
            return
        try:
            day: str | None = datetime.strptime(
                str(tweet.get("created_at")), "%a %b %d %H:%M:%S %z %Y").date().isoformat()
        except ValueError:
            out.skip(label, "missing created_at")
            return
        entities = tweet.get("entities")
        entities = entities if isinstance(entities, dict) else {}
        for link in entities.get("urls") or []:
            if isinstance(link, dict) and link.get("url") and link.get("expanded_url"):
                raw = raw.replace(link["url"], link["expanded_url"])
        for media in entities.get("media") or []:  # the t.co link to the tweet's own photo
            if isinstance(media, dict) and media.get("url"):
                raw = raw.replace(media["url"], "")
        text = _clean(html.unescape(raw))
        note = ""
        if tweet.get("in_reply_to_screen_name"):
            # Replies start with the @names they answer, put there by X, not typed.
            text = re.sub(r"\A(@\w+\s+)+", "", text)
            note = f"(reply to @{tweet['in_reply_to_screen_name']}) "
        out.add(label, day, text, note)


# --- captions -----------------------------------------------------------------------------------

_TIMING = re.compile(r"(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})\s*-->")
# Inline timing (<00:00:01.000>) and styling (<c>, <i>, <v Name>, <font ...>) tags; SSA
# overrides ({\an8}); sound annotations ([Music], [Applause]) and music notes.
_CAPTION_NOISE = re.compile(r"<[^>]*>|\{\\[^}]*\}|\[\s*[A-Za-z ]{1,30}\s*\]|[♪♫]")
# A paragraph ends after this many sentences, or at the first sentence end past SOFT_CHARS;
# captions without punctuation (auto-captions) are cut at a word past HARD_CHARS; a pause of
# PAUSE_S seconds or more between two lines (music, a cut) starts a new paragraph.
_SENTENCES, _SOFT_CHARS, _HARD_CHARS, _PAUSE_S = 3, 300, 500, 20


def caption_paragraphs(text: str) -> list[str]:
    """WebVTT or SRT text -> paragraphs '[mm:ss] words...' with each one's start time."""
    lines: list[tuple[float, str]] = []  # (cue start in seconds, caption line)
    recent: list[str] = []
    start: float | None = None
    cue: list[str] = []

    def flush() -> None:
        for raw in cue:
            line = _clean(html.unescape(_CAPTION_NOISE.sub("", raw)))
            # YouTube's auto-captions roll: each cue repeats the line before it.
            if line and start is not None and line not in recent[-3:]:
                lines.append((start, line))
                recent.append(line)
        cue.clear()

    for raw in text.split("\n"):
        m = _TIMING.search(raw)
        if m:
            if cue and cue[-1].strip().isdigit():
                cue.pop()  # an SRT cue number with no blank line before it
            flush()
            hours, minutes, seconds = (int(g or 0) for g in m.groups()[:3])
            start = hours * 3600 + minutes * 60 + seconds
        elif raw == "":  # only an empty line ends a cue: YouTube writes lines of one space
            flush()
            start = None
        elif start is not None:
            cue.append(raw)  # outside a cue: the header, NOTE/STYLE blocks, cue numbers
    flush()
    return _paragraphs(lines)


def _paragraphs(lines: list[tuple[float, str]]) -> list[str]:
    out: list[str] = []
    words: list[str] = []
    size = sentences = 0
    began = last = 0.0
    for start, line in lines:
        if words and start - last >= _PAUSE_S:
            out.append(f"[{_clock(began)}] {' '.join(words)}")
            words = []
        last = start
        for word in line.split():
            if not words:
                began, size, sentences = start, 0, 0
            words.append(word)
            size += len(word) + 1
            ends = bool(re.search(r"[.!?][\"')\]]*$", word))
            sentences += ends
            if (ends and (sentences >= _SENTENCES or size >= _SOFT_CHARS)) \
                    or size >= _HARD_CHARS:
                out.append(f"[{_clock(began)}] {' '.join(words)}")
                words = []
    if words:
        out.append(f"[{_clock(began)}] {' '.join(words)}")
    return out


def _clock(seconds: float) -> str:
    h, rest = divmod(int(seconds), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class CaptionsLoader:
    """Video captions (.vtt, .srt), e.g. YouTube's: paragraphs of a few sentences, each with
    the time it starts at ("[02:15] ...")."""

    name = "captions"
    suffixes = (".vtt", ".srt")

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        paragraphs = caption_paragraphs(decode_text(data, filename))
        if not paragraphs:
            raise IngestError("no caption text found")
        stem = PurePosixPath(filename.replace("\\", "/")).name.rsplit(".", 1)[0]
        # YouTube names downloads 'Title.en.vtt': the language code is no part of the title
        title = f"{re.sub(r'[.-][a-z]{2}(-[A-Za-z]{2,4})?$', '', stem)} (video captions)"
        return _document(title, paragraphs, [])


# --- generic posts ------------------------------------------------------------------------------

class PostsLoader:
    """A list of posts from anywhere: JSON (a list of objects, or {"posts": [...]}) or CSV, with
    a text-like field (TEXT_COLUMNS) and an optional date (DATE_COLUMNS)."""

    name = "posts"
    suffixes: tuple[str, ...] = ()

    def sniff(self, filename: str, head: bytes) -> bool:
        path = _path(filename)
        if path.endswith(".json"):
            text = _head(head)
            keys = "|".join(TEXT_COLUMNS)
            return bool((text.startswith("[") or re.match(r'\{\s*"(posts|items|data)"', text))
                        and re.search(rf'"({keys})"\s*:\s*"', text, re.IGNORECASE)
                        and not re.search(r'"(question|q)"\s*:', text))
        # A product CSV may have a text-like column too: it belongs to the catalog loaders.
        header = csv_header(head, filename)
        return any(c in header for c in TEXT_COLUMNS) and not is_catalog_header(header)

    def load(self, data: bytes, filename: str) -> LoadedDocument:
        title = f"{file_title(filename)} (posts)"
        if _path(filename).endswith(".json"):
            doc = _json(data, filename)
            if isinstance(doc, dict):
                doc = next((doc[k] for k in ("posts", "items", "data")
                            if isinstance(doc.get(k), list)), None)
            if not isinstance(doc, list):
                raise IngestError("not a list of posts")
            rows = [{str(k).lower(): v for k, v in x.items()} if isinstance(x, dict) else None
                    for x in doc]
        else:
            table = read_csv(decode_text(data, filename), filename)
            if len(table) < 2:
                raise IngestError("a CSV needs a header row and at least one record")
            header = [h.strip().lower() for h in table[0]]
            rows = [dict(zip(header, r)) for r in table[1:]]
        out = _Posts()
        for n, row in enumerate(rows, start=1):
            label = f"post {n}"
            if row is None:
                out.skip(label, "not a post")
                continue
            text = next((_clean(row[c]) for c in TEXT_COLUMNS if _clean(row.get(c))), "")
            when = next((row[c] for c in DATE_COLUMNS if row.get(c) not in (None, "")), None)
            if not text:
                out.skip(label, "no text")
            else:
                out.units.append(f"{_date(when)}: {text}" if when is not None else text)
        return out.document(title)


def _date(value: object) -> str:
    """An ISO date from an epoch number or an ISO timestamp; any other date as written."""
    day = _day(value)
    if day:
        return day
    text = str(value).strip()
    m = re.match(r"\d{4}-\d{2}-\d{2}", text)
    return m.group(0) if m else text
