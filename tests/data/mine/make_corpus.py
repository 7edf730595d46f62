#!/usr/bin/env python3
"""Writes the taxonomy-mining test data in this folder: lexicon.json, openai.jsonl, sharegpt.jsonl.gz,
qa.jsonl, bad.jsonl, bad.expected.json and truth.json.

Python 3 standard library only, seeded and deterministic: running it twice writes the same bytes
(the gzip header carries no file name and mtime 0). Run from anywhere:

    python3 tests/data/mine/make_corpus.py

It also checks itself: every statement hits exactly the lexicon entry it was written for, every neutral
text hits none, and every generated exchange lands in the bucket (non/partial/full) it was drawn for.
See README.md for the matching rule, which the fake model server must implement the same way.
"""

import gzip
import io
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 16

# ---------------------------------------------------------------------------------------------------
# Lexicon: (keywords, path, description, statements). The statements are first-person sentences that
# contain one keyword of the entry and no keyword of any other entry; they stay in this script.
# Synonymous names for one node are on purpose (Lifestyle / Lifestyle and Habits / Daily Life,
# Hobbies / Hobbies and Interests, Food Preference / Dietary Preferences / Diet, Favorite Music Genre /
# Favourite music genres, Career / Career and Work / Career and Work Identity, Religion / Religious
# Beliefs, Personality / Personality Traits, Sports / Sports and Fitness, Media Consumption / Media
# Consumption and Engagement); so are near-miss names that must stay apart (Music Taste / Music Skills,
# Sleep Quality / Sleep Schedule, Pet Ownership / Pet Allergy, Mother's / Father's Occupation, Annual
# Income / Income Satisfaction).
# ---------------------------------------------------------------------------------------------------
LEXICON = [
    # Lifestyle: food
    (["vegan", "plant-based"], ["Lifestyle", "Food Preference", "Vegan"], "Follows a vegan diet",
     ["I'm vegan", "I eat a plant-based diet"]),
    (["vegetarian"], ["Lifestyle and Habits", "Dietary Preferences", "Vegetarian"], "Does not eat meat or fish",
     ["I've been vegetarian for ten years"]),
    (["gluten-free", "coeliac", "celiac"], ["Daily Life", "Diet", "Gluten-Free"], "Avoids gluten",
     ["I have to eat gluten-free", "I'm coeliac"]),
    (["halal"], ["Lifestyle", "Diet", "Halal"], "Eats only halal food", ["I only eat halal meat"]),
    (["intermittent fasting"], ["Lifestyle and Habits", "Food Preference", "Intermittent Fasting"],
     "Skips meals on a fixed schedule", ["I do intermittent fasting on weekdays"]),
    (["素食", "吃素"], ["Lifestyle and Habits", "Dietary Preferences", "Vegetarian"], "Does not eat meat or fish",
     ["我吃素已经五年了", "我是素食者"]),
    # Lifestyle: sleep, commute, exercise
    (["night owl", "stay up late"], ["Lifestyle", "Sleep Schedule", "Night Owl"],
     "Goes to bed late and gets up late", ["I'm a night owl", "I usually stay up late"]),
    (["early riser", "early bird"], ["Lifestyle and Habits", "Sleep Schedule", "Early Riser"], "Gets up early",
     ["I'm an early riser", "I've always been an early bird"]),
    (["insomnia", "trouble sleeping"], ["Lifestyle", "Sleep Quality", "Insomnia"], "Sleeps badly",
     ["I've had insomnia for months", "I have trouble sleeping most nights"]),
    (["cycle to work", "bike to work"], ["Daily Life", "Commute", "Cycling"], "Commutes by bicycle",
     ["I cycle to work every day"]),
    (["gym"], ["Lifestyle", "Exercise Habits", "Gym"], "Trains at a gym", ["I go to the gym four times a week"]),
    # Lifestyle: pets
    (["my dog", "puppy"], ["Lifestyle", "Pets", "Pet Ownership", "Dog Owner"], "Has a dog",
     ["I walk my dog twice a day", "we just got a puppy"]),
    (["hund"], ["Daily Life", "Pets", "Pet Ownership", "Dog Owner"], "Has a dog",
     ["Ich gehe jeden Morgen mit meinem Hund spazieren", "Wir haben einen Hund"]),
    (["my cat", "kitten"], ["Lifestyle", "Pets", "Pet Ownership", "Cat Owner"], "Has a cat",
     ["my cat sleeps on my keyboard", "we adopted a kitten last month"]),
    (["allergic to cats", "pet allergy"], ["Lifestyle", "Pets", "Pet Allergy"], "Is allergic to pets",
     ["I'm allergic to cats", "I have a bad pet allergy"]),
    # Hobbies
    (["hiking", "hike"], ["Hobbies", "Outdoor Activities", "Hiking"], "Hikes for pleasure",
     ["I love hiking in the mountains"]),
    (["randonnée"], ["Hobbies and Interests", "Outdoor Activities", "Hiking"], "Hikes for pleasure",
     ["Je fais de la randonnée dans les Alpes chaque été"]),
    (["gardening", "allotment"], ["Hobbies and Interests", "Outdoor Activities", "Gardening"], "Gardens",
     ["I spend my weekends gardening", "I rent an allotment"]),
    (["chess"], ["Hobbies", "Games", "Chess"], "Plays chess", ["I play chess online every evening"]),
    (["knitting", "crochet"], ["Hobbies and Interests", "Crafts", "Knitting"], "Knits or crochets",
     ["I've taken up knitting", "I crochet blankets for friends"]),
    (["photography"], ["Hobbies", "Photography"], "Takes photographs as a hobby", ["photography is my passion"]),
    (["play the guitar", "guitar"], ["Hobbies and Interests", "Music", "Music Skills", "Guitar"], "Plays the guitar",
     ["I play the guitar in a small band"]),
    (["play the piano", "piano"], ["Hobbies", "Music", "Music Skills", "Piano"], "Plays the piano",
     ["I've played the piano since I was six"]),
    (["jazz"], ["Hobbies and Interests", "Music", "Music Taste", "Jazz"], "Likes listening to jazz",
     ["I mostly listen to jazz"]),
    (["heavy metal"], ["Hobbies", "Music", "Favorite Music Genre", "Heavy Metal"], "Favourite genre is heavy metal",
     ["heavy metal is what I listen to most"]),
    (["k-pop"], ["Hobbies and Interests", "Music", "Favourite music genres", "K-Pop"], "Favourite genre is K-pop",
     ["I'm obsessed with K-pop"]),
    (["fútbol"], ["Hobbies", "Sports", "Football"], "Plays football",
     ["Juego al fútbol todos los domingos"]),
    (["marathon", "running club"], ["Hobbies and Interests", "Sports", "Running"], "Runs for sport",
     ["I'm training for my first marathon", "I joined a running club"]),
    (["yoga"], ["Hobbies", "Sports and Fitness", "Yoga"], "Practises yoga", ["I do yoga every morning"]),
    # Demographic Information
    (["my wife", "my husband", "mi esposa", "meine frau"], ["Demographic Information", "Marital Status", "Married"],
     "Is married", ["my wife works nights", "my husband and I share the cooking"]),
    (["divorced"], ["Demographic Information", "Marital Status", "Divorced"], "Is divorced",
     ["I got divorced two years ago"]),
    (["in my thirties", "in my 30s"], ["Demographic Information", "Age Group", "Thirties"], "Is in their thirties",
     ["I'm in my thirties"]),
    (["grew up in"], ["Demographic Information", "Place of Origin", "Hometown"], "Where the person grew up",
     ["I grew up in a small fishing town"]),
    (["my landlord", "renting"], ["Demographic Information", "Housing", "Renter"], "Rents their home",
     ["my landlord won't fix the heating", "I'm renting a one-bedroom flat"]),
    (["my salary", "i earn"], ["Demographic Information", "Income", "Annual Income"], "Yearly income",
     ["my salary is about 40k a year", "I earn around 3,000 a month"]),
    (["underpaid"], ["Career and Work", "Income", "Income Satisfaction"], "Feels underpaid",
     ["I feel underpaid for what I do"]),
    (["my mother was a", "my mum is a", "my mom is a"],
     ["Demographic Information", "Family Background", "Mother's Occupation"], "What the person's mother did for a living",
     ["my mother was a seamstress", "my mom is a pharmacist"]),
    (["my father was a", "my dad is a"], ["Demographic Information", "Family Background", "Father's Occupation"],
     "What the person's father did for a living", ["my father was a coal miner", "my dad is a bus driver"]),
    # Career and Work Identity
    (["nurse"], ["Career", "Occupation", "Nurse"], "Works as a nurse", ["I work as a nurse on night shifts"]),
    (["software engineer"], ["Career and Work", "Occupation", "Software Engineer"], "Works as a software engineer",
     ["I'm a software engineer"]),
    (["teacher", "lehrer", "profesora", "老师"], ["Career and Work Identity", "Occupation", "Teacher"], "Works as a teacher",
     ["I'm a primary school teacher"]),
    (["freelance", "freelancer"], ["Career", "Employment Type", "Freelancer"], "Works freelance",
     ["I work freelance as a translator"]),
    (["work from home", "remote job"], ["Career and Work", "Work Arrangement", "Remote Work"], "Works remotely",
     ["I work from home three days a week", "I have a remote job"]),
    (["retired"], ["Career", "Employment Status", "Retired"], "Has retired", ["I retired last year"]),
    (["i program in"], ["Career", "Skills", "Programming Languages Known"], "Programming languages the person uses",
     ["I program in Go and Java at work"]),
    (["coding in rust"], ["Career and Work", "Technical Skills", "Programming languages"],
     "Programming languages the person uses", ["I've been coding in Rust for two years"]),
    # Core Values, Beliefs and Philosophy
    (["catholic", "go to church"], ["Core Values and Beliefs", "Religion", "Christianity"], "Is a Christian",
     ["I'm Catholic", "we go to church every Sunday"]),
    (["muslim", "ramadan"], ["Core Values, Beliefs, and Philosophy", "Religion", "Islam"], "Is a Muslim",
     ["I'm Muslim", "I fast during Ramadan"]),
    (["atheist"], ["Core Values", "Religious Beliefs", "Atheism"], "Does not believe in gods", ["I'm an atheist"]),
    (["conservative"], ["Core Values and Beliefs", "Political Views", "Conservative"], "Holds conservative views",
     ["I'm fairly conservative politically"]),
    (["climate change", "environmentalist"], ["Core Values, Beliefs, and Philosophy", "Environmental Concern"],
     "Cares about the environment", ["I worry a lot about climate change"]),
    # Cultural and Social Context
    (["volunteer"], ["Cultural and Social Context", "Community Involvement", "Volunteering"], "Volunteers",
     ["I volunteer at a food bank"]),
    (["immigrant", "moved here from"], ["Cultural and Social Context", "Migration Background", "Immigrant"],
     "Migrated to the country", ["I moved here from Poland five years ago"]),
    (["diwali"], ["Cultural and Social Context", "Festivals", "Diwali"], "Celebrates Diwali",
     ["we celebrate Diwali with the whole family"]),
    # Relationships and Social Networks
    (["my best friend"], ["Relationships and Social Networks", "Friendships", "Best Friend"], "Has a close friend",
     ["my best friend is getting married"]),
    (["long-distance"], ["Relationships and Social Networks", "Romantic Relationship", "Long-Distance"],
     "Is in a long-distance relationship", ["my girlfriend and I are long-distance"]),
    (["my kids", "my children", "my daughter", "my son"], ["Relationships", "Family", "Children"], "Has children",
     ["my kids are 4 and 7", "my daughter starts school soon"]),
    (["my grandmother", "my grandma"], ["Relationships and Social Networks", "Family", "Grandparents"],
     "Has a close grandparent", ["my grandmother lives with us"]),
    # Physical and Health Characteristics
    (["diabetes", "diabetic"], ["Physical and Health Characteristics", "Chronic Conditions", "Diabetes"],
     "Has diabetes", ["I have type 2 diabetes"]),
    (["wheelchair"], ["Physical and Health Characteristics", "Mobility", "Wheelchair User"], "Uses a wheelchair",
     ["I use a wheelchair"]),
    (["short-sighted", "nearsighted"], ["Health", "Vision", "Short-Sighted"], "Is short-sighted",
     ["I'm quite short-sighted"]),
    (["peanut allergy", "allergic to peanuts"], ["Physical and Health Characteristics", "Allergies", "Peanut Allergy"],
     "Is allergic to peanuts", ["I have a peanut allergy"]),
    # Psychological and Cognitive Aspects
    (["introvert", "introverted"], ["Psychological and Cognitive Aspects", "Personality", "Introversion"],
     "Is introverted", ["I'm an introvert"]),
    (["perfectionist"], ["Psychological and Cognitive Aspects", "Personality Traits", "Perfectionism"],
     "Is a perfectionist", ["I'm a perfectionist"]),
    (["anxiety", "anxious"], ["Psychological and Cognitive Aspects", "Mental Health", "Anxiety"],
     "Lives with anxiety", ["I struggle with anxiety", "I get anxious in crowds"]),
    (["adhd"], ["Psychological and Cognitive Aspects", "Neurodivergence", "ADHD"], "Has ADHD",
     ["I was diagnosed with ADHD last year"]),
    # Education and Learning
    (["phd"], ["Education and Learning", "Highest Degree", "Doctorate"], "Holds or is working on a doctorate",
     ["I'm finishing my PhD in chemistry"]),
    (["university student", "college student"], ["Education", "Student Status", "University Student"],
     "Studies at university", ["I'm a university student"]),
    (["duolingo", "learning japanese"], ["Education and Learning", "Languages", "Language Learning"],
     "Is learning a language", ["I'm learning Japanese", "I practise on Duolingo every day"]),
    (["bilingual"], ["Education and Learning", "Languages", "Languages Spoken"], "Speaks two languages",
     ["I'm bilingual"]),
    # Media Consumption and Engagement
    (["podcast", "podcasts"], ["Media Consumption and Engagement", "Podcasts"], "Listens to podcasts",
     ["I listen to podcasts on my commute"]),
    (["netflix", "binge-watch"], ["Media Consumption", "Streaming", "Netflix"], "Watches streaming series",
     ["I binge-watch series on weekends"]),
    (["video games", "gamer"], ["Media Consumption and Engagement", "Gaming", "Video Games"], "Plays video games",
     ["I play video games to unwind", "I'm a gamer"]),
    (["science fiction", "sci-fi"],
     ["Media Consumption and Engagement", "Reading", "Favorite Book Genre", "Science Fiction"],
     "Likes science fiction books", ["I read a lot of science fiction"]),
    (["tiktok", "instagram"], ["Media Consumption and Engagement", "Social Media", "Platforms Used"],
     "Uses social platforms", ["I post on Instagram daily"]),
    # Emotional and Relational Skills
    (["hate confrontation", "avoid arguments"],
     ["Emotional and Relational Skills", "Conflict Handling", "Conflict Avoidant"], "Avoids conflict",
     ["I hate confrontation"]),
    (["empathetic"], ["Emotional and Relational Skills", "Empathy", "High Empathy"], "Is highly empathetic",
     ["people say I'm very empathetic"]),
]

