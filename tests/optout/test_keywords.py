"""How replies are read: whole-message keywords after folding case, accents, punctuation."""

import pytest

from optout.services import match_keyword

STOP, START, HELP = "stop", "start", "help"

VECTORS = [
    # text, sender country, expected action
    ("STOP", "FR", STOP),
    ("stop", "FR", STOP),
    ("Stop.", "GB", STOP),
    (" STOP ", "GB", STOP),
    ("STOP!!!", "GB", STOP),
    ("stop 🙏", "US", STOP),
    ("🛑 STOP 🛑", "US", STOP),
    ("S.T.O.P", "GB", STOP),
    ("\tStop\n", "NL", STOP),
    ("Stop all", "US", STOP),
    ("STOPALL", "US", STOP),
    ("unsubscribe", "US", STOP),
    ("Unsubscribe.", "US", STOP),
    ("cancel", "US", STOP),
    ("END", "US", STOP),
    ("quit", "US", STOP),
    ("revoke", "US", STOP),
    ("opt out", "US", STOP),
    ("Opt-Out", "US", STOP),
    ("OPTOUT", "US", STOP),
    ("remove", "US", STOP),
    ("ARRET", "CA", STOP),
    ("Arrêt", "FR", STOP),
    ("arrête", "FR", STOP),
    ("ARRÊT !", "FR", STOP),
    ("stopp", "DE", STOP),
    ("Stoppen", "NL", STOP),
    ("afmelden", "NL", STOP),
    ("Abmelden", "DE", STOP),
    ("detener", "ES", STOP),
    ("salir", "ES", STOP),
    ("parar", "BR", STOP),
    ("TSOP", "BE", STOP),
    ("sotp", "BE", STOP),
    ("stpo", "BE", STOP),
    ("START", "FR", START),
    ("start", "GB", START),
    ("Unstop", "US", START),
    ("yes", "US", START),
    ("YES!", "CA", START),
    ("yes", "FR", None),  # YES opts in only where the country allows it
    ("HELP", "GB", HELP),
    ("help?", "US", HELP),
    ("info", "US", HELP),
    ("AIDE", "CA", HELP),
    ("hilfe", "DE", HELP),
    ("ayuda", "ES", HELP),
    ("Hello", "GB", None),
    ("please stop texting me", "US", None),
    ("STOP PLEASE", "US", None),
    ("Don't stop", "GB", None),
    ("stopping", "GB", None),
    ("no", "GB", None),
    ("", "GB", None),
    ("   ", "GB", None),
    ("🙏", "GB", None),
]


@pytest.mark.parametrize("text, country, expected", VECTORS)
def test_reply_is_read_as(db, text, country, expected):
    match = match_keyword(text, country=country)
    assert (match.action if match else None) == expected


def test_stop_start_help_work_even_without_their_rows(db):
    from optout.models import Keyword

    Keyword.objects.filter(word__in=["stop", "start", "help"]).delete()
    assert [match_keyword(w).action for w in ("Stop", "START", "help!")] == [STOP, START, HELP]


def test_staff_added_keyword_is_understood(db):
    from optout.models import Keyword

    Keyword.objects.create(word="baja", action=STOP, language="es")
    assert match_keyword("¡Baja!").action == STOP


def test_staff_cannot_delete_or_change_stop(admin_client):
    from optout.models import Keyword

    stop = Keyword.objects.get(word="stop")
    assert (
        admin_client.post(f"/admin/optout/keyword/{stop.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    admin_client.post(
        f"/admin/optout/keyword/{stop.pk}/change/",
        {"word": "stahp", "action": "help", "language": ""},
    )
    stop.refresh_from_db()
    assert (stop.word, stop.action) == ("stop", STOP)
