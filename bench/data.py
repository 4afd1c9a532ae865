"""Bench-scale data on PostgreSQL, fast: COPY for the world, INSERT … SELECT for the ledger.

`generate_world` builds everything but the ledger (campuses, their managers and HQ, the shared
catalogue, partners, billing entities, royalty rates, MAD rates, learners with their cohorts,
applications, enrolments, certifications and outcomes); `add_entries` grows the revenue ledger to
a number of entries and rebuilds the monthly rollups from it.

Both take a psycopg 3 connection as a PostgreSQL superuser (row-level security does not apply)
on a database migrated to head. Each runs in its own transaction and commits it before returning,
whether the connection is in autocommit mode or not; in autocommit mode `add_entries` also
VACUUMs what it wrote, so that the bench measures a settled table (hint bits, visibility map).

Rows of campus-owned tables get ids reserved from their identity sequences, so the app inserts
after them without collisions. Everything is deterministic for a given scale and day.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import psycopg
from psycopg import sql

from core.auth.passwords import hash_password
from core.catalogue.demo import CERTIFICATIONS, COURSES, TRACKS

MONTHS = 36  # three years of ledger, ending with the current month
PASSWORD = "bench-password-2026"  # noqa: S105  (throwaway bench users, printed by the bench)
HQ_EMAIL = "hq@bench.campusflow.test"
LEARNERS_PER_COHORT = 20
ENTRIES_PER_STATEMENT = 1_000_000  # one INSERT … SELECT per million entries
# Every tenth campus, from the third, is Moroccan: ledgered in dirhams, paid by hand.
MAD_EVERY, MAD_FROM = 10, 3

# city, country, timezone, locale
EUR_CITIES = (
    ("Brussels", "BE", "Europe/Brussels", "fr_BE"),
    ("Antwerp", "BE", "Europe/Brussels", "nl_BE"),
    ("Amsterdam", "NL", "Europe/Amsterdam", "nl_NL"),
    ("Padua", "IT", "Europe/Rome", "it_IT"),
    ("Charleroi", "BE", "Europe/Brussels", "fr_BE"),
    ("Rotterdam", "NL", "Europe/Amsterdam", "nl_NL"),
    ("Milan", "IT", "Europe/Rome", "it_IT"),
    ("Ghent", "BE", "Europe/Brussels", "nl_BE"),
    ("Utrecht", "NL", "Europe/Amsterdam", "nl_NL"),
    ("Turin", "IT", "Europe/Rome", "it_IT"),
    ("Liège", "BE", "Europe/Brussels", "fr_BE"),
    ("Eindhoven", "NL", "Europe/Amsterdam", "nl_NL"),
    ("Bologna", "IT", "Europe/Rome", "it_IT"),
    ("Namur", "BE", "Europe/Brussels", "fr_BE"),
    ("The Hague", "NL", "Europe/Amsterdam", "nl_NL"),
)
MAD_CITIES = (("Casablanca", "MA"), ("Rabat", "MA"), ("Marrakesh", "MA"), ("Tangier", "MA"),
              ("Fes", "MA"))
PHONE_PREFIX = {"BE": "+32 470", "NL": "+31 6", "IT": "+39 347", "MA": "+212 661"}
VAT_RATE = {"BE": Decimal("21"), "NL": Decimal("21"), "IT": Decimal("22"), "MA": Decimal("20")}
PARTNERS = (("microsoft", "Microsoft", "IE", "One Microsoft Place, Dublin 18"),
            ("google", "Google", "IE", "Gordon House, Barrow Street, Dublin 4"),
            ("aws", "Amazon Web Services", "LU", "38 Avenue John F. Kennedy, Luxembourg"),
            ("proximus", "Proximus", "BE", "Boulevard du Roi Albert II 27, Brussels"))
ROYALTY_RATES = (("training", Decimal("5")), ("coworking", Decimal("3")),
                 ("events", Decimal("3")))
FIRST_NAMES = ("Amina", "Youssef", "Lotte", "Thomas", "Giulia", "Marco", "Sara", "Karim", "Emma",
               "Noah", "Fatima", "Lucas", "Ines", "Bram", "Chiara", "Omar", "Nadia", "Jonas",
               "Elif", "Mehdi", "Sofia", "Daan", "Aya", "Luca")
LAST_NAMES = ("El Amrani", "Peeters", "Janssens", "De Vries", "Rossi", "Benali", "Dubois",
              "Bakker", "Ferrari", "Haddad", "Maes", "Visser", "Yilmaz", "Romano", "Mertens",
              "Bouzid", "Smit", "Conti")
EMPLOYERS = (("Proximus", "Telecom"), ("Accenture", "Consulting"), ("ING", "Banking"),
             ("Deloitte", "Consulting"), ("Orange", "Telecom"), ("bol.com", "Retail"),
             ("Intesa Sanpaolo", "Banking"), ("OCP Group", "Industry"))
OUTCOME_KINDS = ("employed", "employed", "employed", "internship", "further_education",
                 "employed", "internship", "started_business", "employed", "further_education")
SCHEDULES = ("Mon-Fri 9:00-16:00", "Mon-Thu 9:30-16:30", "Evenings Tue/Thu 18:00-21:00")
MOTIVATIONS = ("I want to change careers and work in tech.",
               "I taught myself a little and want a real foundation.",
               "I am looking for a job and this field is hiring.")


@dataclass(frozen=True)
class Scale:
    """How much to generate; the default is the bench scale of DESIGN.md."""

    campuses: int = 50
    learners: int = 100_000
    entries: int = 1_000_000

    def __post_init__(self) -> None:
        if not 1 <= self.campuses <= 999:
            raise ValueError("campuses: from 1 to 999")
        if self.learners < self.campuses:
            raise ValueError("learners: at least one per campus")
        if self.entries < 0:
            raise ValueError("entries: not negative")

    def divided(self, factor: int) -> Scale:
        """Learners and entries divided by `factor` (at least one learner per campus); the
        number of campuses is kept, so reports keep their shape (campus, month, stream)."""
        if factor < 1:
            raise ValueError("factor: at least 1")
        return replace(self, learners=max(self.campuses, self.learners // factor),
                       entries=self.entries // factor)


@dataclass(frozen=True)
class BenchWorld:
    """What `generate_world` made and what the bench needs to sign in and to size requests.

    Managers sign in at `http://<slug>.<domain>/login`, HQ at `http://hq.<domain>/login`, all
    with `password`. The ledger covers the months `first_month` to `last_month` (first days).
    """

    campus_slugs: list[str]  # the first one is the "measured" campus
    manager_email: dict[str, str]
    hq_email: str
    password: str
    first_month: date
    last_month: date


@dataclass(frozen=True)
class _CampusPlan:
    number: int  # 1-based
    slug: str
    name: str
    city: str
    country: str
    currency: str
    timezone: str
    locale: str
    learners: int


@dataclass(frozen=True)
class _Course:
    id: int
    hours: int
    certification_ids: tuple[int, ...]


def manager_email(slug: str) -> str:
    return f"manager@{slug}.bench.campusflow.test"


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def _finish(conn: psycopg.Connection) -> None:
    if not conn.autocommit:
        conn.commit()


# ---- the world --------------------------------------------------------------------------------


def generate_world(conn: psycopg.Connection, scale: Scale) -> BenchWorld:
    """Everything but the ledger, for `scale`, on an empty migrated database (committed).

    Campuses `campus-01` … (every tenth from the third in MAD, Africa/Casablanca; the rest in
    EUR), an HQ admin and one active manager per campus sharing `PASSWORD`, the shared catalogue
    (the demo's tracks, courses and certifications), four partners, billing entities (HQ and
    one per campus), royalty rates, a MAD rate on the first of every month of the period, then
    per campus its learners (even-ish shares) with one cohort per 20 learners over the period
    and the next months, an admitted application and an enrolment per learner, half as many
    applications that were not admitted, certifications and outcomes of graduates.

    Raises RuntimeError when the database already holds bench campuses.
    """
    now = datetime.now(UTC)
    last_month = now.date().replace(day=1)
    first_month = add_months(last_month, -(MONTHS - 1))
    plans = _campus_plans(scale)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT slug FROM campuses WHERE slug = ANY(%s)", ([p.slug for p in plans],))
        if taken := [row[0] for row in cur.fetchall()]:
            raise RuntimeError(f"bench campuses already exist ({', '.join(taken[:3])}…): "
                               "generate the world on a freshly migrated database")
        partner_ids = _insert_partners(cur, now)
        courses = _insert_catalogue(cur, now)
        campus_ids = _insert_campuses(cur, plans, first_month, now)
        _insert_users(cur, plans, campus_ids, now)
        _insert_billing_setup(cur, plans, campus_ids, now)
        _insert_rates(cur, add_months(first_month, -1), last_month, now)
        _insert_campus_life(cur, plans, campus_ids, courses, partner_ids,
                            (add_months(first_month, -4), add_months(last_month, 5)), now)
        cur.execute("ANALYZE")
    _finish(conn)
    return BenchWorld(
        campus_slugs=[p.slug for p in plans],
        manager_email={p.slug: manager_email(p.slug) for p in plans},
        hq_email=HQ_EMAIL, password=PASSWORD, first_month=first_month, last_month=last_month)


def _campus_plans(scale: Scale) -> list[_CampusPlan]:
    width = max(2, len(str(scale.campuses)))
    # Even-ish shares of learners: weights between 0.8 and 1.2, none special.
    weights = [0.8 + 0.4 * ((n * 0.6180339887) % 1) for n in range(1, scale.campuses + 1)]
    shares = _apportion(scale.learners, weights)
    plans, seen = [], {}
    for n in range(1, scale.campuses + 1):
        if n % MAD_EVERY == MAD_FROM:
            city, country = MAD_CITIES[(n // MAD_EVERY) % len(MAD_CITIES)]
            currency, timezone, locale = "MAD", "Africa/Casablanca", "fr_MA"
        else:
            city, country, timezone, locale = EUR_CITIES[(n - 1) % len(EUR_CITIES)]
            currency = "EUR"
        seen[city] = seen.get(city, 0) + 1
        name = city if seen[city] == 1 else f"{city} {seen[city]}"
        plans.append(_CampusPlan(n, f"campus-{n:0{width}d}", name, city, country, currency,
                                 timezone, locale, shares[n - 1]))
    return plans


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights` (largest remainders), at least 1 each."""
    rest = total - len(weights)
    exact = [rest * w / sum(weights) for w in weights]
    counts = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: counts[i] - exact[i])
    for i in order[:rest - sum(counts)]:
        counts[i] += 1
    return [c + 1 for c in counts]