# Neutral requests that close a personal message (no keyword in any of them).
REQUESTS = [
    "Can you suggest a plan for this weekend?",
    "What should I cook tonight?",
    "Could you recommend a book for my holiday?",
    "Can you help me plan my week?",
    "What gift should I buy for a colleague?",
    "Any tips to save money this month?",
    "How should I organise my mornings?",
    "Can you suggest a short trip for the spring?",
    "What is a good way to meet new people here?",
    "How do I stay motivated?",
    "Can you draft a short bio about me?",
    "Which laptop would suit me?",
    "What should I do this evening?",
    "How can I make my flat feel cosier?",
]

ASSISTANT_PERSONAL = [
    "Thanks for the context. Here are three ideas that fit what you told me, starting with the easiest.",
    "Given what you said, I would start small: pick one thing for this week and build from there.",
    "Happy to help. Based on your situation, here is a short plan you can adapt.",
    "That helps. A few suggestions that should suit you are listed below.",
]

# Identifiers to scrub, each used in one neutral sentence.
IDENTIFIERS = [
    ("You can reach me at maria.lopez@example.org", "maria.lopez@example.org"),
    ("My number is +44 20 7946 0958", "+44 20 7946 0958"),
    ("Call me on (555) 123-4567 after six", "(555) 123-4567"),
    ("The refund should go to GB82 WEST 1234 5698 7654 32", "GB82 WEST 1234 5698 7654 32"),
    ("My address is 221B Baker Street, London NW1 6XE", "221B Baker Street, London NW1 6XE"),
    ("Send it to j.smith+shop@mail.example.com please", "j.smith+shop@mail.example.com"),
    ("My IBAN is DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("Text me at 555-867-5309", "555-867-5309"),
    ("I live at 42 Elm Road, Springfield", "42 Elm Road, Springfield"),
    ("My work email is t.nguyen@corp.example.net", "t.nguyen@corp.example.net"),
    ("Ring +1 (212) 555-0147 if it is urgent", "+1 (212) 555-0147"),
]

# Non-English exchanges: (language, user text, assistant text).
FOREIGN = [
    ("es", "¿Cuánto es 17 por 23?", "17 por 23 es 391."),
    ("es", "Juego al fútbol todos los domingos. ¿Qué botas me recomiendas?", "Para césped natural, unas botas FG."),
    ("es", "Mi esposa y yo jugamos al fútbol con amigos. ¿Dónde podemos alquilar un campo?",
     "Prueba el polideportivo municipal."),
    ("es", "Soy profesora de historia. ¿Me ayudas a preparar una clase sobre Roma?", "Claro, empecemos por la República."),
    ("de", "Was ist die Hauptstadt von Kanada?", "Die Hauptstadt von Kanada ist Ottawa."),
    ("de", "Ich gehe jeden Morgen mit meinem Hund spazieren. Welche Leine ist gut?", "Eine 2-Meter-Leine aus Nylon."),
    ("de", "Ich bin Lehrer und meine Frau arbeitet im Krankenhaus. Wie planen wir die Ferien?",
     "Legt zuerst die festen Termine fest."),
    ("de", "Wie viele Sekunden hat ein Tag?", "Ein Tag hat 86.400 Sekunden."),
    ("fr", "Quelle est la racine carrée de 144 ?", "La racine carrée de 144 est 12."),
    ("fr", "Je fais de la randonnée dans les Alpes chaque été. Quel sac à dos choisir ?", "Un sac de 30 à 40 litres."),
    ("fr", "Traduisez « bonjour » en anglais, s'il vous plaît.", "« Bonjour » se dit « hello »."),
    ("zh", "请把100华氏度换算成摄氏度。", "100华氏度约等于37.8摄氏度。"),
    ("zh", "我吃素已经五年了，能推荐几道家常菜吗？", "可以试试麻婆豆腐（素）和清炒时蔬。"),
    ("zh", "我是一名老师，也吃素。周末可以做什么菜？", "可以做香菇青菜和番茄炒蛋。"),
    ("zh", "地球到月球有多远？", "平均约38.4万公里。"),
]


# ---------------------------------------------------------------------------------------------------
# Matching rule (README.md): lowercase ASCII letters only; a keyword matches where the characters right
# before and after it are not word characters (ASCII letters and digits and every non-ASCII character
# count as word characters); a keyword made only of CJK characters matches anywhere.
# ---------------------------------------------------------------------------------------------------
def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def is_word_char(c):
    return (c.isascii() and c.isalnum()) or ord(c) >= 0x80


def is_cjk(keyword):
    return all(0x3000 <= ord(c) <= 0x9FFF or 0xF900 <= ord(c) <= 0xFAFF for c in keyword)


def keyword_at(text, keyword):
    """Start of the first match of keyword in text, or -1."""
    low = ascii_lower(text)
    start = low.find(keyword)
    while start >= 0:
        end = start + len(keyword)
        if is_cjk(keyword):
            return start
        before_ok = start == 0 or not is_word_char(low[start - 1])
        after_ok = end == len(low) or not is_word_char(low[end])
        if before_ok and after_ok:
            return start
        start = low.find(keyword, start + 1)
    return -1


def keyword_found(text, keyword):
    return keyword_at(text, keyword) >= 0


def span(text, entry):
    """The text's own spelling of the entry's first keyword (in lexicon order) that matches."""
    for k in LEXICON[entry][0]:
        at = keyword_at(text, k)
        if at >= 0:
            return text[at:at + len(k)]
    return None


def hits(text):
    """Indices of the lexicon entries with at least one keyword in text, ascending."""
    return [i for i, (kws, *_rest) in enumerate(LEXICON) if any(keyword_found(text, k) for k in kws)]


def classify(n):
    return "non" if n == 0 else ("partial" if n == 1 else "full")


# ---------------------------------------------------------------------------------------------------
# Neutral, non-personalizable questions (math, code, conversion, facts).
# ---------------------------------------------------------------------------------------------------
CODE = [
    ("Write a function that reverses a string.", "def reverse(s):\n    return s[::-1]"),
    ("How do I sort a list of tuples by the second element?", "Use sorted(items, key=lambda t: t[1])."),
    ("What does `git rebase -i HEAD~3` do?", "It opens an editor to reorder, squash or edit the last three commits."),
    ("Explain the difference between a stack and a queue.", "A stack is last-in first-out; a queue is first-in first-out."),
    ("Fix this loop: `for i in range(10) print(i)`", "Add a colon: `for i in range(10): print(i)`."),
    ("What is the time complexity of binary search?", "O(log n) comparisons."),
    ("How do I read a file line by line in C++?", "Use std::ifstream and std::getline in a while loop."),
    ("Write a SQL query that counts orders per customer.",
     "SELECT customer_id, COUNT(*) FROM orders GROUP BY customer_id;"),
    ("What does the `static` keyword mean on a C function?", "The function has internal linkage: it is visible only in its translation unit."),
    ("How can I merge two dictionaries?", "Use `a | b` or `{**a, **b}`."),
    ("Why does 0.1 + 0.2 not equal 0.3 in floating point?", "Because 0.1 and 0.2 have no exact binary representation."),
    ("Write a regular expression that matches a hexadecimal colour like #1a2b3c.", "^#[0-9a-fA-F]{6}$"),
    ("What is a race condition?", "Two threads access shared state and the result depends on their timing."),
    ("How do I undo the last commit but keep the changes?", "git reset --soft HEAD~1"),
]

FACTS = [
    ("What is the capital of Australia?", "Canberra."),
    ("When did the Berlin Wall fall?", "On 9 November 1989."),
    ("How far is the Moon from the Earth?", "About 384,400 km on average."),
    ("Who wrote Pride and Prejudice?", "Jane Austen, in 1813."),
    ("What is the boiling point of water at sea level?", "100 degrees Celsius."),
    ("How many bones are in the adult human body?", "206."),
    ("What is the chemical symbol for gold?", "Au."),
    ("Which planet is the largest in the solar system?", "Jupiter."),
    ("What is the speed of light in a vacuum?", "299,792,458 metres per second."),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci."),
    ("What is the longest river in Africa?", "The Nile."),
    ("How many sides does a hexagon have?", "Six."),
    ("What year did the first Moon landing happen?", "1969."),
    ("What is photosynthesis?", "The process by which plants turn light, water and carbon dioxide into sugar and oxygen."),
    ("What is the tallest mountain on Earth?", "Mount Everest, 8,849 m."),
]

COUNTRIES = [("France", "Paris"), ("Japan", "Tokyo"), ("Kenya", "Nairobi"), ("Peru", "Lima"),
             ("Norway", "Oslo"), ("Egypt", "Cairo"), ("Chile", "Santiago"), ("Vietnam", "Hanoi")]


def neutral_question(rng):
    kind = rng.choice(["mul", "lin", "prime", "km", "f2c", "g2oz", "code", "code", "fact", "fact", "capital"])
    if kind == "mul":
        a, b = rng.randint(12, 99), rng.randint(12, 99)
        return f"What is {a} times {b}?", f"{a} times {b} is {a * b}."
    if kind == "lin":
        a, x, b = rng.randint(2, 9), rng.randint(-9, 12), rng.randint(1, 30)
        return f"Solve for x: {a}x + {b} = {a * x + b}", f"x = {x}."
    if kind == "prime":
        n = rng.randint(50, 400)
        prime = n > 1 and all(n % d for d in range(2, int(n ** 0.5) + 1))
        return f"Is {n} a prime number?", ("Yes, it is prime." if prime else "No, it is not prime.")
    if kind == "km":
        n = rng.randint(2, 200)
        return f"Convert {n} kilometres to miles.", f"{n} km is about {n * 0.621371:.1f} miles."
    if kind == "f2c":
        n = rng.randint(-20, 110)
        return f"What is {n} degrees Fahrenheit in Celsius?", f"{n} F is {(n - 32) * 5 / 9:.1f} C."
    if kind == "g2oz":
        n = rng.choice([50, 100, 125, 200, 250, 500, 750])
        return f"How many ounces are in {n} grams?", f"{n} g is about {n / 28.3495:.2f} oz."
    if kind == "code":
        return rng.choice(CODE)
    if kind == "fact":
        return rng.choice(FACTS)
    country, capital = rng.choice(COUNTRIES)
    return f"What is the capital of {country}?", f"{capital}."


def lower_first(s):
    return s[0].lower() + s[1:] if s[:2] != "I " and s[:2] != "I'" else s


def upper_first(s):
    return s[0].upper() + s[1:]


def personal_text(rng, entries, identifier=None):
    """A user text that states the given lexicon entries, optionally with an identifier sentence."""
    sentences = [upper_first(rng.choice(LEXICON[i][3])) + "." for i in entries]
    if identifier:
        sentences.insert(rng.randint(0, len(sentences)), identifier + ".")
    return " ".join(sentences) + " " + rng.choice(REQUESTS)


# The entries whose keywords are all non-English (their statements appear only in FOREIGN texts).
NON_ENGLISH_KEYWORDS = {"hund", "randonnée", "fútbol", "素食"}
ENGLISH_ENTRIES = [i for i, e in enumerate(LEXICON) if not NON_ENGLISH_KEYWORDS & set(e[0])]


class Gen:
    """Draws exchanges with the target mix: 35% non, 35% one keyword, 30% two or more."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.ident = list(IDENTIFIERS)
        self.rng.shuffle(self.ident)

    def exchange(self, with_identifier=False):
        rng = self.rng
        r = rng.random()
        if with_identifier:
            r = 0.5 if r < 0.5 else 0.9  # identifiers only in personal texts
        ident = None
        if with_identifier and self.ident:
            ident = self.ident.pop()
        if r < 0.35:
            user, assistant = neutral_question(rng)
            want = 0
        else:
            n = 1 if r < 0.70 else rng.choice([2, 2, 2, 3])
            entries = rng.sample(ENGLISH_ENTRIES, n)
            user = personal_text(rng, entries, ident[0] if ident else None)
            assistant = rng.choice(ASSISTANT_PERSONAL)
            want = n
        got = hits(user)
        assert len(got) == want, (user, got, want)
        return user, assistant, (ident[1] if ident else None)


# ---------------------------------------------------------------------------------------------------
def dump(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def main():
    # Self-checks of the lexicon and the neutral texts.
    for i, (kws, path, desc, says) in enumerate(LEXICON):
        assert 2 <= len(path) <= 4, path
        assert all(k == ascii_lower(k) for k in kws), kws
        for s in says:
            assert hits(s) == [i], (s, hits(s), i)
    for text in REQUESTS + ASSISTANT_PERSONAL + [s for s, _ in IDENTIFIERS] + [q for q, _ in CODE + FACTS]:
        assert hits(text) == [], (text, hits(text))

    lexicon = [{"keywords": kws, "path": path, "description": desc, "evidence": kws[0]}
               for kws, path, desc, _ in LEXICON]
    with open(os.path.join(HERE, "lexicon.json"), "w", encoding="utf-8") as f:
        f.write("[\n" + ",\n".join("  " + dump(e) for e in lexicon) + "\n]\n")

    g = Gen(SEED)
    rng = g.rng
    truth = []          # one record per exchange
    no_exchange = []    # lines that hold no exchange

    def record(file, line, index, user, lang="en", identifier=None):
        h = hits(user)
        rec = {"file": file, "line": line, "exchange": index, "class": classify(len(h)),
               "hits": [{"entry": i, "path": LEXICON[i][1], "span": span(user, i)} for i in h], "lang": lang}
        if identifier:
            rec["identifiers"] = [identifier]
        if user.strip() == "":
            rec["empty"] = True
        truth.append(rec)

    foreign = list(FOREIGN)
    # Spread the 15 foreign exchanges: 6 in openai, 5 in sharegpt, 4 in qa.
    foreign_by_file = {"openai.jsonl": foreign[0:1] + foreign[4:6] + foreign[8:9] + foreign[11:13],
                       "sharegpt.jsonl.gz": foreign[1:2] + foreign[6:7] + foreign[9:10] + foreign[13:15],
                       "qa.jsonl": foreign[2:4] + foreign[7:8] + foreign[10:11]}
    assert sum(len(v) for v in foreign_by_file.values()) == len(FOREIGN)

    def plan(n_lines, n_foreign, n_ident, specials):
        """Line kinds: 'n' normal, 'f' foreign, 'i' with identifier, plus special kinds at fixed spots."""
        kinds = ["f"] * n_foreign + ["i"] * n_ident
        kinds += ["n"] * (n_lines - len(kinds) - len(specials))
        rng.shuffle(kinds)
        for pos, kind in specials:
            kinds.insert(pos, kind)
        return kinds

    # ---- openai.jsonl: 120 lines ----
    lines = []
    fq = list(foreign_by_file["openai.jsonl"])
    kinds = plan(120, len(fq), 4, [(17, "empty-content"), (58, "empty-list"), (91, "blank")])
    systems = ["You are a helpful assistant.", "You are a concise assistant. Answer briefly."]
    for ln, kind in enumerate(kinds, start=1):
        if kind == "blank":
            lines.append("")
            no_exchange.append({"file": "openai.jsonl", "line": ln, "why": "blank line"})
            continue
        if kind == "empty-list":
            lines.append(dump({"messages": []}))
            no_exchange.append({"file": "openai.jsonl", "line": ln, "why": "empty messages list"})
            continue
        msgs = []
        if rng.random() < 0.4:
            msgs.append({"role": "system", "content": rng.choice(systems)})
        if kind == "empty-content":
            msgs += [{"role": "user", "content": ""}, {"role": "assistant", "content": "Could you tell me more?"}]
            record("openai.jsonl", ln, 0, "")
            lines.append(dump({"messages": msgs}))
            continue
        turns = 1 if rng.random() < 0.8 else rng.choice([2, 2, 3])
        for t in range(turns):
            if kind == "f" and t == 0:
                lang, user, assistant = fq.pop()
                ident = None
            else:
                lang = "en"
                user, assistant, ident = g.exchange(with_identifier=(kind == "i" and t == 0))
            msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
            record("openai.jsonl", ln, t, user, lang, ident)
        lines.append(dump({"messages": msgs}))
    assert not fq
    with open(os.path.join(HERE, "openai.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

    # ---- sharegpt.jsonl.gz: 100 lines ----
    lines = []
    fq = list(foreign_by_file["sharegpt.jsonl.gz"])
    kinds = plan(100, len(fq), 4, [(33, "empty-content")])
    for ln, kind in enumerate(kinds, start=1):
        roles = ("user", "assistant") if ln % 12 == 5 else ("human", "gpt")
        conv = []
        if kind == "empty-content":
            conv = [{"from": roles[0], "value": ""}, {"from": roles[1], "value": "What would you like to know?"}]
            record("sharegpt.jsonl.gz", ln, 0, "")
        else:
            turns = 1 if rng.random() < 0.9 else 2
            for t in range(turns):
                if kind == "f" and t == 0:
                    lang, user, assistant = fq.pop()
                    ident = None
                else:
                    lang = "en"
                    user, assistant, ident = g.exchange(with_identifier=(kind == "i" and t == 0))
                conv += [{"from": roles[0], "value": user}, {"from": roles[1], "value": assistant}]
                record("sharegpt.jsonl.gz", ln, t, user, lang, ident)
        lines.append(dump({"conversations": conv}))
    assert not fq
    raw = ("\n".join(lines) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as z:
        z.write(raw)
    with open(os.path.join(HERE, "sharegpt.jsonl.gz"), "wb") as f:
        f.write(buf.getvalue())

    # ---- qa.jsonl: 80 lines ----
    lines = []
    fq = list(foreign_by_file["qa.jsonl"])
    kinds = plan(80, len(fq), 3, [(44, "empty-content")])
    for ln, kind in enumerate(kinds, start=1):
        if kind == "empty-content":
            user, assistant, lang, ident = "", "Please ask a question.", "en", None
        elif kind == "f":
            (lang, user, assistant), ident = fq.pop(), None
        else:
            lang = "en"
            user, assistant, ident = g.exchange(with_identifier=(kind == "i"))
        record("qa.jsonl", ln, 0, user, lang, ident)
        lines.append(dump({"question": user, "answer": assistant}))
    assert not fq
    with open(os.path.join(HERE, "qa.jsonl"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")

    # ---- bad.jsonl: good lines (openai format) mixed with malformed ones ----
    bad = []        # list of (bytes, why or None)

    def good():
        user, assistant, _ = g.exchange()
        return dump({"messages": [{"role": "user", "content": user},
                                  {"role": "assistant", "content": assistant}]}).encode("utf-8"), user

    good_users = {}

    def add_good():
        data, user = good()
        bad.append((data, None))
        good_users[len(bad)] = user

    add_good()
    bad.append((b"this is not json at all", "not JSON"))
    add_good()
    bad.append((b'[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]',
                "a JSON array, not an object"))
    bad.append((b'{"prompt": "What is 2 + 2?", "completion": "4"}',
                "an object of none of the three formats (no messages, conversations or question/answer)"))
    add_good()
    bad.append((b'{"messages": [{"role": "user", "content": ["I am vegan", "and I hike"]}, '
                b'{"role": "assistant", "content": "ok"}]}', "a message content that is not a string (array)"))
    bad.append((b'{"messages": [{"role": "user", "content": 42}, {"role": "assistant", "content": "ok"}]}',
                "a message content that is not a string (number)"))
    add_good()
    huge = ("The quick brown fox jumps over the lazy dog while the clock ticks. " * 4600)[:300000]
    assert hits(huge) == []
    bad.append((dump({"messages": [{"role": "user", "content": huge},
                                   {"role": "assistant", "content": "That is a lot of text."}]}).encode("utf-8"),
                "oversized: valid JSON, but the user message is 300,000 bytes (far beyond any sensible exchange)"))
    oversized_line = len(bad)
    bad.append((b'{"messages": [{"role": "user", "content": "caf\xe9 au lait, s\xeel vous pla\xeet"}, '
                b'{"role": "assistant", "content": "ok"}]}', "invalid UTF-8 (Latin-1 bytes 0xE9, 0xEE)"))
    add_good()
    bad.append((b'{"messages": "hello there"}', "messages is not a list"))
    bad.append((b'{"messages": [{"content": "I have a peanut allergy."}, {"role": "assistant", "content": "ok"}]}',
                "a message without a role"))
    bad.append((b"", None))  # blank line: skipped, not an error
    add_good()
    bad.append((b'{"question": "What is the capital of Peru?"}', "a question without an answer"))
    bad.append((b'{"conversations": [{"speaker": "human", "text": "hi"}]}',
                "conversations entries without from/value"))
    add_good()
    bad.append((b"42", "a JSON number, not an object"))
    add_good()
    bad.append((b'{"messages": [{"role": "user", "content": "I walk my dog twice a day and',
                "torn last line: no closing quote, brackets or newline"))

    malformed, good_lines, blank_lines = [], [], []
    for ln, (data, why) in enumerate(bad, start=1):
        if why:
            malformed.append({"line": ln, "why": why})
        elif data == b"":
            blank_lines.append(ln)
        else:
            good_lines.append(ln)
            record("bad.jsonl", ln, 0, good_users[ln])
    with open(os.path.join(HERE, "bad.jsonl"), "wb") as f:
        f.write(b"\n".join(d for d, _ in bad))  # no newline after the torn last line
    with open(os.path.join(HERE, "bad.expected.json"), "w", encoding="utf-8") as f:
        json.dump({"file": "bad.jsonl", "lines": len(bad), "format": "openai", "good": good_lines,
                   "blank": blank_lines, "malformed": malformed,
                   "note": f"line {oversized_line} is valid JSON in the openai format; it is listed as malformed "
                           "because a 300,000-byte user message should be refused by a size limit, not sent to a "
                           "model"},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")

    # ---- truth.json ----
    counts = {}
    for r in truth:
        key = r["file"]
        c = counts.setdefault(key, {"exchanges": 0, "non": 0, "partial": 0, "full": 0})
        c["exchanges"] += 1
        c[r["class"]] += 1
    with open(os.path.join(HERE, "truth.json"), "w", encoding="utf-8") as f:
        f.write("{\n")
        f.write(' "rule": "hits = lexicon entries with at least one keyword in the exchange\'s user text '
                '(README.md: matching); 0 hits = non, 1 = partial, 2 or more = full",\n')
        f.write(' "counts": ' + dump(counts) + ",\n")
        f.write(' "no_exchange_lines": ' + dump(no_exchange) + ",\n")
        f.write(' "exchanges": [\n' + ",\n".join("  " + dump(r) for r in truth) + "\n ]\n}\n")

    total = {k: sum(c[k] for c in counts.values()) for k in ["exchanges", "non", "partial", "full"]}
    print("exchanges:", total, file=sys.stderr)


if __name__ == "__main__":
    main()
