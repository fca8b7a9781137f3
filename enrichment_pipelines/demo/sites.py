"""Rendering a fictional company as a small website: home, about, pricing, contact, careers and
imprint pages in one of several markup styles, or a fault (server error, parked, empty)."""

from __future__ import annotations

import html
import json
import random
from dataclasses import dataclass

from enrichment_pipelines.demo.companies import Company


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    delay_seconds: float = 0.0  # wait before answering (latency, slow servers)
    chunked: bool = False  # stream the body without a Content-Length


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _paths(company: Company) -> dict[str, str]:
    """Page kind -> path; each template names its pages differently, as real sites do."""
    style = {
        "modern": ("/about", "/pricing", "/contact", "/careers", "/imprint"),
        "jsonld": ("/about-us", "/plans", "/contact-us", "/jobs", "/legal"),
        "classic": ("/company.html", "/prices.html", "/contact.html", "/jobs.html", "/impressum"),
        "minimal": ("/about", "/pricing", "/contact", "/careers", "/imprint"),
    }[company.template]  # fmt: skip
    kinds = dict(zip(("about", "pricing", "contact", "careers", "imprint"), style, strict=True))
    if not company.archetype.is_saas:
        del kinds["pricing"]
    if company.employees <= 10:
        del kinds["careers"]
    if company.country_code not in ("DE", "AT", "CH"):
        del kinds["imprint"]
    return kinds


def _hq_sentence(company: Company, rng: random.Random) -> str:
    where = f"{company.city}, {company.region or company.country_name}"
    return rng.choice(
        (
            f"{company.name} is headquartered in {where}.",
            f"We are based in {where}, with customers around the world.",
            f"Our head office is in {where}.",
        )
    )


def _team_sentence(company: Company, rng: random.Random) -> str:
    n = company.employees
    shown = f"{n:,}"
    return rng.choice(
        (
            f"Today we are a team of {shown} people.",
            f"More than {shown} employees work at {company.name}.",
            f"Our {shown} colleagues share one goal: doing great work for our customers.",
        )
    )


def _cta(company: Company) -> list[str]:
    buttons = []
    if company.has_free_trial:
        buttons.append("Start your free trial")
    if company.can_contact_sales:
        buttons.append("Book a demo" if company.archetype.is_saas else "Contact sales")
    return buttons


def _enterprise_lines(company: Company) -> list[str]:
    if not company.target_enterprise:
        return []
    return [
        "Enterprise-grade security with SSO, SAML and a 99.9% SLA.",
        "Trusted by Fortune 500 companies and fast-growing teams alike.",
    ]


def _audience_lines(company: Company) -> list[str]:
    a = company.archetype
    lines = []
    if a.vertical_for:
        lines.append(f"Software built for {a.vertical_for} teams, by people who know the trade.")
    if a.roles:
        lines.append(f"Made for {a.roles[0]} who want to move faster.")
    if a.market == "B2B":
        lines.append("We help your business grow and your team save hours every week.")
        lines.append("We work with growing businesses and established companies.")
    elif a.market == "B2C":
        lines.append("Made for you and your family.")
        lines.append("Join thousands of happy members.")
    return lines


def _layout(company: Company, title: str, body: str, paths: dict[str, str]) -> str:
    nav_labels = {"about": "About", "pricing": "Pricing", "contact": "Contact",
                  "careers": "Careers", "imprint": "Imprint"}  # fmt: skip
    nav = "".join(
        f'<li><a href="{path}">{nav_labels[kind]}</a></li>' for kind, path in paths.items()
    )
    footer = (
        f"<p>&copy; 2026 {_e(company.name)}. {_e(company.street)}, {_e(company.city)}, "
        f"{_e(company.country_name)}.</p>"
    )
    json_ld = ""
    if company.template == "jsonld":
        organisation = {
            "@context": "https://schema.org",
            "@type": "Organization",
            "name": company.name,
            "url": "/",
            "description": company.archetype.offering.format(name=company.name),
            "foundingDate": str(company.founded),
            "numberOfEmployees": {"@type": "QuantitativeValue", "value": company.employees},
            "address": {
                "@type": "PostalAddress",
                "streetAddress": company.street,
                "addressLocality": company.city,
                "addressCountry": company.country_code,
            },
        }
        json_ld = f'<script type="application/ld+json">{json.dumps(organisation)}</script>'
    description = _e(company.archetype.offering.format(name=company.name))
    if company.template == "classic":
        return (
            f"<html><head><title>{_e(title)}</title>"
            f'<meta name="description" content="{description}"></head>'
            f'<body bgcolor="#ffffff"><table width="800"><tr><td><font size="5"><b>'
            f"{_e(company.name)}</b></font></td></tr><tr><td>"
            + " | ".join(
                f'<a href="{path}">{nav_labels[kind].upper()}</a>' for kind, path in paths.items()
            )
            + f"</td></tr><tr><td>{body}</td></tr><tr><td><small>{footer}</small></td></tr>"
            "</table></body></html>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title>"
        f'<meta name="description" content="{description}">'
        f'<meta property="og:title" content="{_e(company.name)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"{json_ld}{_TECHNOLOGIES[company.index % len(_TECHNOLOGIES)]}"
        "<style>body{font-family:sans-serif}</style></head><body>"
        f'<header><a href="/" class="brand"><img src="/static/{company.slug}-logo.svg" '
        f'alt="{_e(company.name)}"> {_e(company.name)}</a><nav><ul>{nav}</ul></nav></header>'
        f"<main>{body}</main><footer>{footer}{_profiles(company)}</footer>"
        "<script>window.analytics=window.analytics||[];</script></body></html>"
    )