def _insert_partners(cur: psycopg.Cursor, now: datetime) -> list[int]:
    cur.executemany(
        "INSERT INTO partners (slug, name, country, address, created_at) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (slug) DO NOTHING",
        [(*partner, now) for partner in PARTNERS])
    cur.execute("SELECT id FROM partners WHERE slug = ANY(%s) ORDER BY slug",
                ([p[0] for p in PARTNERS],))
    return [row[0] for row in cur.fetchall()]


def _insert_catalogue(cur: psycopg.Cursor, now: datetime) -> list[_Course]:
    """The demo catalogue, reusing whatever of it is already there."""
    cur.executemany("INSERT INTO tracks (slug, name, created_at) VALUES (%s, %s, %s) "
                    "ON CONFLICT (slug) DO NOTHING", [(*track, now) for track in TRACKS])
    cur.executemany("INSERT INTO certifications (issuer, exam_code, name, created_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (exam_code) DO NOTHING",
                    [(*certification, now) for certification in CERTIFICATIONS])
    cur.executemany(
        "INSERT INTO courses (code, track_id, hours, level, title_en, title_fr, title_nl, "
        "title_it, description_en, created_at, updated_at) "
        "SELECT %s, id, %s, %s, %s, %s, %s, %s, %s, %s, %s FROM tracks WHERE slug = %s "
        "ON CONFLICT (code) DO NOTHING",
        [(code, hours, level.value, *titles, description, now, now, track)
         for code, track, hours, level, _certs, titles, description in COURSES])
    cur.executemany(
        "INSERT INTO course_certifications (course_id, certification_id) "
        "SELECT c.id, x.id FROM courses c, certifications x WHERE c.code = %s "
        "AND x.exam_code = %s ON CONFLICT DO NOTHING",
        [(code, exam) for code, _t, _h, _l, certs, _ti, _d in COURSES for exam in certs])
    cur.execute(
        "SELECT c.id, c.hours, coalesce(array_agg(cc.certification_id ORDER BY "
        "cc.certification_id) FILTER (WHERE cc.certification_id IS NOT NULL), '{}') "
        "FROM courses c LEFT JOIN course_certifications cc ON cc.course_id = c.id "
        "WHERE c.code = ANY(%s) GROUP BY c.id ORDER BY c.code", ([c[0] for c in COURSES],))
    return [_Course(id_, hours, tuple(certs)) for id_, hours, certs in cur.fetchall()]


