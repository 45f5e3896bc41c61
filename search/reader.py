"""An open index: opening, pinning and closing a generation, and reading what it holds.

``IndexReader.open`` follows ``CURRENT`` to the live generation and pins it (a shared ``flock``,
``indexer.storage.generations.pin``), so an update that publishes a newer generation leaves this
one readable until ``close``. It reads records by id or name, opens the two sides (the BM25 side
at once, the vectors when a query first needs them) and the project families. The verbs that rank
are ``GoalSearch``'s (``search.api``), built on this class; ``check_index`` and ``stats`` need only this.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

from ..indexer import (
    AmbiguousRecord,
    GoalsearchError,
    IndexCorrupt,
    IndexIncompatible,
    IndexMissing,
    Record,
    RecordNotFound,
    index_paths,
)
from ..indexer.analysis.synonyms import dictionary_limits
from ..indexer.files import package_path
from ..indexer.models import DEFAULT_MODEL, load_embedder, refuse_other_backend
from ..indexer.storage import generations as store
from ..indexer.storage import integrity
from ..indexer.storage.fulltext import FULLTEXT
from ..indexer.storage.record_store import RecordStore
from ..indexer.storage.terms import TERMS
from ..indexer.storage.vectors import IVF, KEYS, VECTORS, vector_settings

from .allocator import keep_freed_memory
from .families import FamilyIndex
from .lexical import BM25Side
from .lexical.plain import query_settings
from .lexical.synonyms import load_synonyms
from .records import open_records
from .semantic import VectorSide

MAX_QUERY_CHARS = 2000
QUERY_VECTORS_KEPT = 256  # recent query vectors an open index keeps: the same query again, in another mode or page


def sample_corpus() -> Path:
    """The folder of sample budget documents bundled with goalsearch."""
    return package_path("samples")


class IndexReader:
    """An open index. Open it with ``IndexReader.open`` (or ``GoalSearch.open``); close it, or use ``with``."""

    def __init__(self, index_dir: Path, generation: Path, manifest: dict, model: str | None,
                 pinned: int | None = None) -> None:
        self.index_dir = index_dir
        keep_freed_memory()
        self.generation = generation
        self.manifest = manifest
        self._pinned = pinned
        self.store: RecordStore = open_records(generation, manifest)
        self.ids: list[str] = self.store.ids  # row → record id, the order of term matrices and vectors
        self.by_id = RecordsById(self.store)
        self.extra_words = tuple(manifest.get("user_words", ()))
        user_synonyms = tuple(manifest.get("user_synonyms", ()))
        limits = dictionary_limits()  # what `index` accepts; more would slow every command that opens the index
        if len(user_synonyms) > limits["synonym_groups"] or len(self.extra_words) > limits["user_words"]:
            self.store.close()
            raise integrity.damaged(generation, store.MANIFEST, f"{len(user_synonyms)} synonym groups and "
                                    f"{len(self.extra_words)} user words, more than `goalsearch index` accepts")
        self.synonyms = load_synonyms(user_synonyms)
        self.bm25 = BM25Side(generation, generation / FULLTEXT, self.extra_words,
                              verify=lambda: store.read_manifest(generation, verify=FULLTEXT), records=self.store,
                              synonyms=self.synonyms, open_terms=self._open_terms)
        self._vectors: VectorSide | None = None
        self._families: FamilyIndex | None = None
        self._model = model
        self.query_cache_size = QUERY_VECTORS_KEPT  # 0: encode every query (benchmarks time the encoder so)
        self._query_vectors: OrderedDict[tuple[str, bool], object] = OrderedDict()

    # -- opening -------------------------------------------------------------------
    @classmethod
    def open(cls, index_dir: str | Path = "index", model: str | None = None) -> "IndexReader":
        """Open the live generation of an index, checking its manifest's format.

        Whoosh's files are checked against the manifest's checksums when a query first needs
        Whoosh; ``goalsearch check`` hashes every file.

        ``model`` (default: the index's own) must be the model that built the vectors.
        """
        index_dir = Path(index_dir)
        if index_dir.exists() and not index_dir.is_dir():
            raise IndexMissing(f"index location {index_dir} is a file, not a folder; give another --index-dir")
        for attempt in range(3):
            generation = store.current_generation(index_dir)
            if generation is None:
                raise IndexMissing(f"no index at {index_dir}; create one with `goalsearch index PATH`")
            pinned = store.pin(generation)
            if pinned is None:  # removed between reading CURRENT and pinning: read CURRENT again
                continue
            try:
                manifest = store.read_manifest(generation, verify=False)  # Whoosh's files: when it opens
                built_with = manifest.get("model", {})
                if model is not None and model != built_with.get("requested"):
                    raise IndexIncompatible(f"index {index_dir} was built with model {built_with.get('requested')!r}, not {model!r}; "
                                            f"run `goalsearch index --rebuild --model {model}` or drop --model")
                refuse_other_backend(index_dir, built_with)
                return cls(index_dir, generation, manifest, built_with.get("requested"), pinned)
            except (IndexCorrupt, FileNotFoundError):
                store.unpin(pinned)
                # A writer may have switched generations and removed this one while we read it.
                if attempt < 2 and store.current_generation(index_dir) != generation:
                    continue
                if not generation.exists():
                    continue
                raise
            except BaseException:
                store.unpin(pinned)
                raise
        raise IndexCorrupt(f"index {index_dir} keeps changing under us; try again when `goalsearch index` has finished")

    @classmethod
    def exists(cls, index_dir: str | Path = "index") -> bool:
        """Is there an index at ``index_dir``?"""
        try:
            return store.current_generation(Path(index_dir)) is not None
        except GoalsearchError:
            return True

    @classmethod
    def open_or_build_sample(cls, index_dir: str | Path = "index", model: str | None = None,
                             notify: Callable[[str], None] | None = None, progress=None) -> "IndexReader":
        """Open the index, first building it from the bundled sample corpus if the location is new.

        Meant for the default location only (the CLI calls ``open`` for a location the user named,
        so a typo is refused, never filled). New means: no ``CURRENT``, and nothing but what a writer
        leaves before its first publish (``store.foreign_names``), so a first search killed while it
        built is built again. A location with generations but no ``CURRENT`` is someone's index that
        lost its pointer, and building there could clean its generations away; one holding the user's
        own files is theirs: both are refused like a missing index.
        """
        index_dir = Path(index_dir)
        if not cls.exists(index_dir):
            foreign = store.foreign_names(index_dir) if index_dir.is_dir() else []
            if any(store.looks_like_generation(name) for name in foreign):
                raise IndexMissing(f"no index at {index_dir} (generation folders but no CURRENT pointer); "
                                   "create one with `goalsearch index PATH`, or move them away")
            if foreign:
                more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
                raise IndexMissing(f"no index at {index_dir}, and it holds files that are not an index "
                                   f"({', '.join(foreign[:3])}{more}), so no sample index is built there; "
                                   "move them away, or create an index elsewhere with `goalsearch index PATH --index-dir DIR`")
            if notify:
                shown = index_dir if index_dir.is_absolute() or str(index_dir).startswith(".") else f"./{index_dir}"
                notify(f"No index at {shown}: building one from the bundled sample corpus ({sample_corpus()}).")
            index_paths([sample_corpus()], index_dir, model=model, progress=progress)
        return cls.open(index_dir, model=model)

    @cached_property
    def records(self) -> list[Record]:
        """Every record, in row order: read from the store on first use (searching never needs them all)."""
        return list(self.store)

    def close(self) -> None:
        self.bm25.close()
        self.store.close()
        store.unpin(self._pinned)
        self._pinned = None

    def __enter__(self) -> "IndexReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- the sides ------------------------------------------------------------------
    @property
    def vectors(self) -> VectorSide:
        if self._vectors is None:
            generation, manifest = self.generation, self.manifest
            # Its rows are the record store's (the build wrote both from one list); its hash proves it unchanged.
            integrity.verify_file(generation, manifest, KEYS)
            with integrity.reading(generation, VECTORS):
                side = VectorSide(generation, self.ids, verify=lambda: store.read_manifest(generation, verify=IVF),
                                  views=len(self.manifest.get("vectors", {}).get("views", ("name_goal",))),
                                  check=lambda rows, whole=False: integrity.check_vectors(
                                      generation, manifest, VECTORS, rows, len(self.ids), whole),
                                  row=self.store.row)
            self._vectors = side
        return self._vectors

    def _open_terms(self, make):
        """Open the term matrices through ``make(ids)``, checking them against the manifest (see ``indexer.storage.integrity``).

        Their rows are the record store's: ``keys.json`` is only hashed, never parsed.
        """
        generation, manifest = self.generation, self.manifest
        for name in (f"{TERMS}/keys.json", f"{TERMS}/vocabulary.json"):
            integrity.verify_file(generation, manifest, name)
        with integrity.reading(generation, TERMS):
            return make(self.ids)

    def _embedder(self):
        embedder = load_embedder(self._model or DEFAULT_MODEL)
        expected = self.manifest.get("model", {})
        if embedder.info.dimension != expected.get("dimension") or embedder.info.name != expected.get("name"):
            raise IndexIncompatible(f"index {self.index_dir} was built with {expected.get('name')} ({expected.get('dimension')}-d), "
                                    f"but the model loaded is {embedder.info.name} ({embedder.info.dimension}-d); "
                                    "run `goalsearch index --rebuild`")
        return embedder

    def encode_query(self, text: str):
        """The query vector for ``text`` with the index's model, cut to what the model reads.

        A long text (``paste_chars`` in ``data/fields.json``) is a pasted passage:
        it is encoded as the documents are (e5's ``passage:`` prompt), so passage meets passage;
        on the dev set's pasted texts this ranks better than the ``query:`` prompt
        (``benchmarks/README.md``).

        The last ``query_cache_size`` vectors are kept (read-only): encoding is most of a query's time,
        and the same text comes back for another mode, filter or page. They are the encoder's output,
        keyed by the text and its prompt (query or passage); feedback moves a copy (``search.feedback``).
        """
        passage = len(text) >= query_settings()["paste_chars"]
        key = (text, passage)
        vector = self._query_vectors.get(key)
        if vector is not None:
            self._query_vectors.move_to_end(key)
            return vector
        embedder = self._embedder()
        cut = embedder.query_cut(text, MAX_QUERY_CHARS, vector_settings()["query_max_tokens"])
        vector = embedder.encode_queries([cut], passage=passage)[0]
        vector.setflags(write=False)
        if self.query_cache_size:
            self._query_vectors[key] = vector
            while len(self._query_vectors) > self.query_cache_size:
                self._query_vectors.popitem(last=False)
        return vector

    # -- reading ---------------------------------------------------------------------
    def get(self, record_id: str) -> Record:
        """The record with this id (or a unique id prefix of at least 6 characters)."""
        record = self.store.get(record_id)
        if record:
            return record
        if len(record_id) >= 6:
            found = self.store.with_prefix(record_id)
            if len(found) == 1:
                return self.store.get(found[0])
        raise RecordNotFound(f"no record with id {record_id[:200]!r}; find ids with `goalsearch search`")

    def find(self, id_or_name: str) -> Record:
        """A record by id, or by exact name (or alias) when that names exactly one."""
        try:
            return self.get(id_or_name)
        except RecordNotFound:
            pass
        found = self.store.named(id_or_name.strip())  # a stored name may hold spaces (`<img src=x …>` did)
        wanted = re.sub(r"\s+", "", id_or_name)
        if not found and wanted != id_or_name.strip():  # a name copied with spaces that the stored one lacks
            found = self.store.named(wanted)
        if len(found) == 1:
            return found[0]
        if found:
            raise AmbiguousRecord(f"{len(found)} projects match {id_or_name!r}; give one of their ids", found)
        if re.fullmatch(r"[0-9a-f]{1,5}", id_or_name):
            raise RecordNotFound(f"no project with id or name {id_or_name[:200]!r}; an id prefix needs at least 6 "
                                 "characters (ids are 16); find it with `goalsearch search`")
        raise RecordNotFound(f"no project with id or name {id_or_name[:200]!r}; find it with `goalsearch search`")

    # -- families ------------------------------------------------------------------
    @property
    def family_index(self) -> FamilyIndex:
        """Every project family of the index (from the record store, read on first use)."""
        if self._families is None:
            vectors = self.manifest.get("vectors", {})
            self._families = FamilyIndex.load(self.store, lambda: self.vectors, list(vectors.get("views", ("name_goal",))),
                                              self.manifest.get("model", {}).get("dimension"))
        return self._families

    def family_id_of(self, record_id: str) -> str | None:
        """The id of the family a record is in."""
        if not self.store.family_count:
            family = self.family_index.of_record.get(record_id)
            return family.id if family else None
        row = self.store.row.get(record_id)
        return None if row is None else self.store.families_of([row]).get(row)


class RecordsById(Mapping):
    """Records by id, read from the store when asked for (the families code looks members up by id)."""

    def __init__(self, store: RecordStore) -> None:
        self._store = store

    def __getitem__(self, record_id: str) -> Record:
        record = self._store.get(record_id)
        if record is None:
            raise KeyError(record_id)
        return record

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._store.row

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.ids)

    def __len__(self) -> int:
        return len(self._store)
