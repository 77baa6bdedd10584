"""Language: sentences, words and facts in text, shared by every layer above it.

Neither knowledge nor agents own these: the facts review (knowledge) and the grounding check
(agents) must read a price the same way, and neither may import the other's internals.
"""


def forget_texts() -> None:
    """Empty this package's caches of text already read. They are keyed by the texts
    themselves, and besides passages they see customers' messages and drafts: an erasure
    ("forget me", the owner's delete) empties them so that no erased words stay in this
    process's memory either (other processes' caches age out as they are used)."""
    from doppel.language import bound, facts, quantity, words

    for module in (bound, facts, quantity, words):
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()
