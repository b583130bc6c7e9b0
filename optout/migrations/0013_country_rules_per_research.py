"""Country rules as the compliance research (sections 1 and 2) gives them.

South Africa gets STOP to a reply-capable shortcode beside its link (WASPA); Spain, the
United States, Canada and Australia get rules of their own instead of copies of the default;
every country the research gives hours for gets them. Where the research marks a point
UNCONFIRMED, the stricter reading is taken and the rule's note says so. Staff edit all of it
in admin; the shortcodes are stand-ins for the platform's real reply numbers.

Backwards puts back what the earlier seeds (0002, 0004, 0005) left and removes Spain.
"""

from django.db import migrations

ALL_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS = ALL_WEEK[:5]


def _hours(days, start: str, end: str, **others) -> dict:
    """Open ``start``-``end`` on ``days``; ``others`` set single days (None: closed)."""
    return {**dict.fromkeys(days, [start, end]), **others}


RULES = {
    "FR": {
        "method": "keyword",
        "shortcode": "36111",
        "template": "STOP au {shortcode}",
        # Research section 2: the sources disagree; their safe intersection.
        "send_hours": _hours(WEEKDAYS, "08:00", "20:00", sat=["10:00", "18:00"], sun=None),
        "skip_public_holidays": True,
        "note": (
            "Research section 1 [1][2][3][10]: STOP to the 5-digit 36xxx marketing number "
            "(af2m plan); the text must name it when the sender is alphanumeric. Hours "
            "(section 2 [3][7][8][89]): the sources disagree and none is primary, "
            "UNCONFIRMED; the strictest reading is taken: weekdays 08-20, Saturday 10-18, "
            "never Sunday or a public holiday. UNCONFIRMED as law: a confirmation SMS "
            "(smsmode), the fine up to 20,000 EUR."
        ),
    },
    "GB": {
        "method": "keyword",
        "shortcode": "82228",
        "template": "Reply STOP to {shortcode}",
        "send_hours": {},
        "skip_public_holidays": False,
        "note": (
            "Research section 1 [11][12][13][61]: PECR reg. 22, a simple free way to refuse "
            "in every message; the law names no keyword, STOP is practice. No statutory "
            "deadline found (UNCONFIRMED): suppress as soon as practically possible (CAP). "
            "Hours (section 2 [13][85][86]): no statutory quiet hours, so none are enforced; "
            "the DMA Code asks to avoid antisocial times and vendors suggest 09:00-20:00 "
            "(21:00-08:00 quiet on weekdays, 21:00-09:00 at weekends): set them here to follow it."
        ),
    },
    "BE": {
        "method": "keyword",
        "shortcode": "8210",
        "template": "STOP naar/au {shortcode}",
        "send_hours": {},
        "skip_public_holidays": False,
        "note": (
            "Research section 1 [17][18]: the operators' GOF guidelines; STOP to the short "
            "code ends it immediately, misspellings (TSOP) count. UNCONFIRMED: alphanumeric "
            "senders overwritten with short codes. Hours (section 2 [18]): 'no time "
            "restrictions' from one vendor only, UNCONFIRMED: none set; set them here if a "
            "rule is found."
        ),
    },
    "NL": {
        "method": "keyword",
        "shortcode": "3010",
        "template": "Afmelden: SMS STOP naar {shortcode}",
        "send_hours": {},
        "skip_public_holidays": False,
        "note": (
            "Research section 1 [14][15][16]: Telecommunicatiewet art. 11.7, an opt-out in "
            "every message. UNCONFIRMED: a free STOP reply, the word STOPPEN, the 24-hour "
            "deadline. Hours (section 2 [15][16]): no rule in the law found; only two "
            "low-authority vendor pages, which disagree (09:00-20:00 without Sundays and "
            "holidays, or 08:00-21:00), so none are enforced. Set 09:00-20:00, no Sunday, "
            "no public holiday here to follow the stricter of them."
        ),
    },
    "DE": {
        "method": "keyword",
        "shortcode": "44844",
        "template": "Abmelden: STOP an {shortcode}",
        "send_hours": {},
        "skip_public_holidays": False,
        "note": (
            "Research section 1 [19][20]: UWG para. 7(2) no. 3c, a valid address for stop "
            "requests at no more than basic rates, in every message. UNCONFIRMED: the word "
            "STOPP, any deadline. No sending hours found (section 2, UNCONFIRMED): none set."
        ),
    },
    "ZA": {
        "method": "keyword_link",
        "shortcode": "31222",
        "template": "Opt out: STOP to {shortcode} or {link}",
        # CPA Regulations, prohibited times (section 2 [25]; WASPA repeats it).
        "send_hours": _hours(WEEKDAYS, "08:00", "20:00", sat=["09:00", "13:00"], sun=None),
        "skip_public_holidays": True,
        "note": (
            "Research section 1 [21][22][23][24][26][27][88]: CPA s.11 and the WASPA Code: "
            "the recipient must be able to stop by replying STOP, at no more than a "
            "standard-rate SMS (never a premium number), and the marketer may charge no fee. "
            "31222 stands for the platform's shared, standard-rated ZA shortcode: set the "
            "real one here. A company's dedicated number (Dedicated numbers) can replace it: "
            "replies to it are that company's. UNCONFIRMED: the current WASPA text (v17.9) was not read, so "
            "its clause numbers and rules may have changed; the deadline of 2 working days "
            "(v11, 2011); the confirmation SMS that the number is on the opt-out list (per "
            "WinSMS only): the stricter reading is taken, STOP is confirmed by SMS. Hours "
            "(section 2 [25]): CPA Regulations."
        ),
    },
    "US": {
        "method": "keyword_link",
        "shortcode": "73981",
        "template": "Opt out: STOP to {shortcode} or {link}",
        # TCPA 08-21 local; Oklahoma's 08-20 (and Florida's, UNCONFIRMED) is the stricter.
        "send_hours": _hours(ALL_WEEK, "08:00", "20:00"),
        "skip_public_holidays": False,
        "help_template": (
            "{company}: marketing messages. Help: {contact}. Msg frequency varies. "
            "Msg&data rates may apply. Reply STOP to cancel."
        ),
        "note": (
            "Research section 1 [28]-[34][80][84]: TCPA and 47 CFR 64.1200; CTIA carrier "
            "rules. STOP and the FCC's words (quit, end, revoke, opt out, cancel, "
            "unsubscribe) opt out; honour within 10 business days; one confirmation text, "
            "no marketing in it. HELP gives the brand, a contact, the frequency, 'Msg&data "
            "rates may apply' and how to stop (CTIA). 73981 stands for the platform's US "
            "number: set the real one here; a company's dedicated number can replace it. "
            "UNCONFIRMED: a confirmation within 5 minutes. Hours (section 2 [28][35]): "
            "TCPA 08:00-21:00 local; Oklahoma 08:00-20:00 and Florida 08:00-20:00 "
            "(UNCONFIRMED): the stricter 08:00-20:00 is taken for every state."
        ),
    },
    "CA": {
        "method": "keyword_link",
        "shortcode": "55355",
        "template": "STOP/ARRET to/au {shortcode} or/ou {link}",
        # "Normal business hours" is the stricter of the two vendors' readings.
        "send_hours": _hours(WEEKDAYS, "09:00", "17:00", sat=None, sun=None),
        "skip_public_holidays": True,
        "note": (
            "Research section 1 [36][37][38][79][87]: CASL, a no-cost unsubscribe by the "
            "same electronic means, valid 60 days or more, no login (hence one tap); short "
            "codes answer STOP, ARRET, HELP, AIDE and INFO in English and French, STOP in "
            "English and ARRET in French. Give effect within 10 business days. 55355 stands "
            "for the platform's Canadian short code: set the real one here; a company's "
            "dedicated number can replace it. Hours (section 2 [85][90]): not in CASL; the "
            "vendors' 08:00-21:00 and 'normal business hours' are UNCONFIRMED: the stricter, "
            "weekdays 09:00-17:00 without public holidays, is taken."
        ),
    },
    "AU": {
        "method": "link",
        "shortcode": "",
        "template": "Opt out: {link}",
        "send_hours": {},
        "skip_public_holidays": False,
        "note": (
            "Research section 1 [39][40]: Spam Act 2003 (ACMA): a functional unsubscribe "
            "with clear instructions, no fee, working 30 days or more after the message, "
            "with no login or personal data (hence one tap); action within 5 working days. "
            "No sending hours found (section 2, UNCONFIRMED): none set."
        ),
    },
    "ES": {
        "method": "link",
        "shortcode": "",
        "template": "Darse de baja: {link}",
        "send_hours": {},
        "skip_public_holidays": False,
        "note": (
            "The research names no Spanish rule: the per-recipient link, in Spanish. Spanish "
            "reply words DETENER and SALIR (Sinch defaults [51]) are understood; BAJA is "
            "UNCONFIRMED. No sending hours in the research: none set."
        ),
    },
    "ZZ": {
        "method": "link",
        "shortcode": "",
        "template": "Opt out: {link}",
        "send_hours": {},
        "skip_public_holidays": False,
        "note": (
            "Every other country: the per-recipient short link to the landing page "
            "(research section 7 [72]-[75])."
        ),
    },
}

