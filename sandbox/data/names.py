"""Name, company and title pools for generated people, with identities unique by construction.

Uniqueness comes from bijections over the pools rather than from a set of names already used, so a
million-person dataset needs no memory of earlier people: a collision would be an unplanned duplicate and
would make the scenario manifest wrong.
"""
from __future__ import annotations

from dataclasses import dataclass

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Christopher", "Lisa",
    "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven",
    "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda",
    "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah", "Ronald", "Stephanie", "Edward", "Rebecca",
    "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas",
    "Angela", "Eric", "Shirley", "Jonathan", "Anna", "Stephen", "Brenda", "Larry", "Pamela", "Justin", "Emma",
    "Scott", "Nicole", "Brandon", "Helen", "Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine",
    "Alexander", "Debra", "Frank", "Rachel", "Patrick", "Carolyn", "Raymond", "Janet", "Jack", "Catherine",
    "Dennis", "Maria", "Jerry", "Heather", "Tyler", "Diane", "Aaron", "Ruth", "Jose", "Julie", "Adam", "Olivia",
    "Nathan", "Joyce", "Henry", "Virginia", "Douglas", "Victoria", "Zachary", "Kelly", "Peter", "Lauren",
    "Kyle", "Christina", "Ethan", "Joan", "Walter", "Evelyn", "Noah", "Judith", "Jeremy", "Megan", "Christian",
    "Andrea", "Keith", "Cheryl", "Roger", "Hannah", "Terry", "Jacqueline", "Gerald", "Martha", "Harold", "Gloria",
    "Sean", "Teresa", "Austin", "Ann", "Carl", "Sara", "Arthur", "Madison", "Lawrence", "Frances", "Dylan",
    "Kathryn", "Jesse", "Janice", "Jordan", "Jean", "Bryan", "Abigail", "Billy", "Alice", "Joe", "Julia", "Bruce",
    "Judy", "Gabriel", "Sophia", "Logan", "Grace", "Albert", "Denise", "Willie", "Amber", "Alan", "Doris",
    "Juan", "Marilyn", "Wayne", "Danielle", "Elijah", "Beverly", "Randy", "Isabella", "Roy", "Theresa", "Vincent",
    "Diana", "Ralph", "Natalie", "Eugene", "Brittany", "Russell", "Charlotte", "Bobby", "Marie", "Mason", "Kayla",
    "Philip", "Alexis", "Louis", "Lori", "Priya", "Wei", "Aisha", "Hiroshi", "Ingrid", "Mateo", "Fatima", "Lars",
)

LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
    "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim",
    "Cox", "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza",
    "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster",
    "Jimenez", "Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson",
    "Barnes", "Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton",
    "Graham", "Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson",
    "Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens", "Harrison",
    "Fernandez", "McDonald", "Woods", "Washington", "Kennedy", "Wells", "Vargas", "Henry", "Chen", "Freeman",
    "Webb", "Tucker", "Guzman", "Burns", "Crawford", "Olson", "Simpson", "Porter", "Hunter", "Gordon", "Mendez",
    "Silva", "Shaw", "Snyder", "Mason", "Dixon", "Munoz", "Hunt", "Hicks", "Holmes", "Palmer", "Wagner", "Black",
    "Robertson", "Boyd", "Rose", "Stone", "Salazar", "Fox", "Warren", "Mills", "Meyer", "Rice", "Schmidt",
    "Garza", "Daniels", "Ferguson", "Nichols", "Stephens", "Soto", "Weaver", "Ryan", "Gardner", "Payne", "Grant",
    "Dunn", "Kelley", "Spencer", "Hawkins", "Arnold", "Pierce", "Vazquez", "Hansen", "Peters", "Santos", "Hart",
    "Bradley", "Knight", "Elliott", "Cunningham", "Duncan", "Armstrong", "Hudson", "Carroll", "Lane", "Riley",
)

