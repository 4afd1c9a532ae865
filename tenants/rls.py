"""PostgreSQL row-level security: the policies migrations create, and the start-up check.

Policies read two settings made per transaction by `tenants.scoping`:
`app.campus_id` (the bound campus) and `app.all_campuses` (`on` for HQ reads).
No setting means no rows: the policies fail closed.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

# Each setting is read in a scalar sub-select, which PostgreSQL evaluates once per query (an
# InitPlan) instead of once per row: a campus count or an HQ report over thousands of rows then
# costs what it would without row-level security (`make bench`, "scoping overhead").
CAMPUS_PREDICATE = "campus_id = (SELECT NULLIF(current_setting('app.campus_id', true), '')::bigint)"
HQ_READ_PREDICATE = "(SELECT current_setting('app.all_campuses', true) = 'on')"


def enable_sql(table: str) -> list[str]:
    """Statements that put `table` under campus isolation (run by migrations, as the owner)."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY campus_isolation ON {table} USING ({CAMPUS_PREDICATE}) "
        f"WITH CHECK ({CAMPUS_PREDICATE})",
        f"CREATE POLICY hq_read ON {table} FOR SELECT USING ({HQ_READ_PREDICATE})",
    ]


def policies_sql(table: str, campus: str = CAMPUS_PREDICATE,
                 hq_read: str = HQ_READ_PREDICATE) -> list[str]:
    """Statements that give `table`'s existing policies these predicates (migrations)."""
    return [
        f"ALTER POLICY campus_isolation ON {table} USING ({campus}) WITH CHECK ({campus})",
        f"ALTER POLICY hq_read ON {table} USING ({hq_read})",
    ]


def disable_sql(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS hq_read ON {table}",
        f"DROP POLICY IF EXISTS campus_isolation ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def security_problems(connection: Connection, campus_tables: list[str]) -> list[str]:
    """What is wrong with the database role and policies for running the app; empty when safe."""
    problems: list[str] = []
    role = connection.execute(text(
        "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )).one()
    if role.rolsuper:
        problems.append(f"role {role.rolname} is a superuser")
    if role.rolbypassrls:
        problems.append(f"role {role.rolname} has BYPASSRLS")
    owned = connection.execute(text(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p') "
        "AND pg_get_userbyid(c.relowner) = current_user ORDER BY 1"
    )).scalars().all()
    if owned:
        problems.append(f"role {role.rolname} owns tables ({', '.join(owned)}); "
                        "the app role must own none")
    rows = connection.execute(text(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
        "(SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relname = ANY(:tables)"
    ), {"tables": campus_tables}).all()
    found = {row.relname: row for row in rows}
    for table in campus_tables:
        row = found.get(table)
        if row is None:
            problems.append(f"table {table} is missing (run the migrations)")
        elif not (row.relrowsecurity and row.relforcerowsecurity and row.policies >= 2):
            problems.append(f"table {table} is not under forced row-level security")
    return problems


def role_setup_sql(database: str, owner: str, app: str, owner_password: str,
                   app_password: str) -> list[str]:
    """Statements a superuser runs once: a table owner for migrations and a plain app role.

    The app role owns nothing, is neither SUPERUSER nor BYPASSRLS, and gets DML rights on
    whatever the owner creates later through default privileges.
    """
    def ident(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def literal(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    return [
        f"CREATE ROLE {ident(owner)} LOGIN PASSWORD {literal(owner_password)}",
        f"CREATE ROLE {ident(app)} LOGIN PASSWORD {literal(app_password)} "
        "NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE",
        f"GRANT CONNECT ON DATABASE {ident(database)} TO {ident(owner)}, {ident(app)}",
        f"GRANT USAGE, CREATE ON SCHEMA public TO {ident(owner)}",
        f"GRANT USAGE ON SCHEMA public TO {ident(app)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {ident(app)}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {ident(owner)} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {ident(app)}",
    ]
