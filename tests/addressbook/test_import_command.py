from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from addressbook.models import Contact

FILES = Path(__file__).parent / "files"


def test_staff_import_from_the_command_line(company, settings, tmp_path, capsys):
    settings.IMPORT_DIR = tmp_path
    call_command("import_contacts", company.slug, str(FILES / "messy.csv"), "--group", "Fair")
    out, err = capsys.readouterr()
    assert "Imported 11 rows" in out and "7 created" in out and "3 invalid" in out
    assert "[" in err and "11/11 rows" in err  # the progress bar
    assert Contact.objects.filter(company=company).count() == 7
    assert company.groups.get(name="Fair").contacts.count() == 7


def test_command_refuses_a_missing_company_or_file(company, tmp_path):
    with pytest.raises(CommandError, match="No company"):
        call_command("import_contacts", "nope", str(FILES / "messy.csv"))
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_contacts", company.slug, str(tmp_path / "missing.csv"))


def test_command_takes_an_explicit_mapping(company, settings, tmp_path):
    settings.IMPORT_DIR = tmp_path
    source = tmp_path / "plain.csv"
    source.write_text("a,b\n0612345678,Ada\n")
    call_command(
        "import_contacts", company.slug, str(source), "--map", "a=phone", "--map", "1=first_name"
    )
    assert Contact.objects.get().first_name == "Ada"