def _insert_campuses(cur: psycopg.Cursor, plans: list[_CampusPlan], first_month: date,
                     now: datetime) -> list[int]:
    opened_on = add_months(first_month, -12)
    cur.executemany(
        "INSERT INTO campuses (slug, name, city, country, currency, timezone, default_locale, "
        "status, opened_on, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, 'open', %s, %s)",
        [(p.slug, p.name, p.city, p.country, p.currency, p.timezone, p.locale, opened_on, now)
         for p in plans])
    cur.execute("SELECT slug, id FROM campuses WHERE slug = ANY(%s)", ([p.slug for p in plans],))
    ids = dict(cur.fetchall())
    return [ids[p.slug] for p in plans]


def _insert_users(cur: psycopg.Cursor, plans: list[_CampusPlan], campus_ids: list[int],
                  now: datetime) -> None:
    """HQ and one manager per campus, all with the same Argon2 hash of `PASSWORD`."""
    password_hash = hash_password(PASSWORD)
    rows = [(HQ_EMAIL, "Bench HQ admin", "hq_admin", None)]
    rows += [(manager_email(p.slug), f"{p.name} manager", "campus_manager", campus_id)
             for p, campus_id in zip(plans, campus_ids, strict=True)]
    cur.executemany(
        "INSERT INTO users (email, full_name, password_hash, role, campus_id, is_active, "
        "created_at) VALUES (%s, %s, %s, %s, %s, true, %s)",
        [(*row[:2], password_hash, *row[2:], now) for row in rows])