COMPANY_STEMS = (
    "Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Soylent", "Hooli", "Vandelay",
    "Cyberdyne", "Tyrell", "Aperture", "Massive", "Gringotts", "Oscorp", "Pied Piper", "Dunder", "Sterling",
    "Blue Sky", "Redwood", "Summit", "Harbor", "Granite", "Silverline", "Brightpath", "Clearwater", "Evergreen",
    "Ironclad", "Lighthouse", "Meridian", "Northstar", "Oakridge", "Pinnacle", "Quantum", "Riverbend", "Sequoia",
    "Trailhead", "Upland", "Vertex", "Westfield", "Yellowstone", "Zenith", "Atlas", "Beacon", "Cascade", "Delta",
    "Ember", "Falcon", "Glacier", "Horizon", "Inland", "Juniper", "Keystone", "Lumen", "Mosaic", "Nimbus", "Orion",
    "Polaris", "Quarry", "Radiant", "Sapphire", "Tidal", "Unity", "Vantage", "Willow", "Xenon", "Yardley", "Zephyr",
    "Alder", "Birch", "Cobalt", "Drift", "Echo", "Fjord", "Grove", "Helix", "Indigo", "Jade", "Kestrel", "Lattice",
    "Maple", "Nova", "Onyx", "Prairie", "Quill", "Ridge", "Sable", "Tundra", "Ultra", "Vista", "Wren", "Yukon",
)
COMPANY_SUFFIXES = (
    "Labs", "Systems", "Analytics", "Software", "Health", "Capital", "Logistics", "Robotics", "Media", "Energy",
    "Networks", "Foods", "Partners", "Industries", "Cloud", "Bank", "Insurance", "Retail", "Learning", "Works",
)
TLDS = ("com", "io", "co", "net", "ai", "tech")
QUALIFIERS = ("", "Group", "Holdings", "International", "Solutions", "Technologies")  # one per TLD round

# Weighted towards the buyer personas a RevOps tool sells to; seniority drives lead score.
JOB_TITLES = (
    "VP of Marketing", "Director of Demand Generation", "Marketing Operations Manager", "RevOps Manager",
    "Head of Revenue Operations", "VP of Sales", "Sales Operations Analyst", "CMO", "CRO", "Growth Marketer",
    "Marketing Manager", "Data Analyst", "CFO", "CEO", "Head of Growth", "Sales Manager", "BDR Manager",
    "Product Marketing Manager", "Business Analyst", "IT Director", "Software Engineer", "Student", "Consultant",
)

# (country, weight, US-east?) — the SDR territory split follows the Eastern/Western time zones.
COUNTRIES = (
    ("United States", 55), ("Canada", 8), ("United Kingdom", 10), ("Germany", 7), ("France", 5),
    ("Netherlands", 4), ("Australia", 4), ("Spain", 2), ("Sweden", 2), ("India", 3),
)
US_STATES_EAST = ("NY", "MA", "NJ", "PA", "FL", "GA", "NC", "VA", "OH", "IL")
US_STATES_WEST = ("CA", "WA", "OR", "CO", "TX", "AZ", "UT", "NV")

_NAME_PAIRS = len(FIRST_NAMES) * len(LAST_NAMES)
_COMPANY_PAIRS = len(COMPANY_STEMS) * len(COMPANY_SUFFIXES)


@dataclass(frozen=True)
class PersonName:
    first: str
    last: str
    local_part: str  # the e-mail local part, unique across all people of a dataset


@dataclass(frozen=True)
class CompanyName:
    name: str
    domain: str  # unique across all companies of a dataset


def _stride(modulus: int) -> int:
    """A multiplier coprime to ``modulus`` that scatters consecutive indexes across the pool."""
    candidate = int(modulus * 0.6180339887) | 1
    while _gcd(candidate, modulus) != 1:
        candidate += 2
    return candidate


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


_NAME_STRIDE = _stride(_NAME_PAIRS)
_COMPANY_STRIDE = _stride(_COMPANY_PAIRS)


def person_name(index: int, seed: int) -> PersonName:
    """The ``index``-th person's name: a permutation of (first, last) pairs, then numbered rounds of it."""
    round_, slot = divmod(index, _NAME_PAIRS)
    pair = (slot * _NAME_STRIDE + seed * 7_919) % _NAME_PAIRS
    first, last = FIRST_NAMES[pair % len(FIRST_NAMES)], LAST_NAMES[pair // len(FIRST_NAMES)]
    local = f"{first}.{last}".lower() + (str(round_ + 1) if round_ else "")
    return PersonName(first, last, local)


def company_name(index: int, seed: int) -> CompanyName:
    round_, slot = divmod(index, _COMPANY_PAIRS)
    pair = (slot * _COMPANY_STRIDE + seed * 131) % _COMPANY_PAIRS
    stem, suffix = COMPANY_STEMS[pair % len(COMPANY_STEMS)], COMPANY_SUFFIXES[pair // len(COMPANY_STEMS)]
    tld, qualifier = TLDS[round_ % len(TLDS)], QUALIFIERS[round_ % len(TLDS)]
    number = str(round_ // len(TLDS) + 1) if round_ >= len(TLDS) else ""
    name = " ".join(part for part in (stem, suffix, qualifier, number) if part)
    return CompanyName(name, f"{stem}{suffix}{qualifier}{number}".lower().replace(" ", "") + "." + tld)
