"""In-memory catalogue index: full-text search over every locale without scanning megabytes of text per request.

Each process keeps one index of the enabled stores' apps, rebuilt when a store's sync state changes (one tiny
query per search tells). A search word matches every app having a word that *contains* it ("zèbr" finds
"zèbres", "个人" finds Chinese text): the distinct words of the catalogue are joined into one string that is
searched once per query word, and each hit maps back to the apps holding that word.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass

from .models import CatalogApp, Store

WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Entry:
    pk: int
    category: str
    author_type: str
    architectures: str
    store_id: int


@dataclass
class Index:
    """Apps in title order plus a word -> apps map over every locale's text."""

    version: tuple
    entries: list[Entry]
    vocabulary: str  # "\n".join(distinct words)
    offsets: list[int]  # where each word starts in `vocabulary`
    postings: list[frozenset[int]]  # word number -> positions in `entries`

    def apps_with(self, word: str) -> set[int]:
        """Positions of apps having a word that contains `word`."""
        found: set[int] = set()
        text, pos = self.vocabulary, self.vocabulary.find(word)
        while pos != -1:
            number = bisect_right(self.offsets, pos) - 1
            found |= self.postings[number]
            following = self.offsets[number + 1] if number + 1 < len(self.offsets) else len(text)
            pos = text.find(word, following)
        return found


_lock = threading.Lock()
_cache: dict[str, Index] = {}


def _version() -> tuple:
    return tuple(Store.objects.order_by("pk").values_list("pk", "enabled", "synced_at", "app_count"))


def _build(version: tuple) -> Index:
    rows = (
        CatalogApp.objects.filter(store__enabled=True)
        .order_by("title_sort", "pk")
        .values_list("pk", "category", "author_type", "architectures", "store_id", "search_text")
    )
    entries, words_of = [], {}
    for position, (pk, category, author_type, archs, store_id, text) in enumerate(rows.iterator(chunk_size=200)):
        entries.append(Entry(pk, category, author_type, archs, store_id))
        for word in set(WORD.findall(text)):
            words_of.setdefault(word, []).append(position)
    vocabulary = sorted(words_of)
    offsets, at = [], 0
    for word in vocabulary:
        offsets.append(at)
        at += len(word) + 1
    return Index(
        version=version,
        entries=entries,
        vocabulary="\n".join(vocabulary),
        offsets=offsets,
        postings=[frozenset(words_of[w]) for w in vocabulary],
    )


def current_index() -> Index:
    """This process's index, rebuilt when any store's sync state or switch changed."""
    version = _version()
    index = _cache.get("index")
    if index is None or index.version != version:
        with _lock:
            index = _cache.get("index")
            if index is None or index.version != version:
                index = _cache["index"] = _build(version)
    return index


def search(
    *, text: str, category: str = "", author_type: str = "", arch: str = "", store: int | None = None
) -> tuple[list[int], Counter]:
    """(app ids in title order, category counts ignoring the category filter) for a query."""
    index = current_index()
    positions: set[int] | None = None
    for word in WORD.findall(text.casefold())[:8]:
        hits = index.apps_with(word)
        positions = hits if positions is None else positions & hits
        if not positions:
            return [], Counter()
    candidates = range(len(index.entries)) if positions is None else sorted(positions)
    arch_key = f",{arch},"
    kept = [
        e
        for e in (index.entries[p] for p in candidates)
        if (not author_type or e.author_type == author_type)
        and (not arch or arch_key in e.architectures)
        and (store is None or e.store_id == store)
    ]
    counts = Counter(e.category for e in kept)
    category = category.casefold()
    return [e.pk for e in kept if not category or e.category.casefold() == category], counts
