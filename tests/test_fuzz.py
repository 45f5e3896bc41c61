"""Fuzzing the query path: any text, any mode, through the API and the CLI, never a traceback."""
from __future__ import annotations

from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from goalsearch.cli import cli

QUERY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from(list('政务云运维社保卡"():*ANDORNOT 年度12345!？🙂\u3000\ufffd')), max_size=40),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=QUERY_TEXT, mode=st.sampled_from(["bm25", "semantic", "hybrid"]))
def test_any_query_answers(sample_index, query, mode):
    hits = sample_index.search(query, mode=mode, limit=5)
    assert len(hits) <= 5
    for hit in hits:
        for start, end in hit.highlights.get("goal", []):
            assert 0 <= start < end <= len(hit.record.goal)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=QUERY_TEXT)
def test_any_query_through_the_cli(sample_index_dir, query):
    result = CliRunner().invoke(cli, ["search", "--format", "json", "--index-dir", str(sample_index_dir), "--", query])
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
