"""README's example queries, read from README.md and run on the warehouse of a bundled run
(SQLite) and on a migrated PostgreSQL warehouse: they must run and return the expected shapes."""
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from warehouse import load as wh

pytestmark = pytest.mark.flow
README = Path(__file__).resolve().parents[2] / "README.md"


def example_queries() -> dict[str, str]:
    blocks = re.findall(r"```sql\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    out = {}
    for block in blocks:
        first, _, sql = block.partition("\n")
        if first.startswith("-- Q: "):
            out[first[len("-- Q: "):]] = sql.strip()
    return out


QUERIES = example_queries()


def answer(engine, sql: str, run_id: str):
    with engine.connect() as conn:
        result = conn.execute(text(sql), {"run_id": run_id} if ":run_id" in sql else {})
        return list(result.keys()), result.fetchall()


def test_readme_has_the_questions_of_the_issue():
    assert len(QUERIES) >= 10
    assert any("twin towns of Köln and Bielefeld" in q for q in QUERIES)
    assert any("what run :run_id changed" in q for q in QUERIES)


def test_every_example_query_answers_on_the_bundled_run(bundled_warehouse):
    engine, run_id, _ = bundled_warehouse
    answers = {question: answer(engine, sql, run_id) for question, sql in QUERIES.items()}
    columns, twins = answers["the current twin towns of Köln and Bielefeld (one WHERE: partnership_sides has each "
                             "pair from both sides)"]
    assert columns[:3] == ["municipality", "partner", "partner_country"]
    assert {row[0] for row in twins} == {"Köln", "Bielefeld"} and len(twins) > 20
    _, top = answers["the ten German municipalities with most partnerships"]
    assert len(top) == 10 and top[0][2] >= top[-1][2] > 10
    _, countries = answers["partnerships of German municipalities per partner country"]
    assert countries[0][0] == "FR"  # France first, as every German count of twinnings says
    _, credited = answers["where each of Köln's partnerships comes from, with the licence to credit"]
    assert credited and all(row[2] for row in credited)
    _, share_alike = answers["current partnerships resting only on share-alike (CC BY-SA) sources, per source"]
    assert {row[0] for row in share_alike} == {"twincities_dataset", "wikipedia_twinning_sections"}
    assert sum(row[1] for row in share_alike) > 1000  # pairs only the English Wikipedia lists know
    columns, open_calls = answers["calls open now or forthcoming (view open_funding_calls)"]
    assert columns[:3] == ["title", "programme", "status"]
    assert open_calls == []  # the two recorded Horizon topics closed (2025-09-17, 2026-09-02)
    _, changed = answers["what run :run_id changed, per source and step"]
    assert {row[0] for row in changed} >= {"consolidate:partnership", "wikidata_twinnings"}
    _, opened = answers["the relations run :run_id opened or closed, per domain (view run_changes)"]
    # the one run of a fresh warehouse: everything it holds is new
    assert {row[0] for row in opened} >= {"partnership", "membership", "funding_programme"}
    assert all(row[1] == "new" for row in opened)
    _, networks = answers["Köln's city networks"]
    assert {row[0] for row in networks} >= {"EUROCITIES", "Climate Alliance"}
    _, programmes = answers["programmes open to municipalities about partnerships"]
    assert any("Partnerschaftsprojekte" in row[0] for row in programmes)


@pytest.mark.postgres
def test_every_example_query_answers_the_same_on_postgresql(bundled_warehouse):
    """The bundled run's warehouse copied table by table into PostgreSQL: every view and query of
    README gives the same answer there as on SQLite (one SQL for both backends)."""
    from sqlalchemy import select

    from schemas import warehouse as W
    from tests.support import postgres_schema, postgres_url

    sqlite, run_id, _ = bundled_warehouse
    with postgres_schema() as schema:
        engine = wh.make_engine(postgres_url(schema))
        try:
            wh.create_schema(engine)
            with sqlite.connect() as source, engine.begin() as target:
                for table in W.metadata.sorted_tables:
                    rows = [dict(row) for row in source.execute(select(table)).mappings()]
                    for start in range(0, len(rows), 5000):
                        target.execute(table.insert(), rows[start:start + 5000])
            for question, sql in QUERIES.items():
                (columns, on_sqlite), (pg_columns, on_postgres) = (normalised(*answer(e, sql, run_id)) for e in (sqlite, engine))
                assert pg_columns == columns, question
                if "LIMIT" not in sql:  # ties of the ORDER BY may come in either order; a LIMIT's cut may not
                    on_sqlite, on_postgres = (sorted(rows, key=repr) for rows in (on_sqlite, on_postgres))
                assert on_postgres == on_sqlite, question
                assert on_sqlite or "open now" in question or "closing within" in question, question
        finally:
            engine.dispose()


def normalised(columns, rows):
    """Answers comparable across backends: the `sources` list in one order, numbers as floats."""
    def value(column, v):
        if column == "sources" and isinstance(v, str):
            return ",".join(sorted(v.split(",")))
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v
    return list(columns), [tuple(value(c, v) for c, v in zip(columns, row)) for row in rows]