def _insert_billing_setup(cur: psycopg.Cursor, plans: list[_CampusPlan], campus_ids: list[int],
                          now: datetime) -> None:
    """HQ's entity (if missing), one entity per campus, royalty rates: what billing pages read
    (and would otherwise create on a GET)."""
    cur.execute(
        "INSERT INTO billing_entities (campus_id, code, legal_name, address, country, vat_rate, "
        "iban, bic, payment_provider, payment_terms_days, created_at) "
        "SELECT NULL, 'HQ', 'Campusflow HQ SRL', 'Brussels', 'BE', 21, '', '', 'stripe', 30, %s "
        "WHERE NOT EXISTS (SELECT 1 FROM billing_entities WHERE campus_id IS NULL) "
        "ON CONFLICT (code) DO NOTHING", (now,))
    cur.executemany(
        "INSERT INTO billing_entities (campus_id, code, legal_name, address, country, vat_rate, "
        "iban, bic, payment_provider, payment_terms_days, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, '', '', %s, 30, %s)",
        [(campus_id, f"B{p.number:03d}", f"Campusflow {p.name}", p.city, p.country,
          VAT_RATE[p.country], "manual" if p.currency == "MAD" else "stripe", now)
         for p, campus_id in zip(plans, campus_ids, strict=True)])
    cur.executemany(
        "INSERT INTO royalty_rates (campus_id, stream, rate, updated_at) VALUES (%s, %s, %s, %s)",
        [(campus_id, stream, rate, now) for campus_id in campus_ids
         for stream, rate in ROYALTY_RATES])


def mad_rate(month_index: int) -> Decimal:
    """MAD per EUR in month `month_index` of the period: around 10.8, drifting a little."""
    return Decimal("10.70") + Decimal((month_index * 7) % 23) / 100


def _insert_rates(cur: psycopg.Cursor, first: date, last: date, now: datetime) -> None:
    months, month = [], first
    while month <= last:
        months.append(month)
        month = add_months(month, 1)
    cur.executemany(
        "INSERT INTO fx_rates (day, currency, rate, created_at) VALUES (%s, 'MAD', %s, %s) "
        "ON CONFLICT (currency, day) DO NOTHING",
        [(month, mad_rate(i), now) for i, month in enumerate(months)])


def _reserve_ids(cur: psycopg.Cursor, table: str, count: int) -> int:
    """The first of `count` consecutive ids taken from `table`'s identity sequence, which then
    continues after them (the app's next insert gets a fresh id)."""
    cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", (table,))
    first = cur.fetchone()[0]
    if count > 1:
        cur.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)",
                    (table, first + count - 1))
    return first


def _copy(cur: psycopg.Cursor, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns)))
    with cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


@dataclass
class _Life:
    """Rows of the campus-owned tables, accumulated campus by campus, then copied."""

    now: datetime
    today: date
    next_ids: dict[str, int]
    cohorts: list[tuple] = field(default_factory=list)
    learners: list[tuple] = field(default_factory=list)
    applications: list[tuple] = field(default_factory=list)
    enrolments: list[tuple] = field(default_factory=list)
    awards: list[tuple] = field(default_factory=list)  # without their ids, given at the end
    outcomes: list[tuple] = field(default_factory=list)  # likewise

    def take_id(self, table: str) -> int:
        self.next_ids[table] += 1
        return self.next_ids[table] - 1


@dataclass(frozen=True)
class _Cohort:
    id: int
    course: _Course
    starts_on: date
    ends_on: date
    status: str


