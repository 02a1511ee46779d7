"""Views: partnerships per Land next to the RGRE's counts; official municipalities with a
partnership, per size class

`coverage_by_land`: current partnerships with a side in each Land (a pair within one Land counts
once; a pair between two Länder in both), next to the count of the RGRE's German section as seed
002 cites it (2024). `coverage_by_size`: official municipalities (register) and how many have at
least one current partnership, by population class. Same SQL on SQLite and PostgreSQL.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

RGRE_2024 = [('Baden-Württemberg', 1252), ('Bayern', 1170), ('Nordrhein-Westfalen', 1000), ('Hessen', 769),
             ('Niedersachsen', 622), ('Rheinland-Pfalz', 527), ('Schleswig-Holstein', 265), ('Sachsen', 251),
             ('Thüringen', 210), ('Brandenburg', 153), ('Mecklenburg-Vorpommern', 137), ('Sachsen-Anhalt', 120),
             ('Saarland', 105), ('Berlin', 87), ('Bremen', 18), ('Hamburg', 8)]

COVERAGE_BY_LAND = """
CREATE VIEW coverage_by_land AS
WITH rgre(land, rgre_count) AS (VALUES {rgre}),
sides AS (
    SELECT p.partnership_key, m.region_name AS land
    FROM partnership p JOIN municipality m ON m.municipality_id = p.municipality_a_id
    WHERE p.is_current AND m.region_name IS NOT NULL
    UNION
    SELECT p.partnership_key, m.region_name
    FROM partnership p JOIN municipality m ON m.municipality_id = p.municipality_b_id
    WHERE p.is_current AND m.region_name IS NOT NULL
)
SELECT r.land, COUNT(s.partnership_key) AS partnerships, r.rgre_count
FROM rgre r LEFT JOIN sides s ON s.land = r.land
GROUP BY r.land, r.rgre_count
""".format(rgre=", ".join(f"('{land}', {count})" for land, count in RGRE_2024))

COVERAGE_BY_SIZE = """
CREATE VIEW coverage_by_size AS
WITH official AS (
    SELECT municipality_id,
           CASE WHEN population IS NULL THEN '0 unknown'
                WHEN population < 5000 THEN '1 under 5,000'
                WHEN population < 20000 THEN '2 5,000 to 20,000'
                WHEN population < 100000 THEN '3 20,000 to 100,000'
                ELSE '4 100,000 and more' END AS size_class
    FROM municipality
    WHERE match_method = 'register' AND kind = 'municipality' AND ags IS NOT NULL AND merged_into IS NULL
),
twinned AS (
    SELECT municipality_a_id AS municipality_id FROM partnership WHERE is_current
    UNION
    SELECT municipality_b_id FROM partnership WHERE is_current
)
SELECT o.size_class, COUNT(*) AS municipalities,
       SUM(CASE WHEN t.municipality_id IS NULL THEN 0 ELSE 1 END) AS with_partnership,
       ROUND(100.0 * SUM(CASE WHEN t.municipality_id IS NULL THEN 0 ELSE 1 END) / COUNT(*), 1) AS percent
FROM official o LEFT JOIN twinned t ON t.municipality_id = o.municipality_id
GROUP BY o.size_class
"""


def upgrade() -> None:
    op.execute(COVERAGE_BY_LAND)
    op.execute(COVERAGE_BY_SIZE)


def downgrade() -> None:
    op.execute("DROP VIEW coverage_by_size")
    op.execute("DROP VIEW coverage_by_land")
