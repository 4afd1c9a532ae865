"""Demo catalogue: five tracks, their courses in four languages, and the certifications."""

from __future__ import annotations

from sqlalchemy import select

from core.catalogue.models import Certification, Course, CourseLevel, Track
from core.extensions import db

TRACKS = (
    ("cybersecurity", "Cybersecurity"),
    ("web-development", "Web development"),
    ("data-ai", "Data & AI"),
    ("digital-marketing", "Digital marketing"),
    ("audiovisual", "Audiovisual"),
)

CERTIFICATIONS = (
    ("Microsoft", "SC-900", "Security, Compliance, and Identity Fundamentals"),
    ("Microsoft", "AZ-900", "Azure Fundamentals"),
    ("Microsoft", "SC-200", "Security Operations Analyst Associate"),
    ("Microsoft", "PL-300", "Power BI Data Analyst Associate"),
    ("Microsoft", "AI-900", "Azure AI Fundamentals"),
    ("AWS", "CLF-C02", "AWS Certified Cloud Practitioner"),
    ("Google", "GA4", "Google Analytics Certification"),
    ("Google", "GADS-S", "Google Ads Search Certification"),
)

# code, track, hours, level, certifications, titles (en, fr, nl, it), English description
COURSES = (
    ("CYB-101", "cybersecurity", 520, CourseLevel.BEGINNER, ("SC-900", "AZ-900", "SC-200"),
     ("Cybersecurity analyst (SOC)", "Analyste en cybersécurité (SOC)",
      "Cybersecurity-analist (SOC)", "Analista di cybersecurity (SOC)"),
     "Networks, Linux, Microsoft security tooling and a security operations centre internship."),
    ("CYB-110", "cybersecurity", 160, CourseLevel.BEGINNER, ("SC-900", "AZ-900"),
     ("Cloud security fundamentals", "Fondamentaux de la sécurité du cloud",
      "Basis van cloudbeveiliging", "Fondamenti di sicurezza cloud"),
     "Identity, access and the shared-responsibility model on Azure."),
    ("WEB-101", "web-development", 700, CourseLevel.BEGINNER, (),
     ("Full-stack web developer", "Développeur web full-stack", "Full-stack webontwikkelaar",
      "Sviluppatore web full-stack"),
     "HTML, CSS, JavaScript, React and a back end, built project by project."),
    ("WEB-120", "web-development", 300, CourseLevel.INTERMEDIATE, (),
     ("Front-end with React", "Front-end avec React", "Front-end met React",
      "Front-end con React"),
     "Components, state, testing and accessibility for working developers."),
    ("DAT-101", "data-ai", 480, CourseLevel.BEGINNER, ("PL-300",),
     ("Data analyst", "Analyste de données", "Data-analist", "Analista di dati"),
     "Spreadsheets, SQL, Python and Power BI dashboards."),
    ("DAT-130", "data-ai", 120, CourseLevel.BEGINNER, ("AI-900", "CLF-C02"),
     ("AI and cloud foundations", "Fondamentaux de l'IA et du cloud",
      "Basis van AI en cloud", "Fondamenti di IA e cloud"),
     "What machine learning can and cannot do, and the cloud it runs on."),
    ("MKT-101", "digital-marketing", 400, CourseLevel.BEGINNER, ("GA4", "GADS-S"),
     ("Digital marketer", "Marketeur digital", "Digitale marketeer", "Digital marketer"),
     "Content, social media, search advertising and analytics."),
    ("AVP-101", "audiovisual", 350, CourseLevel.BEGINNER, (),
     ("Video production and editing", "Production et montage vidéo",
      "Videoproductie en montage", "Produzione e montaggio video"),
     "From storyboard to edit, with a broadcaster's newsroom as client."),
)


def seed_catalogue(_password: str) -> list[str]:
    """Create what is missing of the demo catalogue; returns no sign-ins."""
    tracks = {t.slug: t for t in db.session.scalars(select(Track))}
    for slug, name in TRACKS:
        if slug not in tracks:
            tracks[slug] = Track(slug=slug, name=name)
            db.session.add(tracks[slug])
    certifications = {c.exam_code: c for c in db.session.scalars(select(Certification))}
    for issuer, code, name in CERTIFICATIONS:
        if code not in certifications:
            certifications[code] = Certification(issuer=issuer, exam_code=code, name=name)
            db.session.add(certifications[code])
    existing = set(db.session.scalars(select(Course.code)))
    for code, track, hours, level, certs, titles, description in COURSES:
        if code in existing:
            continue
        en, fr, nl, it = titles
        db.session.add(Course(
            code=code, track=tracks[track], hours=hours, level=level,
            title_en=en, title_fr=fr, title_nl=nl, title_it=it, description_en=description,
            certifications=[certifications[c] for c in certs],
        ))
    db.session.flush()
    return []
