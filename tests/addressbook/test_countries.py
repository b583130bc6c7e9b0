"""The English country names kept in addressbook.countries are phonenumbers' own."""

import json
import subprocess
import sys

from addressbook.countries import ENGLISH_NAMES, country_name


def test_the_names_are_phonenumbers_english_ones():
    # In a process of its own: the locale data would stay in this one's memory.
    script = (
        "import json, phonenumbers\n"
        "from phonenumbers.geocoder import _region_display_name as name\n"
        "regions = sorted(phonenumbers.SUPPORTED_REGIONS)\n"
        "print(json.dumps({r: name(r, 'en') for r in regions if name(r, 'en')}))\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(output) == ENGLISH_NAMES


def test_a_code_without_a_name_is_said_as_it_is():
    assert (country_name("FR"), country_name("XK")) == ("France", "XK")
