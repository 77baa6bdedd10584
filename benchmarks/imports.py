"""What an owner waits for in the console: importing an export, a website, and the inbox.

Issue 5 sets no speed target; these figures say what the console's progress bar covers.

- Export: an Instagram "Download your information" zip of N posts (Meta's mojibake, a photo per
  post) against the same posts as one plain-text file, one post per paragraph, ingested in the
  same run with the real MiniLM embedder. The ratio is the cost of the export path (zip
  validation, sniffing, the per-post records and the injection scan of every post) over reading
  the same words as text.
- Website: a local 50-page site (FakeWebsite on 127.0.0.1, allow-listed, no crawl delay),
  crawled and ingested; pages per second, and the crawl's share of it.
- Inbox: grouping N unanswered questions by meaning (real MiniLM), first call and cached.

    .venv/bin/python benchmarks/imports.py [--posts 500] [--questions 2000] [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from doppel.agents.spec import AgentSpec  # noqa: E402
from doppel.config import Settings  # noqa: E402
from doppel.service import Doppel  # noqa: E402
from doppel.testing import FakeChatBackend, FakeWebsite  # noqa: E402

WORDS = ("sourdough rye croissant cardamom bun glaze kiln mug bowl market saturday oven starter "
         "flour butter clay wheel studio batch handmade local morning fresh loaf class").split()


def post(rng: random.Random, i: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 30)))
    return f"hey fam! post {i}: {body} ✨ xoxo #smallbatch"


def instagram_zip(posts: list[str]) -> bytes:
    items = [{"media": [{"uri": f"media/posts/{i}.jpg", "creation_timestamp": 1714723200 + i,
                         "title": text.encode("utf-8").decode("latin-1")}]}
             for i, text in enumerate(posts)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("your_instagram_activity/content/posts_1.json", json.dumps(items))
        for i in range(len(posts)):
            zf.writestr(f"media/posts/{i}.jpg", b"\xff\xd8\xff\xe0" + bytes(2000))
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--posts", type=int, default=500)
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(7)
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as home:
        models = Path(os.environ.get("DOPPEL_HOME") or ROOT / ".doppel") / "models"
        settings = Settings(home=Path(home), models_home=models, crawl_delay_s=0)
        app = Doppel(settings, backend=FakeChatBackend())
        app.embedder.embed(["warm-up"])
        posts = [post(rng, i) for i in range(args.posts)]

        # --- an export vs the same words as text, alternating order to share warm-up -----
        timings: dict[str, list[float]] = {"export": [], "text": []}
        for round_ in range(2):
            for kind in (("export", "text") if round_ == 0 else ("text", "export")):
                agent = app.agents.create(AgentSpec(slug=f"{kind}-{round_}", name=kind))
                started = time.perf_counter()
                if kind == "export":
                    reports = app.ingestor.ingest_upload(agent, "instagram.zip",
                                                         instagram_zip(posts))
                else:
                    reports = [app.ingestor.ingest_bytes(
                        agent, "\n\n".join(posts).encode(), "posts.txt")]
                timings[kind].append(time.perf_counter() - started)
                assert any(r.status == "added" for r in reports), reports[0].line()
        export_s, text_s = min(timings["export"]), min(timings["text"])
        out["export"] = {"posts": args.posts, "seconds": round(export_s, 2),
                         "posts_per_s": round(args.posts / export_s, 1),
                         "plain_text_seconds": round(text_s, 2),
                         "ratio_vs_plain_text": round(export_s / text_s, 2)}

        # --- a 50-page website --------------------------------------------------------------
        def page(path: str) -> str:
            n = int(path.strip("/").removesuffix(".html") or 0)
            links = "".join(f"<a href='/{m}.html'>p{m}</a>" for m in range(n + 1, n + 4)
                            if m < 50)
            text = " ".join(rng.choice(WORDS) for _ in range(120))
            return (f"<html><body><nav>Home Menu</nav><main><h1>Page {n}</h1><p>{text}.</p>"
                    f"{links}</main><footer>© Mira</footer></body></html>")

        with FakeWebsite(lambda path: page(path) if path != "/robots.txt" else None) as site:
            settings.fetch_allow = f"127.0.0.1:{site.port}"
            settings.crawl_max_depth = 50
            from doppel.knowledge.crawl import crawl

            started = time.perf_counter()
            result = crawl(site.url("/"), settings)
            crawl_s = time.perf_counter() - started
            agent = app.agents.create(AgentSpec(slug="site", name="site"))
            for p in result.pages:
                app.ingestor.ingest_bytes(agent, p.data, p.source)
            total_s = time.perf_counter() - started
        out["website"] = {"pages": len(result.pages), "seconds": round(total_s, 2),
                          "pages_per_s": round(len(result.pages) / total_s, 1),
                          "crawl_share": round(crawl_s / total_s, 2)}

        # --- the inbox ------------------------------------------------------------------------
        agent = app.agents.create(AgentSpec(slug="inbox", name="inbox"))
        conversation = app.conversations.get_or_create(agent.id, "bench")
        topics = ["gift cards", "gluten free bread", "parking", "dog friendly", "catering",
                  "wedding cakes", "vegan options", "delivery", "wifi", "birthday parties"]
        for _ in range(args.questions):
            q = f"{rng.choice(['Do you have', 'Is there', 'What about', 'Any'])} " \
                f"{rng.choice(topics)} {rng.choice(['today', 'this week', 'at all', ''])}?"
            app.conversations.record(conversation_id=conversation, agent_id=agent.id,
                                     user_message=q, answer="Sorry, I don't know.",
                                     path="dont_know", draft=None, grounding={}, passages=[],
                                     prompt_tokens=0, completion_tokens=0, timings={},
                                     model="bench", shields={})
        started = time.perf_counter()
        groups = app.insights.inbox(agent.id)
        first_s = time.perf_counter() - started
        started = time.perf_counter()
        app.insights.inbox(agent.id)
        again_s = time.perf_counter() - started
        out["inbox"] = {"questions": args.questions, "groups": len(groups),
                        "first_seconds": round(first_s, 2), "cached_seconds": round(again_s, 2)}
        app.close()

    if args.json:
        print(json.dumps(out, indent=2))
        return
    e, w, i = out["export"], out["website"], out["inbox"]
    print(f"export:  {e['posts']} Instagram posts in {e['seconds']} s ({e['posts_per_s']} "
          f"posts/s); the same words as text {e['plain_text_seconds']} s; "
          f"ratio {e['ratio_vs_plain_text']}×")
    print(f"website: {w['pages']} pages crawled and ingested in {w['seconds']} s "
          f"({w['pages_per_s']} pages/s; crawling {w['crawl_share']:.0%} of it)")
    print(f"inbox:   {i['questions']} unanswered questions -> {i['groups']} groups in "
          f"{i['first_seconds']} s (cached {i['cached_seconds']} s)")


if __name__ == "__main__":
    main()