# What the seeds before this one left, for going back.
_SEEDED_LINK = {"method": "link", "shortcode": "", "template": "Opt out: {link}"}
BEFORE = {
    "FR": {"send_hours": RULES["FR"]["send_hours"], "skip_public_holidays": True},
    "GB": {},
    "BE": {},
    "NL": {},
    "DE": {},
    "ZA": {**_SEEDED_LINK, "send_hours": RULES["ZA"]["send_hours"], "skip_public_holidays": True},
    "US": {**_SEEDED_LINK, "send_hours": _hours(ALL_WEEK, "08:00", "21:00")},
    "CA": {**_SEEDED_LINK},
    "AU": {**_SEEDED_LINK},
    "ZZ": {},
}


def seed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    for country, fields in RULES.items():
        CountryRule.objects.update_or_create(country=country, defaults=fields)


def unseed(apps, schema_editor):
    CountryRule = apps.get_model("optout", "CountryRule")
    CountryRule.objects.filter(country__in=set(RULES) - set(BEFORE)).delete()
    for country, fields in BEFORE.items():
        before = {"send_hours": {}, "skip_public_holidays": False, **fields}
        CountryRule.objects.filter(country=country).update(**before, help_template="", note="")


class Migration(migrations.Migration):
    dependencies = [("optout", "0012_backfill_linked_address_events")]

    operations = [migrations.RunPython(seed, unseed)]