# What a modern site loads (one set per company, in turn): the technologies the demo finds.
_TECHNOLOGIES = (
    '<script async src="https://www.googletagmanager.com/gtag/js?id=G-DEMO"></script>',
    '<meta name="generator" content="WordPress 6.4.2">'
    '<script src="/wp-includes/js/jquery/jquery.min.js"></script>',
    '<script src="https://js.stripe.com/v3/"></script>'
    '<script src="//static.hotjar.com/c/hotjar-1.js?sv=6"></script>',
    '<script src="https://js.hs-analytics.net/analytics/1700000000000/1.js"></script>',
)


def _profiles(company: Company) -> str:
    """The company's own accounts, and a share link (not one of them)."""
    return (
        f'<p><a href="https://www.linkedin.com/company/{company.slug}/">LinkedIn</a> '
        f'<a href="https://x.com/{company.slug.replace("-", "")[:15]}">X</a> '
        f'<a href="https://twitter.com/intent/tweet?text={company.slug}">Share</a></p>'
    )


def render_site(company: Company) -> dict[str, Response]:
    """Path -> response for every page of the company's site."""
    rng = random.Random(company.index)
    fault = company.fault
    if fault == "http_error":
        return {"/": Response(503, b"<h1>Service Unavailable</h1>")}
    if fault == "parked":
        body = (
            f"<html><head><title>{company.slug}.com is for sale</title></head><body>"
            f"<h1>This domain is for sale!</h1><p>Buy {company.slug}.com today. "
            "Make an offer through our domain broker.</p></body></html>"
        )
        return {"/": Response(200, body.encode())}
    if fault == "empty":
        return {"/": Response(200, b"")}
    paths = _paths(company)
    a = company.archetype
    offering = a.offering.format(name=company.name)
    if company.template == "minimal":
        page = (
            f"<html><head><title>{_e(company.name)}</title>"
            f'<meta name="description" content="{_e(offering)}"></head>'
            '<body><div id="root"></div><script src="/static/app.js"></script></body></html>'
        )
        return {"/": Response(200, page.encode())}

    cta = "".join(f'<a class="button" href="#">{_e(label)}</a> ' for label in _cta(company))
    home_lines = [*a.details, *_audience_lines(company), *_enterprise_lines(company)]
    home = f"<section><h1>{_e(offering)}</h1><p>{cta}</p></section>" + "".join(
        f"<p>{_e(line)}</p>" for line in home_lines
    )
    about_lines = [
        f"{company.name} was founded in {company.founded}.",
        _hq_sentence(company, rng),
        _team_sentence(company, rng),
    ]
    if company.acquirer:
        about_lines.append(
            rng.choice(
                (
                    f"In 2024 {company.name} was acquired by {company.acquirer}.",
                    f"{company.name} is now part of {company.acquirer}.",
                )
            )
        )
    pages: dict[str, str] = {
        "/": _layout(company, f"{company.name} | {a.subcategory}", home, paths),
        paths["about"]: _layout(
            company,
            f"About {company.name}",
            "<h1>About us</h1>" + "".join(f"<p>{_e(line)}</p>" for line in about_lines),
            paths,
        ),
        paths["contact"]: _layout(
            company,
            f"Contact {company.name}",
            f"<h1>Contact</h1><address>{_e(company.name)}<br>{_e(company.street)}<br>"
            f"{_e(company.city)}<br>{_e(company.country_name)}</address>"
            + (
                "<p>Want to talk to sales? Book a demo with our team.</p>"
                if company.can_contact_sales
                else "<p>Write to us any time.</p>"
            ),
            paths,
        ),
    }
    if "pricing" in paths:
        plans = ["<h2>Starter</h2><p>29 € per user per month, billed annually.</p>",
                 "<h2>Growth</h2><p>79 € per user per month.</p>"]  # fmt: skip
        if company.has_free_trial:
            plans.insert(0, "<p>Every plan starts with a 14-day free trial.</p>")
        if company.can_contact_sales:
            plans.append("<h2>Enterprise</h2><p>Custom pricing. Contact sales.</p>")
        pages[paths["pricing"]] = _layout(
            company, f"Pricing | {company.name}", "<h1>Pricing</h1>" + "".join(plans), paths
        )
    if "careers" in paths:
        pages[paths["careers"]] = _layout(
            company,
            f"Careers at {company.name}",
            f"<h1>Join us</h1><p>We are hiring in {_e(company.city)}.</p>"
            "<ul><li>Senior Engineer</li><li>Account Executive</li></ul>",
            paths,
        )
    if "imprint" in paths:
        pages[paths["imprint"]] = _layout(
            company,
            "Impressum",
            f"<h1>Impressum</h1><p>{_e(company.name)}, {_e(company.street)}, "
            f"{_e(company.city)}, {_e(company.country_name)}. Geschäftsführer: A. Beispiel.</p>",
            paths,
        )
    encoding = "iso-8859-1" if company.template == "classic" else "utf-8"
    content_type = f"text/html; charset={encoding}"
    return {
        path: Response(200, text.encode(encoding, errors="xmlcharrefreplace"), content_type)
        for path, text in pages.items()
    }