COLUMNS = {
    "cohorts": ("campus_id", "id", "course_id", "starts_on", "ends_on", "schedule", "seats",
                "language", "price_minor", "currency", "funding", "sponsor_id", "status",
                "created_at", "updated_at"),
    "learners": ("campus_id", "id", "full_name", "email", "phone", "consent_given_at",
                 "created_at", "updated_at"),
    "applications": ("campus_id", "id", "cohort_id", "learner_id", "full_name", "email", "phone",
                     "motivation", "consent_given_at", "status", "decision_reason", "notes",
                     "score", "submitted_at", "decided_at", "waitlisted_at"),
    "enrolments": ("campus_id", "id", "cohort_id", "learner_id", "application_id", "status",
                   "attendance_percent", "enrolled_at", "completed_on", "dropped_at"),
    "certification_awards": ("campus_id", "id", "learner_id", "certification_id", "awarded_on",
                             "credential_url", "created_at"),
    "outcomes": ("campus_id", "id", "learner_id", "kind", "employer", "sector", "occurred_on",
                 "notes", "created_at"),
}


def _insert_campus_life(cur: psycopg.Cursor, plans: list[_CampusPlan], campus_ids: list[int],
                        courses: list[_Course], partner_ids: list[int],
                        span: tuple[date, date], now: datetime) -> None:
    cohort_counts = [max(1, math.ceil(p.learners / LEARNERS_PER_COHORT)) for p in plans]
    learners = sum(p.learners for p in plans)
    applications = learners + sum(p.learners // 2 for p in plans)
    next_ids = {
        "cohorts": _reserve_ids(cur, "cohorts", sum(cohort_counts)),
        "learners": _reserve_ids(cur, "learners", learners),
        "applications": _reserve_ids(cur, "applications", applications),
        "enrolments": _reserve_ids(cur, "enrolments", learners),
    }
    life = _Life(now, now.date(), next_ids)
    for plan, campus_id, cohort_count in zip(plans, campus_ids, cohort_counts, strict=True):
        cohorts = _plan_cohorts(life, plan, campus_id, cohort_count, courses, partner_ids, span)
        _campus_people(life, plan, campus_id, cohorts)
    _copy(cur, "cohorts", COLUMNS["cohorts"], life.cohorts)
    _copy(cur, "learners", COLUMNS["learners"], life.learners)
    _copy(cur, "applications", COLUMNS["applications"], life.applications)
    _copy(cur, "enrolments", COLUMNS["enrolments"], life.enrolments)
    for table, rows in (("certification_awards", life.awards), ("outcomes", life.outcomes)):
        if rows:
            first = _reserve_ids(cur, table, len(rows))
            _copy(cur, table, COLUMNS[table],
                  ((row[0], first + i, *row[1:]) for i, row in enumerate(rows)))


def _plan_cohorts(life: _Life, plan: _CampusPlan, campus_id: int, count: int,
                  courses: list[_Course], partner_ids: list[int], span: tuple[date, date]
                  ) -> list[_Cohort]:
    """`count` cohorts starting evenly from `span[0]` to `span[1]`, at least one of them still
    to come; status from the dates (finished, running, open for those to come)."""
    past_days, future_days = (life.today - span[0]).days, (span[1] - life.today).days
    upcoming = min(count, max(1, round(count * future_days / (past_days + future_days))))
    cohorts = []
    for k in range(count):
        course = courses[(k + plan.number) % len(courses)]
        if k < count - upcoming:
            offset = k * past_days // (count - upcoming)
        else:
            offset = past_days + 7 + (k - count + upcoming) * (future_days - 7) // upcoming
        starts_on = span[0] + timedelta(days=offset + (plan.number * 3) % 7)
        ends_on = starts_on + timedelta(days=math.ceil(course.hours / 30 * 7))
        status = ("open" if starts_on > life.today else
                  "running" if ends_on >= life.today else "finished")
        funding = ("free", "free", "paid", "paid", "sponsored")[k % 5]
        price = (150_000 if plan.currency == "EUR" else 1_500_000) if funding == "paid" else 0
        sponsor = partner_ids[k % len(partner_ids)] if funding == "sponsored" else None
        created = min(_at(starts_on - timedelta(days=90)), life.now)
        cohort = _Cohort(life.take_id("cohorts"), course, starts_on, ends_on, status)
        life.cohorts.append((
            campus_id, cohort.id, course.id, starts_on, ends_on, SCHEDULES[k % len(SCHEDULES)],
            LEARNERS_PER_COHORT + k % 5, plan.locale[:2], price, plan.currency, funding, sponsor,
            status, created, created))
        cohorts.append(cohort)
    return cohorts


def _campus_people(life: _Life, plan: _CampusPlan, campus_id: int, cohorts: list[_Cohort]
                   ) -> None:
    """The campus's learners, each admitted to and enrolled in one cohort (in order), and the
    applicants who were not (yet) admitted."""
    for j in range(plan.learners):
        cohort = cohorts[j * len(cohorts) // plan.learners]
        _learner(life, plan, campus_id, cohort, j)
    extras = plan.learners // 2
    for e in range(extras):
        cohort = cohorts[e * len(cohorts) // extras]
        _other_application(life, plan, campus_id, cohort, e)


def _person(number: int) -> tuple[str, str]:
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    last = LAST_NAMES[(number // len(FIRST_NAMES)) % len(LAST_NAMES)]
    return f"{first} {last}", f"{first}.{last}".lower().replace(" ", "")


def _learner(life: _Life, plan: _CampusPlan, campus_id: int, cohort: _Cohort, j: int) -> None:
    learner_id, application_id = life.take_id("learners"), life.take_id("applications")
    name, handle = _person(learner_id)
    email = f"{handle}.{learner_id}@learners.bench.test"
    phone = f"{PHONE_PREFIX[plan.country]} {learner_id % 1_000_000:06d}"
    decided_at = min(_at(cohort.starts_on - timedelta(days=14 + j % 10)),
                     life.now - timedelta(hours=1 + j % 48))
    submitted_at = decided_at - timedelta(days=7 + j % 21)
    life.learners.append((campus_id, learner_id, name, email, phone, submitted_at, decided_at,
                          decided_at))
    life.applications.append((
        campus_id, application_id, cohort.id, learner_id, name, email, phone,
        MOTIVATIONS[j % len(MOTIVATIONS)], submitted_at, "admitted", None, "", 60 + j % 41,
        submitted_at, decided_at, None))
    status, attendance, completed_on, dropped_at = "enrolled", None, None, None
    roll = (learner_id * 37) % 100
    if cohort.status == "finished":
        if roll < 12:
            status, attendance = "dropped", 20 + roll * 3
            dropped_at = _at(cohort.starts_on + timedelta(days=20 + roll))
        else:
            status, attendance, completed_on = "completed", 75 + roll % 26, cohort.ends_on
    elif cohort.status == "running":
        attendance = 80 + roll % 21
        if roll < 5:
            status = "dropped"
            dropped_at = min(_at(cohort.starts_on + timedelta(days=10)), life.now)
    life.enrolments.append((campus_id, life.take_id("enrolments"), cohort.id, learner_id,
                            application_id, status, attendance, decided_at, completed_on,
                            dropped_at))
    if status == "completed":
        _graduate(life, campus_id, cohort, learner_id, roll)


def _graduate(life: _Life, campus_id: int, cohort: _Cohort, learner_id: int, roll: int) -> None:
    """Certifications for most graduates of certifying courses, an outcome for half of them."""
    certifications = cohort.course.certification_ids
    awarded_on = cohort.ends_on + timedelta(days=21 + roll % 30)
    if certifications and roll % 5 < 3 and awarded_on <= life.today:
        life.awards.append((campus_id, learner_id, certifications[roll % len(certifications)],
                            awarded_on, None, _at(awarded_on)))
    occurred_on = cohort.ends_on + timedelta(days=30 + roll)
    if roll % 2 == 0 and occurred_on <= life.today:
        kind = OUTCOME_KINDS[roll % len(OUTCOME_KINDS)]
        employer, sector = (EMPLOYERS[roll % len(EMPLOYERS)] if kind != "further_education"
                            else (None, None))
        life.outcomes.append((campus_id, learner_id, kind, employer, sector, occurred_on, "",
                              _at(occurred_on)))


def _other_application(life: _Life, plan: _CampusPlan, campus_id: int, cohort: _Cohort,
                       e: int) -> None:
    """An applicant who is not a learner: waiting for a cohort to come, or turned down."""
    application_id = life.take_id("applications")
    name, handle = _person(application_id + 7)
    email = f"{handle}.a{application_id}@applicants.bench.test"
    if cohort.status == "open":
        status = ("submitted", "submitted", "interview", "waitlisted")[e % 4]
    else:
        status = ("rejected", "rejected", "withdrawn")[e % 3]
    submitted_at = min(_at(cohort.starts_on - timedelta(days=30 + e % 30)),
                       life.now - timedelta(days=2 + e % 5))
    decided_at = (submitted_at + timedelta(days=1 + e % 6)
                  if status in ("waitlisted", "rejected", "withdrawn") else None)
    life.applications.append((
        campus_id, application_id, cohort.id, None, name, email, None,
        MOTIVATIONS[e % len(MOTIVATIONS)], submitted_at, status,
        "The cohort was full." if status == "rejected" else None, "",
        40 + e % 50 if status in ("interview", "rejected", "waitlisted") else None,
        submitted_at, decided_at, decided_at if status == "waitlisted" else None))


# ---- the ledger -------------------------------------------------------------------------------

# stream, share (percent), smallest amount and spread in EUR cents, source at a Stripe campus,
# memo. Amounts in other currencies are these at the month's rate.
STREAMS = (
    ("training", 45, 5_000, 145_000, "payment", "Course fees"),  # 50 to 1,500 EUR
    ("coworking", 25, 1_500, 23_500, "payment", "Coworking membership"),  # 15 to 250
    ("events", 12, 1_000, 5_000, "payment", "Event tickets"),  # 10 to 60
    ("sponsorship", 10, 50_000, 450_000, "invoice", "Programme sponsorship"),  # 500 to 5,000
    ("other", 8, 500, 49_500, "manual", "Room rental"),  # 5 to 500
)
REFUND_ONE_IN = 50  # 2 % of entries are refunds (negative amounts)

# One statement per chunk of entry numbers [lo, hi]: entry n is drawn from hashes of n (campus,
# day, stream, amount, refund), valued at the rate of its day (`rate`: the latest rate on or before
# it, as `rate_for` finds it) and converted to EUR cents rounding half to even as `to_eur_minor`
# does. Rows go in campus by campus, so that each campus's index entries stay together.
INSERT_ENTRIES = """
WITH campus AS MATERIALIZED (
    SELECT (c.ord - 1)::int AS idx, c.id, c.currency
    FROM unnest(%(campus_ids)s::bigint[], %(currencies)s::text[]) WITH ORDINALITY
         AS c(id, currency, ord)
), rate AS MATERIALIZED (
    SELECT * FROM unnest(%(rate_day_idx)s::int[], %(rate_day)s::date[], %(rate_currency)s::text[],
                         %(rate_value)s::numeric[]) AS r(day_idx, day, currency, value)
), stream AS MATERIALIZED (
    SELECT * FROM unnest(%(stream_roll)s::int[], %(stream_name)s::text[],
                         %(stream_min)s::bigint[], %(stream_spread)s::bigint[],
                         %(stream_source)s::text[], %(stream_memo)s::text[])
                  AS s(roll, name, min_eur, spread, source, memo)
), drawn AS (
    SELECT n,
           abs(mod(hashint8extended(n, 1), %(campus_count)s)) AS campus_idx,
           abs(mod(hashint8extended(n, 2), %(day_count)s)) AS day_idx,
           abs(mod(hashint8extended(n, 3), 100)) AS stream_roll,
           abs(mod(hashint8extended(n, 4), 1000000007)) AS amount_roll,
           mod(hashint8extended(n, 5), %(refund_one_in)s) = 0 AS refund,
           abs(mod(hashint8extended(n, 6), 36000)) AS second_of_day
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS n
), valued AS (
    SELECT x.n, c.id AS campus_id, c.currency, r.day, s.name AS stream, r.value AS rate,
           CASE WHEN c.currency = 'EUR' THEN s.source ELSE 'manual' END AS source,
           CASE WHEN x.refund THEN 'Refund: ' || s.memo ELSE s.memo END AS memo,
           (CASE WHEN x.refund THEN -1 ELSE 1 END)
             * round((s.min_eur + mod(x.amount_roll, s.spread)) * r.value)::bigint AS amount,
           x.second_of_day
    FROM drawn x
    JOIN campus c ON c.idx = x.campus_idx
    JOIN rate r ON r.day_idx = x.day_idx AND r.currency = c.currency
    JOIN stream s ON s.roll = x.stream_roll
)
INSERT INTO revenue_entries (campus_id, occurred_on, stream, amount_minor, currency, fx_rate,
                             amount_eur_minor, source, source_key, memo, created_at)
SELECT campus_id, day, stream, amount, currency, rate,
       CASE WHEN currency = 'EUR' THEN amount
            WHEN abs(eur - trunc(eur)) = 0.5 THEN (2 * round(eur / 2))::bigint
            ELSE round(eur)::bigint END,
       source, 'bench:' || lpad(n::text, 10, '0'), memo,
       (day + time '08:00' + make_interval(secs => second_of_day)) AT TIME ZONE 'UTC'
FROM valued CROSS JOIN LATERAL (SELECT amount::numeric / rate AS eur) AS converted
ORDER BY campus_id, n
"""

DAY_RATES = """
SELECT d.ord - 1, d.day, c.currency,
       (SELECT r.rate FROM fx_rates r WHERE r.currency = c.currency AND r.day <= d.day
        ORDER BY r.day DESC LIMIT 1)
FROM unnest(%(days)s::date[]) WITH ORDINALITY AS d(day, ord)
CROSS JOIN unnest(%(currencies)s::text[]) AS c(currency)
"""

REBUILD_ROLLUPS = """
INSERT INTO revenue_rollups (campus_id, month, stream, currency, amount_minor, amount_eur_minor,
                             entry_count)
SELECT campus_id, date_trunc('month', occurred_on)::date, stream, currency,
       sum(amount_minor), sum(amount_eur_minor), count(*)
FROM revenue_entries
GROUP BY campus_id, date_trunc('month', occurred_on)::date, stream, currency
"""


def _ledger_days(world: BenchWorld) -> list[date]:
    """Every day of the world's months, up to today."""
    today, days, month = datetime.now(UTC).date(), [], world.first_month
    while month <= world.last_month:
        length = calendar.monthrange(month.year, month.month)[1]
        days += [d for d in (month.replace(day=i) for i in range(1, length + 1)) if d <= today]
        month = add_months(month, 1)
    return days


def _day_rates(cur: psycopg.Cursor, days: list[date], currencies: set[str]) -> dict[str, list]:
    """Columns of (day index, day, currency, rate) for every day and currency (EUR at 1).

    Raises RuntimeError when a currency has no rate on or before one of the days.
    """
    rows = [(i, day, "EUR", Decimal(1)) for i, day in enumerate(days)] if "EUR" in currencies \
        else []
    cur.execute(DAY_RATES, {"days": days, "currencies": sorted(currencies - {"EUR"})})
    for day_idx, day, currency, rate in cur.fetchall():
        if rate is None:
            raise RuntimeError(f"no {currency} rate on or before {day}: run generate_world")
        rows.append((day_idx, day, currency, rate))
    names = ("rate_day_idx", "rate_day", "rate_currency", "rate_value")
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def _stream_columns() -> dict[str, list]:
    """The stream of each roll from 0 to 99, by the streams' shares, with its amounts."""
    rows, roll = [], 0
    for name, share, smallest, spread, source, memo in STREAMS:
        rows += [(r, name, smallest, spread, source, memo) for r in range(roll, roll + share)]
        roll += share
    names = ("stream_roll", "stream_name", "stream_min", "stream_spread", "stream_source",
             "stream_memo")
    return {name: [row[i] for row in rows] for i, name in enumerate(names)}


def add_entries(conn: psycopg.Connection, world: BenchWorld, upto: int) -> int:
    """Grow the ledger to `upto` entries in all and rebuild the rollups from it (committed).

    Adds only the missing entries (none when there are already `upto`), spread evenly over the
    world's campuses and every day of its months, over the streams (training most, then
    coworking, events, sponsorship, other), 2 % of them refunds, each in its campus's currency
    at the rate of its day, with the source key `bench:<number>`. Then `revenue_rollups` is
    rewritten as the sums of all entries per campus, month, stream and currency, as the app
    keeps them. Returns how many entries it added.

    Raises RuntimeError when a campus of the world or a rate it needs is missing.
    """
    with conn.transaction(), conn.cursor() as cur:
        # Sorts of a million rows in memory; compiling this one-off query costs more than it saves.
        cur.execute("SET LOCAL work_mem = '512MB'")
        cur.execute("SET LOCAL jit = off")
        cur.execute("SELECT count(*) FROM revenue_entries")
        existing = cur.fetchone()[0]
        cur.execute("SELECT slug, id, currency FROM campuses WHERE slug = ANY(%s)",
                    (world.campus_slugs,))
        campuses = {slug: (id_, currency) for slug, id_, currency in cur.fetchall()}
        if missing := [s for s in world.campus_slugs if s not in campuses]:
            raise RuntimeError(f"no campus {missing[0]}: run generate_world first")
        days = _ledger_days(world)
        params = {
            "campus_ids": [campuses[s][0] for s in world.campus_slugs],
            "currencies": [campuses[s][1] for s in world.campus_slugs],
            "campus_count": len(world.campus_slugs), "day_count": len(days),
            "refund_one_in": REFUND_ONE_IN, **_stream_columns(),
            **_day_rates(cur, days, {currency for _id, currency in campuses.values()}),
        }
        for lo in range(existing, upto, ENTRIES_PER_STATEMENT):
            hi = min(lo + ENTRIES_PER_STATEMENT, upto) - 1
            cur.execute(INSERT_ENTRIES, {**params, "lo": lo, "hi": hi})
        cur.execute("DELETE FROM revenue_rollups")
        cur.execute(REBUILD_ROLLUPS)
    if conn.autocommit:
        conn.execute("VACUUM (ANALYZE) revenue_entries, revenue_rollups")
    else:
        conn.execute("ANALYZE revenue_entries, revenue_rollups")
        conn.commit()
    return max(0, upto - existing)
