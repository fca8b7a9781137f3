"""Fictional companies for the demo and the tests, generated deterministically from a seed.

Every company carries the truth its pages are rendered from (`expected`), so tests and
benchmarks can score extraction against it. Names and texts are invented from the word lists
below; no real company's text is used.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from enrichment_pipelines.core.datapoints import employee_range


@dataclass(frozen=True)
class Archetype:
    category: str
    subcategory: str
    is_saas: bool
    market: str  # B2B / B2C / B2B2C
    offering: str  # "{name} ..." sentence: the core offering
    details: tuple[str, ...]  # sentences that describe the business in its own words
    vertical_for: str | None = None  # the industry served, for vertical products
    roles: tuple[str, ...] = ()
    horizontal: bool = False  # says it serves every industry


ARCHETYPES: tuple[Archetype, ...] = (
    Archetype("Software & IT", "Data & Analytics", True, "B2B",
              "{name} turns raw product data into dashboards and reports every team can trust.",
              ("Connect your data warehouse in minutes and share live metrics across the company.",
               "Analysts build reporting once and business intelligence reaches everyone.",
               "Self-serve analytics with governed metrics and alerts when numbers move."),
              roles=("data teams", "product teams")),
    Archetype("Software & IT", "Developer Tools", True, "B2B",
              "{name} gives engineering teams faster code review and safer deployment pipelines.",
              ("Our API and SDK plug into the git workflow your developers already use.",
               "Catch regressions in CI/CD before they reach production.",
               "Open source at heart, trusted by engineering teams who ship daily."),
              roles=("developers", "engineering teams")),
    Archetype("Software & IT", "Cybersecurity", True, "B2B",
              "{name} protects companies from phishing, account takeover and data leaks.",
              ("Zero trust identity, threat detection and vulnerability scanning in one console.",
               "Stay audit-ready for SOC 2 and ISO 27001 compliance with automated evidence.",
               "Encryption by default for every file your people share."),
              roles=("security teams", "it teams")),
    Archetype("Software & IT", "Business Software", True, "B2B",
              "{name} is the HR software and payroll platform for growing companies.",
              ("Run payroll, onboarding and time off from one place.",
               "Automate the back office workflow so your people team can focus on people.",
               "Integrates with your accounting and invoicing tools."),
              roles=("hr teams", "finance teams")),
    Archetype("Software & IT", "Collaboration & Productivity", True, "B2B",
              "{name} is the project management workspace where remote teams plan and ship work.",
              ("Tasks, documents and team chat live side by side.",
               "Scheduling and productivity features that keep projects moving.",
               "Collaboration that works for teams of all sizes and industries."),
              roles=("operations teams", "product teams"), horizontal=True),
    Archetype("Software & IT", "Business Software", True, "B2B",
              "{name} is a CRM built for real estate agencies to manage listings and clients.",
              ("Track every buyer through your sales pipeline, from first viewing to closing.",
               "Property listings, tenants and landlords in one CRM.",
               "Automated follow-ups so no lead goes cold."),
              vertical_for="real estate", roles=("sales teams",)),
    Archetype("Software & IT", "Business Software", True, "B2B",
              "{name} is restaurant software for reservations, menus and staff scheduling.",
              ("Built for restaurants that want full tables and a calm kitchen.",
               "Take reservations online and sync your menu everywhere.",
               "Staff scheduling and tips reporting included."),
              vertical_for="restaurants", roles=("operations teams",)),
    Archetype("Marketing & Advertising", "Marketing Automation", True, "B2B",
              "{name} helps marketers send email campaigns and newsletters that convert.",
              ("Segmentation, lead nurturing and marketing automation without the complexity.",
               "Customer engagement journeys across email and SMS.",
               "Beautiful email marketing templates for every campaign."),
              roles=("marketing", "growth teams")),
    Archetype("Marketing & Advertising", "SEO & Content", True, "B2B",
              "{name} grows organic traffic with SEO audits, keyword research and content briefs.",
              ("Track search rankings and backlinks for every page.",
               "Plan content marketing around the keywords your buyers use.",
               "Reports your clients understand."),
              roles=("marketing",)),
    Archetype("Marketing & Advertising", "Marketing Agency", False, "B2B",
              "{name} is a creative studio for branding, campaigns and brand strategy.",
              ("Our agency partners with ambitious brands on identity and campaign production.",
               "From brand strategy to launch, our clients get one senior team.",
               "Design agency work that moves numbers."),
              roles=("marketing",)),
    Archetype("Financial Services", "Payments", True, "B2B",
              "{name} lets merchants accept card payments online and at the point of sale.",
              ("Fast checkout, instant payouts and transparent payment processing fees.",
               "One integration for online and in-store payments.",
               "Built for merchants of every size."),
              roles=("finance teams",)),
    Archetype("Financial Services", "Accounting & Tax", True, "B2B",
              "{name} is online accounting software for bookkeeping, VAT and expenses.",
              ("Bank feeds, invoicing and financial statements your accountants will love.",
               "File tax returns on time with automatic VAT calculations.",
               "Bookkeeping that does itself."),
              roles=("finance teams", "accountants")),
    Archetype("Financial Services", "Insurance", False, "B2C",
              "{name} offers simple home and contents insurance with claims settled in days.",
              ("Get a policy in minutes and choose the coverage that fits your home.",
               "Fair premiums and no paperwork when you make claims.",
               "Insurance for you and your family."),),
    Archetype("Financial Services", "Investing & Wealth", False, "B2C",
              "{name} makes investing in stocks and funds simple for everyone.",
              ("Build a portfolio for your retirement with low fees.",
               "Wealth management tools once reserved for the few.",
               "Start investing with as little as 10 euros."),),
    Archetype("Healthcare & Life Sciences", "Health Tech", True, "B2B",
              "{name} is clinic software for appointments, patient records and telehealth.",
              ("Care teams share electronic health records securely.",
               "Patients book appointments and join video visits from any device.",
               "Designed for clinics that want less admin and more care."),
              vertical_for="clinics", roles=("operations teams",)),
    Archetype("Healthcare & Life Sciences", "Wellness & Fitness", True, "B2C",
              "{name} is a fitness app with guided workouts, yoga and meditation.",
              ("Workouts for your body and mind, wherever you are.",
               "Nutrition plans and mental health check-ins.",
               "Download the app and train with world-class coaches."),),
    Archetype("Healthcare & Life Sciences", "Pharma & Biotech", False, "B2B",
              "{name} is a biotech company developing therapeutics for rare diseases.",
              ("Our laboratory combines drug discovery with clinical trials expertise.",
               "We partner with pharmaceutical companies on new molecules.",
               "Science-led, patient-focused."),),
    Archetype("E-commerce & Retail", "Online Store", False, "B2C",
              "{name} makes sustainable sneakers and everyday apparel, sold online.",
              ("Shop now and enjoy free shipping on orders over 50 euros.",
               "Our products are made from recycled materials.",
               "Free returns within 30 days. Add to cart and you're done."),),
    Archetype("E-commerce & Retail", "Commerce Platforms", True, "B2B",
              "{name} is the ecommerce platform that helps merchants launch an online store.",
              ("Storefront themes, inventory and a product catalog that scales.",
               "Sell everywhere your buyers are, from one place.",
               "Built for online sellers who want to grow."),
              roles=("marketing", "operations teams")),
    Archetype("E-commerce & Retail", "Marketplace", False, "B2B2C",
              "{name} is a marketplace where independent vendors sell handmade goods to buyers.",
              ("Thousands of sellers list their work with us.",
               "Buyers and sellers meet on a trusted platform with secure payments.",
               "We help businesses and their customers trade with confidence."),),
    Archetype("Education", "EdTech", True, "B2C",
              "{name} offers online courses that help learners master new languages.",
              ("Bite-sized lessons and a curriculum designed by teachers.",
               "Students learn at their own pace on our learning platform.",
               "Learning for everyone."),),
    Archetype("Education", "Corporate Training", True, "B2B",
              "{name} runs corporate training and upskilling programs for modern workforces.",
              ("Employee training paths with certification built in.",
               "Learning and development teams track progress across the company.",
               "Workshops led by practitioners."),
              roles=("hr teams",)),
    Archetype("Transportation & Logistics", "Logistics & Supply Chain", True, "B2B",
              "{name} is freight and fulfillment software that keeps supply chains moving.",
              ("Book shipping with hundreds of carriers and track every delivery.",
               "Warehousing and logistics data in one view.",
               "Built for logistics teams shipping across borders."),
              vertical_for="logistics", roles=("operations teams",)),
    Archetype("Travel & Hospitality", "Hotels & Lodging", False, "B2C",
              "{name} is a boutique hotel with 40 rooms in the heart of the old town.",
              ("Our guests enjoy a rooftop bar and breakfast from local farms.",
               "Book your stay directly for the best rate.",
               "Hospitality the way it should be."),),
    Archetype("Travel & Hospitality", "Restaurants & Food Service", False, "B2C",
              "{name} is a neighbourhood restaurant serving seasonal dishes from our own kitchen.",
              ("See our menu and book a table for dinner.",
               "Our chefs cook with local ingredients.",
               "Catering for private dining and events."),),
    Archetype("Professional Services", "Legal", False, "B2B",
              "{name} is a law firm advising startups and scale-ups on contracts and financing.",
              ("Our lawyers handle commercial contracts, employment law and litigation.",
               "Fixed-fee legal packages for founders.",
               "Attorneys who speak business."),),
    Archetype("Professional Services", "Staffing & Recruiting", True, "B2B",
              "{name} is an applicant tracking system that helps recruiters hire faster.",
              ("Source candidates, run interviews and hire the best talent.",
               "Recruitment analytics for talent teams.",
               "Job seekers get a candidate experience they remember."),
              roles=("recruiters", "hr teams")),
    Archetype("Energy & Utilities", "Renewable Energy", False, "B2C",
              "{name} installs solar panels and home batteries for clean energy at home.",
              ("Cut your energy bills and carbon emissions with rooftop solar.",
               "Energy storage that keeps your home running.",
               "Renewable power for your family."),),
    Archetype("Food & Agriculture", "Food & Beverage", False, "B2C",
              "{name} is a specialty coffee roastery shipping fresh beans every week.",
              ("Single-origin coffee and tea, roasted to order.",
               "Our roastery works directly with farmers.",
               "Subscribe and never run out of coffee."),),
    Archetype("Manufacturing & Industrial", "Industrial Equipment", False, "B2B",
              "{name} designs and builds industrial automation equipment for factories.",
              ("We manufacture conveyors, robotic cells and machinery components.",
               "Engineering solutions for plants across Europe.",
               "Service teams keep your production lines running."),),
    Archetype("Non-profit & Public Sector", "Non-profit", False, "B2C",
              "{name} is a non-profit charity bringing clean water to rural communities.",
              ("Donate today and your donations fund wells and sanitation.",
               "Our volunteers work alongside local partners.",
               "A mission-driven foundation since 2009."),),
)  # fmt: skip

# (city, country code, country name as written on pages, region or None)
LOCATIONS: tuple[tuple[str, str, str, str | None], ...] = (
    ("Berlin", "DE", "Germany", None), ("Munich", "DE", "Germany", None),
    ("Hamburg", "DE", "Germany", None), ("Vienna", "AT", "Austria", None),
    ("Zurich", "CH", "Switzerland", None), ("Paris", "FR", "France", None),
    ("Lyon", "FR", "France", None), ("Amsterdam", "NL", "Netherlands", None),
    ("Rotterdam", "NL", "Netherlands", None), ("London", "GB", "United Kingdom", None),
    ("Manchester", "GB", "United Kingdom", None), ("Dublin", "IE", "Ireland", None),
    ("Madrid", "ES", "Spain", None), ("Barcelona", "ES", "Spain", None),
    ("Lisbon", "PT", "Portugal", None), ("Milan", "IT", "Italy", None),
    ("Stockholm", "SE", "Sweden", None), ("Copenhagen", "DK", "Denmark", None),
    ("Oslo", "NO", "Norway", None), ("Helsinki", "FI", "Finland", None),
    ("Warsaw", "PL", "Poland", None), ("Prague", "CZ", "Czechia", None),
    ("Tallinn", "EE", "Estonia", None), ("San Francisco", "US", "USA", "California"),
    ("New York", "US", "USA", "New York"), ("Austin", "US", "USA", "Texas"),
    ("Boston", "US", "USA", "Massachusetts"), ("Seattle", "US", "USA", "Washington"),
    ("Chicago", "US", "USA", "Illinois"), ("Denver", "US", "USA", "Colorado"),
    ("Toronto", "CA", "Canada", "Ontario"), ("Vancouver", "CA", "Canada", "British Columbia"),
    ("Sydney", "AU", "Australia", None), ("Melbourne", "AU", "Australia", None),
    ("Singapore", "SG", "Singapore", None), ("Tokyo", "JP", "Japan", None),
    ("Bangalore", "IN", "India", None), ("São Paulo", "BR", "Brazil", None),
    ("Mexico City", "MX", "Mexico", None), ("Tel Aviv", "IL", "Israel", None),
)  # fmt: skip

_NAME_FIRST = (
    "North", "Blue", "Bright", "Clear", "Silver", "Green", "Swift", "Iron", "Cloud", "Red",
    "True", "Open", "Deep", "Little", "Golden", "Quiet", "Bold", "Nimble", "Lumen", "Atlas",
    "Juniper", "Harbor", "Maple", "Cedar", "Pixel", "Vector", "Orbit", "Summit", "Tidal",
    "Ember", "Prism", "Kite", "Falcon", "Willow", "Copper", "Sable", "Nova", "Aster",
)  # fmt: skip
_NAME_SECOND = (
    "field", "stack", "wave", "path", "forge", "leaf", "stone", "bridge", "light", "works",
    "loop", "grid", "line", "nest", "point", "craft", "mint", "yard", "scope", "sail", "frame",
    "hive", "spark", "root",
)  # fmt: skip
_NAME_SUFFIX = ("", "", "", " Labs", " GmbH", " Inc.", " & Co.", " Studio", " Group", " Ltd")
_STREETS = ("Market Street", "Hauptstraße", "Rue de la Paix", "King Street", "Kanaalweg",
            "Calle Mayor", "Harbour Road", "Linden Avenue", "Via Roma", "Storgatan")  # fmt: skip
_ACQUIRERS = ("Vantage Holdings", "Meridian Group", "Corvid Software", "Halcyon Partners")

TEMPLATES = ("modern", "classic", "jsonld", "minimal")
# Sites that cannot be enriched, as a share of all sites (the rest are healthy).
FAULTS = (("http_error", 0.03), ("parked", 0.02), ("empty", 0.02), ("unreachable", 0.02))


@dataclass
class Company:
    index: int
    slug: str
    name: str
    archetype: Archetype
    city: str
    country_code: str
    country_name: str
    region: str | None
    street: str
    employees: int
    founded: int
    has_free_trial: bool
    can_contact_sales: bool
    target_enterprise: bool
    acquirer: str | None
    template: str
    fault: str | None
    billing_country: str
    expected: dict[str, object] = field(default_factory=dict)


def _expected(company: Company) -> dict[str, object]:
    """What a careful reader of the rendered pages can know (None = the pages don't say)."""
    a = company.archetype
    if company.fault is not None:
        return {}
    minimal = company.template == "minimal"
    sells_plans = a.is_saas
    growth = None
    if a.is_saas:
        growth = (
            "hybrid"
            if company.has_free_trial and company.can_contact_sales
            else "product-led"
            if company.has_free_trial
            else "sales-led"
        )
    facts: dict[str, object] = {
        "value_proposition": a.offering.format(name=company.name),
        "industry_category": a.category,
        "industry_subcategory": a.subcategory,
        "market_focus": "vertical" if a.vertical_for else "horizontal" if a.horizontal else None,
        # Roles are phrased freely on the pages; their scoring comes with the labelled set.
        "target_role": None,
        "target_market": a.market,
        "is_saas": a.is_saas,
        "growth_type": growth,
        "has_free_trial": company.has_free_trial if sells_plans else None,
        "can_contact_sales": True if company.can_contact_sales else None,
        "employee_count": employee_range(company.employees),
        "location_city": company.city,
        "location_country_code": company.country_code,
        "is_acquired": bool(company.acquirer),
        # An "Enterprise" plan on the pricing page says as much as an enterprise claim.
        "target_enterprise": (
            True
            if company.target_enterprise or (sells_plans and company.can_contact_sales)
            else None
        ),
    }
    if minimal:
        # Only the meta description is there to read.
        return {key: (facts[key] if key == "value_proposition" else None) for key in facts}
    return facts


def generate_companies(count: int = 220, seed: int = 7) -> list[Company]:
    """`count` varied fictional companies; the same seed always gives the same companies."""
    rng = random.Random(seed)
    companies: list[Company] = []
    names: set[str] = set()
    faults = [kind for kind, share in FAULTS for _ in range(max(1, round(share * count)))]
    fault_slots = dict(zip(rng.sample(range(count), len(faults)), faults, strict=True))
    for index in range(count):
        base = rng.choice(_NAME_FIRST) + rng.choice(_NAME_SECOND)
        for _attempt in range(20):
            if base not in names:
                break
            base = rng.choice(_NAME_FIRST) + rng.choice(_NAME_SECOND)
        else:  # the word lists give ~900 names: number the rest
            base = f"{base}{index}"
        names.add(base)
        name = base + rng.choice(_NAME_SUFFIX)
        archetype = (
            ARCHETYPES[index % len(ARCHETYPES)]
            if index < len(ARCHETYPES)
            else (rng.choice(ARCHETYPES))
        )
        city, code, country_name, region = rng.choice(LOCATIONS)
        employees = rng.choice((4, 8, 17, 35, 48, 75, 140, 180, 260, 420, 650, 900, 1500, 3200,
                                7000, 12000))  # fmt: skip
        saas = archetype.is_saas
        company = Company(
            index=index,
            slug=base.lower(),
            name=name,
            archetype=archetype,
            city=city,
            country_code=code,
            country_name=country_name,
            region=region,
            street=f"{rng.randint(1, 240)} {rng.choice(_STREETS)}",
            employees=employees,
            founded=rng.randint(1985, 2022),
            has_free_trial=saas and rng.random() < 0.6,
            can_contact_sales=archetype.market != "B2C" and (not saas or rng.random() < 0.7),
            target_enterprise=archetype.market == "B2B" and employees >= 200 and rng.random() < 0.7,
            acquirer=rng.choice(_ACQUIRERS) if rng.random() < 0.08 else None,
            template=rng.choices(TEMPLATES, weights=(4, 3, 4, 1))[0],
            fault=fault_slots.get(index),
            billing_country=code if rng.random() < 0.9 else rng.choice(LOCATIONS)[1],
        )
        if company.archetype.is_saas and not (company.has_free_trial or company.can_contact_sales):
            company.can_contact_sales = True
        company.expected = _expected(company)
        companies.append(company)
    return companies
