"""The Milvus store: passages, sentences and their vectors in a Milvus server (standalone, a distributed
cluster, or Milvus Lite's server for development), chosen with `ASKBALKANS_STORE=milvus`.

Three collections, named after `Settings.milvus_collection`:
- `<name>_passages`: id (the chunk id), doc_id, slot, number, first and end sentence, the passage text,
  its lexical terms (our stemmed terms joined by spaces, matched by Milvus's server-side BM25 function
  into a sparse vector), and its dense vector (HNSW, inner product).
- `<name>_sentences`: id, doc_id, slot, number, character span, text, whether it leans on the previous
  one, its typed spans (JSON) and its dense vector.
- `<name>_meta`: the index spec, the acronyms and their counts (in pieces: a value holds at most 64 kB),
  and one record per article (its SHA-256 and slot), keyed.
- `<name>_terms`: in how many passages each lexical term occurs, and the passages' total length (for
  BM25 and the idf of the sentence scores), kept up to date by each update.

Dense and BM25 candidates are fetched by two separate searches and fused by the retriever with the same
weights as for the embedded store, so both stores give the same answers on clear-cut questions. The BM25
candidates are scored here as the embedded store scores them, under the statistics of all live passages
(`_terms`, with their total length): Milvus Lite's own statistics are per segment, so an updated index
would rank otherwise than a rebuilt one.

Updates: new rows go in under new slots, then the article records are switched to them, then the old
rows are deleted; a reader only uses rows whose slot is an article's current one. An update stopped at
any moment thus leaves every article either as it was or as it became, never a removed article's rows
in use; the rows it leaves behind are deleted by the next update.

A server that fails or dies mid-operation raises `StoreError`, naming the call, the server and the
error in one line (the client is wrapped: `_Guarded`); what is stored stays as an update stopped at that
moment leaves it, and once the server runs again, the next start or update carries on.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
import weakref
from collections import Counter, OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict
from typing import Any

import numpy as np

from askbalkans.bm25 import Postings, Statistics
from askbalkans.chunker import Passage, Sentence
from askbalkans.errors import StoreError
from askbalkans.stores import (
    ArticleEntry,
    ArticleRecord,
    Ids,
    Index,
    StaleIndex,
    acronym_term_groups,
    chunk_id,
    cosines,
    describe_mismatch,
    slot_of,
)
from askbalkans.tagging import Span
from askbalkans.text import AcronymCounts, Acronyms, lexical_terms

log = logging.getLogger(__name__)

BM25_K1 = 1.5  # as the embedded store's (bm25.K1, bm25.B)
BM25_B = 0.75
_BATCH = 500
_TEXT_CHARS = 65_535
_CACHE_ROWS = 20_000
_GROUPS_PER_QUERY = 50  # of acronym terms, in one filter expression (Milvus bounds their length)
_SPEC_KEY, _ACRONYMS_KEY, _ARTICLE_PREFIX, _PENDING_KEY = "spec", "acronyms", "article:", "pending"
_COUNTS_KEY = "acronym_counts"  # -> the keys of the pieces that hold the acronym counts' JSON, in order
_COUNTS_PIECE_PREFIX = "acronym_counts:"
_COUNTS_PIECE_CHARS = 30_000  # of JSON; quoted again as a value, it stays within _TEXT_CHARS
_REASON_CHARS = 300
CONNECT_SECONDS = 30.0  # for a server to accept a new connection
# In the terms collection, beside each term's passage count: the total length of the passages' lexical
# terms, for BM25's average length (no term holds a space).
_LENGTH_KEY = " length"


def _connect(uri: str, token: str, database: str) -> Any:
    from pymilvus import MilvusClient, MilvusException

    logging.getLogger("pymilvus").setLevel(logging.CRITICAL)  # it logs each refused connection in full
    try:
        # A connection of its own: pymilvus otherwise shares one per server in the process, and a shared
        # one idle for over 30 s is health-checked and re-dialled within the timeout of whoever opened it
        # first (a 2 s readiness probe, say), so a server busy for a moment refused every new store.
        client = MilvusClient(
            uri=uri, token=token or "", db_name=database or "", timeout=CONNECT_SECONDS, dedicated=True
        )
        client.list_collections()
    except MilvusException as error:
        raise StoreError(
            f"cannot reach the Milvus server at {uri} ({error.message}); start it, or set ASKBALKANS_MILVUS_URI"
        ) from None
    guarded = _Guarded(client, uri)
    weakref.finalize(guarded, client.close)  # the connection is the store's own: closed with it
    return guarded


class _Guarded:
    """A pymilvus object (the client, or a query iterator it made) whose calls raise StoreError where the
    server fails: one line naming the call, its collection, the server and the error. A wrong argument
    (pymilvus's ParamError) is a bug here and keeps its traceback."""

    def __init__(self, target: Any, uri: str):
        import grpc  # type: ignore[import-untyped]  # pymilvus raises some of its errors as they are
        from pymilvus import MilvusException
        from pymilvus.exceptions import ParamError

        self._target = target
        self._uri = uri
        self._failures = (MilvusException, grpc.RpcError)
        self._bugs = ParamError

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                result = attribute(*args, **kwargs)
            except self._bugs:
                raise
            except self._failures as error:
                collection = f" on {args[0]}" if args and isinstance(args[0], str) else ""
                raise StoreError(
                    f"the Milvus server at {self._uri} failed during {name}{collection} ({_one_line(error)}); "
                    "once it runs again, start again"
                ) from None
            return _Guarded(result, self._uri) if name == "query_iterator" else result

        return guarded


def _one_line(error: BaseException) -> str:
    text = re.sub(r"\s+", " ", str(getattr(error, "message", "") or error)).strip()
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


class MilvusStore:
    def __init__(self, uri: str, collection: str, token: str = "", database: str = ""):
        self.client = _connect(uri, token, database)
        self.names = {kind: f"{collection}_{kind}" for kind in ("passages", "sentences", "meta", "terms")}
        self.description = f"{uri} (Milvus, collections {collection}_*)"

    # --- reading ------------------------------------------------------------------------------------

    def _meta(self) -> dict[str, Any]:
        if not self.client.has_collection(self.names["meta"]):
            raise StaleIndex(f"no index in {self.description} yet")
        self._load_all()
        rows = _query_all(self.client, self.names["meta"], ["key", "value"])
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def _load_all(self) -> None:
        for name in self.names.values():
            if self.client.has_collection(name):
                self.client.load_collection(name)  # after a restart of the server, nothing is loaded

    def open(self, spec: Mapping[str, Any]) -> Index:
        meta = self._meta()
        if _SPEC_KEY not in meta:
            raise StaleIndex(f"the index in {self.description} is incomplete")
        mismatch = describe_mismatch(meta[_SPEC_KEY], spec)
        if mismatch:
            raise StaleIndex(mismatch)
        articles = {
            value["doc_id"]: ArticleRecord(**value) for key, value in meta.items() if key.startswith(_ARTICLE_PREFIX)
        }
        live = {record.slot for record in articles.values()}
        chunks = MilvusChunkStore(self.client, self.names, live)
        return Index(
            articles=articles,
            signatures={doc_id: record.signature for doc_id, record in articles.items()},
            chunks=chunks,
            passage_vectors=MilvusDenseIndex(self.client, self.names["passages"], live, chunks),
            sentence_vectors=MilvusDenseIndex(self.client, self.names["sentences"], live, chunks),
            lexical=MilvusLexicalIndex(
                self.client,
                self.names["passages"],
                self.names["terms"],
                live,
                chunks,
                sum(r.passages for r in articles.values()),
            ),
            acronyms=meta.get(_ACRONYMS_KEY, {}),
            acronym_counts=_counts_from(meta),
            passage_count=sum(r.passages for r in articles.values()),
            sentence_count=sum(r.sentences for r in articles.values()),
            next_slot=max(live, default=-1) + 1,
        )

    # --- writing ------------------------------------------------------------------------------------

    def update(
        self,
        spec: Mapping[str, Any],
        remove: Iterable[str],
        add: Iterable[ArticleEntry],
        acronyms: AcronymCounts,
        refresh: Iterable[ArticleRecord] = (),
        from_scratch: bool = False,
    ) -> None:
        entries, removed, table = list(add), set(remove), acronyms.acronyms()
        try:
            meta = self._meta()
            current = describe_mismatch(meta.get(_SPEC_KEY, {}), spec) == "" and _SPEC_KEY in meta
        except StaleIndex:
            meta, current = {}, False
        if from_scratch or not current:  # a rebuild, another spec, or nothing usable: empty collections
            self._create(int(spec["dimension"]))
            meta = {}
        records = {k[len(_ARTICLE_PREFIX) :]: v for k, v in meta.items() if k.startswith(_ARTICLE_PREFIX)}
        live = {record["slot"] for record in records.values()}
        old_slots = [records[doc_id]["slot"] for doc_id in removed if doc_id in records]
        # The slots this update writes and those it deletes are "pending" until it ends. An update that
        # stopped left some: the rows of those no article uses are deleted, and since the term counts may
        # have stopped half-way, they are counted afresh at the end.
        stopped = meta.get(_PENDING_KEY, [])
        self._delete_slots(slot for slot in stopped if slot not in live)
        self._put_meta({_PENDING_KEY: [entry.record.slot for entry in entries] + old_slots})
        added_terms = self._insert(entries, table)
        kept_slots = {r["slot"] for d, r in records.items() if d not in removed}
        relexed_terms, unlexed_terms = self._relex(meta.get(_ACRONYMS_KEY, {}), table, kept_slots)
        old_pieces = [key for key in meta if key.startswith(_COUNTS_PIECE_PREFIX)]
        pieces = self._put_counts(acronyms)
        self._put_meta({_SPEC_KEY: dict(spec), _ACRONYMS_KEY: table})
        # The counts are switched with the article records, in one write.
        new_records = [*refresh, *(entry.record for entry in entries)]
        self._put_meta({_COUNTS_KEY: pieces, **{f"{_ARTICLE_PREFIX}{r.doc_id}": asdict(r) for r in new_records}})
        gone = [doc_id for doc_id in removed if doc_id not in {e.record.doc_id for e in entries}]
        self._delete_meta([f"{_ARTICLE_PREFIX}{doc_id}" for doc_id in gone] + old_pieces)
        removed_terms = self._passage_terms(old_slots)
        self._delete_slots(old_slots)
        if stopped:
            self._count_terms()
        else:
            self._add_term_counts(added_terms + relexed_terms, removed_terms + unlexed_terms)
        self._put_meta({_PENDING_KEY: []})
        for name in self.names.values():
            self.client.flush(name)

    def _create(self, dimension: int) -> None:
        from pymilvus import DataType, Function, FunctionType, MilvusClient

        for name in self.names.values():
            if self.client.has_collection(name):
                self.client.drop_collection(name)
        passages = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        passages.add_field("id", DataType.INT64, is_primary=True)
        for field in ("slot", "number", "first_sentence", "end_sentence"):
            passages.add_field(field, DataType.INT64)
        passages.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        passages.add_field("text", DataType.VARCHAR, max_length=_TEXT_CHARS)
        # enable_match: the passages that hold a term are found by TEXT_MATCH (when acronyms change).
        passages.add_field("lexical", DataType.VARCHAR, max_length=_TEXT_CHARS, enable_analyzer=True, enable_match=True)
        passages.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        passages.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
        passages.add_function(
            Function(
                name="lexical_bm25",
                function_type=FunctionType.BM25,
                input_field_names=["lexical"],
                output_field_names=["sparse"],
            )
        )
        sentences = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        sentences.add_field("id", DataType.INT64, is_primary=True)
        for field in ("slot", "number", "start", "end"):
            sentences.add_field(field, DataType.INT64)
        sentences.add_field("doc_id", DataType.VARCHAR, max_length=1024)
        sentences.add_field("leans", DataType.BOOL)
        sentences.add_field("text", DataType.VARCHAR, max_length=_TEXT_CHARS)
        sentences.add_field("spans", DataType.VARCHAR, max_length=_TEXT_CHARS)
        sentences.add_field("dense", DataType.FLOAT_VECTOR, dim=dimension)
        meta = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        meta.add_field("key", DataType.VARCHAR, is_primary=True, max_length=2048)
        meta.add_field("value", DataType.VARCHAR, max_length=_TEXT_CHARS)
        meta.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector in every collection
        term_counts = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        term_counts.add_field("term", DataType.VARCHAR, is_primary=True, max_length=1024)
        term_counts.add_field("df", DataType.INT64)
        term_counts.add_field("dummy", DataType.FLOAT_VECTOR, dim=2)

        bm25: dict[str, float] = {"bm25_k1": BM25_K1, "bm25_b": BM25_B}
        hnsw: dict[str, float] = {"M": 16, "efConstruction": 200}
        indexes_of: list[tuple[str, Any, list[tuple[str, str, str, dict[str, float]]]]] = [
            (
                self.names["passages"],
                passages,
                [("dense", "HNSW", "IP", hnsw), ("sparse", "SPARSE_INVERTED_INDEX", "BM25", bm25)],
            ),
            (self.names["sentences"], sentences, [("dense", "HNSW", "IP", hnsw)]),
            (self.names["meta"], meta, [("dummy", "FLAT", "L2", {})]),
            (self.names["terms"], term_counts, [("dummy", "FLAT", "L2", {})]),
        ]
        for name, schema, indexes in indexes_of:
            params = self.client.prepare_index_params()
            for field, kind, metric, options in indexes:
                # Milvus Lite reads index options from a nested "params"; Milvus reads them flat.
                params.add_index(
                    field_name=field, index_type=kind, metric_type=metric, params={**options, "params": options}
                )
            self.client.create_collection(name, schema=schema, index_params=params, consistency_level="Strong")

    def _insert(self, entries: list[ArticleEntry], acronyms: dict[str, list[str]]) -> Counter[str]:
        """Write the rows of `entries`; the passage counts of their lexical terms."""
        passage_rows, sentence_rows = [], []
        table = Acronyms(acronyms)
        for entry in entries:
            slot, doc_id = entry.record.slot, entry.record.doc_id
            for passage, vector in zip(entry.chunks.passages, entry.passage_vectors, strict=True):
                passage_rows.append(
                    {
                        "id": chunk_id(slot, passage.number),
                        "slot": slot,
                        "number": passage.number,
                        "first_sentence": passage.first_sentence,
                        "end_sentence": passage.end_sentence,
                        "doc_id": doc_id,
                        "text": passage.text[:_TEXT_CHARS],
                        "lexical": _lexical(entry.record.title, passage.text, table),
                        "dense": vector.tolist(),
                    }
                )
            for sentence, vector in zip(entry.chunks.sentences, entry.sentence_vectors, strict=True):
                sentence_rows.append(
                    {
                        "id": chunk_id(slot, sentence.number),
                        "slot": slot,
                        "number": sentence.number,
                        "start": sentence.start,
                        "end": sentence.end,
                        "doc_id": doc_id,
                        "leans": sentence.leans_on_previous,
                        "text": sentence.text[:_TEXT_CHARS],
                        "spans": json.dumps([[s.type, s.start, s.end] for s in sentence.spans]),
                        "dense": vector.tolist(),
                    }
                )
        for name, rows in ((self.names["passages"], passage_rows), (self.names["sentences"], sentence_rows)):
            for start in range(0, len(rows), _BATCH):
                self.client.insert(name, rows[start : start + _BATCH])
        return _term_counts(row["lexical"] for row in passage_rows)

    def _passage_terms(self, slots: list[int]) -> Counter[str]:
        """The passage counts of the lexical terms of the passages in `slots`."""
        if not slots:
            return Counter()
        rows = self.client.query(self.names["passages"], filter=_in("slot", sorted(slots)), output_fields=["lexical"])
        return _term_counts(row["lexical"] for row in rows)

    def _add_term_counts(self, added: Counter[str], removed: Counter[str]) -> None:
        changed = sorted(set(added) | set(removed))
        current: dict[str, int] = {}
        for start in range(0, len(changed), _BATCH):
            batch = changed[start : start + _BATCH]
            for row in self.client.query(self.names["terms"], filter=_in("term", batch), output_fields=["term", "df"]):
                current[row["term"]] = int(row["df"])
        counts = {term: current.get(term, 0) + added[term] - removed[term] for term in changed}
        self._write_term_counts(counts)

    def _count_terms(self) -> None:
        """Count every term afresh (after an update that stopped half-way)."""
        self.client.delete(self.names["terms"], filter='term != ""')
        rows = _query_all(self.client, self.names["passages"], ["lexical"])
        self._write_term_counts(_term_counts(row["lexical"] for row in rows))

    def _write_term_counts(self, counts: Mapping[str, int]) -> None:
        rows = [{"term": t, "df": n, "dummy": [0.0, 0.0]} for t, n in counts.items() if n > 0]
        for start in range(0, len(rows), _BATCH):
            self.client.upsert(self.names["terms"], rows[start : start + _BATCH])
        gone = [t for t, n in counts.items() if n <= 0]
        for start in range(0, len(gone), _BATCH):
            self.client.delete(self.names["terms"], filter=_in("term", gone[start : start + _BATCH]))

    def _relex(
        self, old: Mapping[str, list[str]], new: Mapping[str, list[str]], slots: set[int]
    ) -> tuple[Counter[str], Counter[str]]:
        """Rewrite the lexical terms of the passages of `slots` that the change of acronyms from `old` to
        `new` concerns; the passage counts of their new terms and of their old ones."""
        groups = acronym_term_groups(old, new)
        if not groups or not slots:
            return Counter(), Counter()
        fields = ["id", "slot", "number", "first_sentence", "end_sentence", "doc_id", "text", "lexical", "dense"]
        by_id: dict[int, dict[str, Any]] = {}
        for start in range(0, len(groups), _GROUPS_PER_QUERY):
            # Every term of some group (TEXT_MATCH with one term: the passages that hold it).
            concerned = " or ".join(
                "(" + " and ".join(f'TEXT_MATCH(lexical, "{term}")' for term in group) + ")"
                for group in groups[start : start + _GROUPS_PER_QUERY]
            )
            by_id.update((r["id"], r) for r in _query_all(self.client, self.names["passages"], fields, concerned))
        rows = [row for row in by_id.values() if row["slot"] in slots]
        old_terms = _term_counts(row["lexical"] for row in rows)
        titles = {
            value["slot"]: value["title"] for key, value in self._meta().items() if key.startswith(_ARTICLE_PREFIX)
        }
        table = Acronyms(new)
        for row in rows:
            row["lexical"] = _lexical(titles.get(row["slot"], ""), row["text"], table)
        for start in range(0, len(rows), _BATCH):
            self.client.upsert(self.names["passages"], rows[start : start + _BATCH])
        return _term_counts(row["lexical"] for row in rows), old_terms

    def _put_counts(self, counts: AcronymCounts) -> list[str]:
        """Write the pieces of `counts` under keys of their own; the keys, in order."""
        text, update = json.dumps(counts.to_json()), uuid.uuid4().hex
        pieces = {
            f"{_COUNTS_PIECE_PREFIX}{update}:{number}": text[start : start + _COUNTS_PIECE_CHARS]
            for number, start in enumerate(range(0, max(len(text), 1), _COUNTS_PIECE_CHARS))
        }
        self._put_meta(pieces)
        return list(pieces)

    def _put_meta(self, values: Mapping[str, Any]) -> None:
        rows = [{"key": key, "value": json.dumps(value), "dummy": [0.0, 0.0]} for key, value in values.items()]
        if rows:
            self.client.upsert(self.names["meta"], rows)

    def _delete_meta(self, keys: list[str]) -> None:
        if keys:
            self.client.delete(self.names["meta"], filter=_in("key", keys))

    def _delete_slots(self, slots: Iterable[int]) -> None:
        slots = sorted(set(slots))
        if slots:
            for kind in ("passages", "sentences"):
                self.client.delete(self.names[kind], filter=_in("slot", slots))


def _counts_from(meta: Mapping[str, Any]) -> AcronymCounts:
    try:
        return AcronymCounts.from_json(json.loads("".join(meta[key] for key in meta[_COUNTS_KEY])))
    except (KeyError, ValueError, TypeError) as error:
        raise StaleIndex(f"the acronym counts are missing or corrupt ({error!r})") from None


def _term_counts(lexicals: Iterable[str]) -> Counter[str]:
    """In how many of these passages (their lexical fields) each term occurs, and under _LENGTH_KEY their
    total length."""
    counts: Counter[str] = Counter()
    for lexical in lexicals:
        found = lexical.split()
        counts.update(set(found))
        counts[_LENGTH_KEY] += len(found)
    return counts


def _lexical(title: str, text: str, acronyms: Acronyms) -> str:
    # Our own terms (stemmed, acronyms joined), which Milvus's standard analyzer splits at the spaces.
    return " ".join(lexical_terms(title, text, acronyms))[:_TEXT_CHARS] or "_"


def _query_all(client: Any, collection: str, fields: list[str], filter: str = "") -> list[dict[str, Any]]:
    iterator = client.query_iterator(collection, batch_size=1000, filter=filter, output_fields=fields)
    rows: list[dict[str, Any]] = []
    try:
        while batch := iterator.next():
            rows += batch
    finally:
        iterator.close()
    return rows


def _in(field: str, values: Sequence[Any]) -> str:
    """A filter expression: `field` is one of `values` (strings quoted as JSON, which Milvus reads, but
    written as they are: Milvus does not read \\u escapes)."""
    return f"{field} in {json.dumps(list(values), ensure_ascii=False)}"


def _ids_filter(ids: Sequence[int]) -> str:
    return _in("id", [int(i) for i in ids])


class MilvusChunkStore:
    """Sentences and passages fetched by id, kept in a bounded cache (rows never change under an id:
    a changed article gets a new slot)."""

    def __init__(self, client: Any, names: Mapping[str, str], live: set[int]):
        self.client = client
        self.names = names
        self.live = live
        self._rows: OrderedDict[tuple[str, int], dict[str, Any]] = OrderedDict()

    def rows(self, kind: str, ids: Iterable[int], fields: list[str]) -> dict[int, dict[str, Any]]:
        wanted = [int(i) for i in dict.fromkeys(ids) if slot_of(int(i)) in self.live]
        missing = [i for i in wanted if (kind, i) not in self._rows]
        for start in range(0, len(missing), _BATCH):
            batch = missing[start : start + _BATCH]
            for row in self.client.query(self.names[kind], filter=_ids_filter(batch), output_fields=fields):
                self._rows[(kind, int(row["id"]))] = row
        found = {i: self._rows[(kind, i)] for i in wanted if (kind, i) in self._rows}
        for i in found:
            self._rows.move_to_end((kind, i))  # least recently used rows go first
        while len(self._rows) > _CACHE_ROWS:
            self._rows.popitem(last=False)
        return found

    def passages(self, ids: Ids) -> list[Passage]:
        rows = self.rows("passages", ids, _PASSAGE_FIELDS)
        return [
            Passage(r["doc_id"], r["number"], r["first_sentence"], r["end_sentence"], r["text"])
            for r in (rows[int(i)] for i in ids)
        ]

    def sentences(self, ids: Iterable[int]) -> dict[int, Sentence]:
        return {
            i: Sentence(
                r["doc_id"],
                r["number"],
                r["start"],
                r["end"],
                r["text"],
                r["leans"],
                tuple(Span(kind, first, last) for kind, first, last in json.loads(r["spans"])),
            )
            for i, r in self.rows("sentences", ids, _SENTENCE_FIELDS).items()
        }


_PASSAGE_FIELDS = ["id", "doc_id", "number", "first_sentence", "end_sentence", "text", "lexical", "dense"]
_SENTENCE_FIELDS = ["id", "doc_id", "number", "start", "end", "text", "leans", "spans", "dense"]


class MilvusDenseIndex:
    """Dense search in one collection; the vectors of ids come from the chunk store's cache."""

    def __init__(self, client: Any, collection: str, live: set[int], chunks: MilvusChunkStore):
        self.client = client
        self.collection = collection
        self.live = live
        self.kind = "passages" if collection.endswith("_passages") else "sentences"
        self.chunks = chunks

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        hits = self.client.search(
            self.collection,
            data=[query.tolist()],
            anns_field="dense",
            limit=k,
            search_params={"metric_type": "IP", "params": {"ef": max(64, 2 * k)}},
        )[0]
        kept = [(int(h["id"]), float(h["distance"])) for h in hits if slot_of(int(h["id"])) in self.live]
        return np.array([i for i, _ in kept], dtype=np.int64), np.array([d for _, d in kept], dtype=np.float32)

    def vectors(self, ids: Ids) -> np.ndarray:
        fields = _PASSAGE_FIELDS if self.kind == "passages" else _SENTENCE_FIELDS
        rows = self.chunks.rows(self.kind, ids, fields)
        return np.array([rows[int(i)]["dense"] for i in ids], dtype=np.float32)

    def similarities(self, query: np.ndarray, ids: Ids) -> np.ndarray:
        return cosines(self.vectors(ids), query)


class MilvusLexicalIndex:
    """BM25 over the passages' lexical terms: candidates found by Milvus's own BM25 function, scored here as
    the embedded store scores them, under the statistics of all the live passages (the term counts
    collection). Milvus Lite's own statistics are per segment: a copy of a passage written by a later
    update scored otherwise than the original, so an updated index ranked otherwise than a rebuilt one."""

    def __init__(
        self,
        client: Any,
        collection: str,
        terms_collection: str,
        live: set[int],
        chunks: MilvusChunkStore,
        documents: int,
    ):
        self.client = client
        self.collection = collection
        self.terms_collection = terms_collection
        self.live = live
        self.chunks = chunks
        self.documents = documents

    def document_frequencies(self, terms: Sequence[str]) -> np.ndarray:
        wanted = list(dict.fromkeys(terms))
        rows = (
            self.client.query(self.terms_collection, filter=_in("term", wanted), output_fields=["term", "df"])
            if wanted
            else []
        )
        found = {row["term"]: int(row["df"]) for row in rows}
        return np.array([found.get(term, 0) for term in terms], dtype=np.int64)

    def _candidates(self, terms: Sequence[str], k: int) -> np.ndarray:
        """The ids of the `k` best live passages by Milvus's own BM25."""
        if not terms or k <= 0:
            return np.zeros(0, dtype=np.int64)
        hits = self.client.search(
            self.collection, data=[" ".join(terms)], anns_field="sparse", limit=k, search_params={"metric_type": "BM25"}
        )[0]
        return np.array([int(h["id"]) for h in hits if slot_of(int(h["id"])) in self.live], dtype=np.int64)

    def _bm25(self, terms: Sequence[str], ids: np.ndarray) -> np.ndarray:
        rows = self.chunks.rows("passages", ids.tolist(), _PASSAGE_FIELDS)
        postings = Postings.build([rows[int(i)]["lexical"].split() for i in ids])
        frequencies = self.document_frequencies([*terms, _LENGTH_KEY])
        statistics = Statistics(
            self.documents, float(frequencies[-1]), dict(zip(terms, frequencies[:-1].tolist(), strict=True))
        )
        return postings.scores_of(terms, np.arange(len(ids)), statistics=statistics)

    def search(self, terms: Sequence[str], k: int) -> tuple[np.ndarray, np.ndarray]:
        # Milvus's candidates, twice as many as asked for (its ranking is not quite ours), rescored.
        ids = self._candidates(terms, 2 * k)
        scores = self._bm25(terms, ids) if len(ids) else np.zeros(0, dtype=np.float32)
        best = np.lexsort((ids, -scores))[:k]
        best = best[scores[best] > 0]
        return ids[best], scores[best]

    def scores(self, terms: Sequence[str], ids: Ids) -> np.ndarray:
        wanted = np.asarray(ids, dtype=np.int64)
        return self._bm25(terms, wanted) if len(wanted) else np.zeros(0, dtype=np.float32)
