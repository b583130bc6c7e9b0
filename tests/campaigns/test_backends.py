import io

from campaigns.backends import OutboundSms, get_backend
from campaigns.backends.filebased import read_sent

SMS = OutboundSms(reference="7", to="+31612345678", sender="Acme", body="Hi\nOpt out: x")


def test_console_backend_prints_each_message():
    stream = io.StringIO()
    results = get_backend("campaigns.backends.console.ConsoleBackend", stream=stream).send_messages(
        [SMS]
    )
    assert [r.accepted for r in results] == [True]
    assert "to +31612345678" in stream.getvalue() and "Opt out: x" in stream.getvalue()


def test_file_backend_appends_json_lines(tmp_path):
    backend = get_backend("campaigns.backends.filebased.FileBackend", path=tmp_path)
    backend.send_messages([SMS])
    backend.send_messages([SMS])
    assert read_sent(tmp_path) == [SMS, SMS]
