"""A file cut into ranges, each imported by a task of its own: every row once, in any
order, resumed exactly, whatever a row's line breaks or the file's encoding."""

import codecs

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from addressbook import tasks
from addressbook.csvfiles import MAX_LINE, Format, read_rows, read_rows_at, row_starts
from addressbook.models import Contact, ImportJob
from addressbook.services import imports
from addressbook.services.imports import create_import, plan_import, run_import, run_import_range
from optout.selectors import suppressed_among
from optout.services import record_optout
from tests.factories import ContactFactory


@pytest.fixture(autouse=True)
def _small_ranges(settings, tmp_path, monkeypatch):
    settings.IMPORT_DIR = tmp_path
    settings.IMPORT_RANGE_ROWS = 4
    monkeypatch.setattr(imports, "BATCH_SIZE", 2)


def upload(company, content: bytes, name: str = "r.csv") -> ImportJob:
    return create_import(
        company=company, upload=SimpleUploadedFile(name, content, content_type="text/csv")
    )


# 13 data rows, so ranges 1–4, 5–8, 9–12 and 13: row 4's quoted name holds a line break
# and ends in range 1 on the line where range 2 would start if lines were rows; row 7 is
# row 2's number again (a duplicate in another range), row 11 row 1's email; row 6 is
# blank, row 9 has no address, row 12 a bad number, row 13 is opted out.
FILE = (
    b"phone,email,first_name\n"
    b"+31612345601,ada@example.nl,Ada\n"  # 1
    b"06 12345602,,Bo\n"  # 2
    b"+31612345603,,Cy\n"  # 3
    b'+31612345604,,"Two\n'
    b'4,5,6 lines"\n'  # 4
    b"+31612345605,,Ed\n"  # 5
    b"\n"  # 6
    b"0031612345602,,Bo again\n"  # 7
    b"+31612345608,,Flo\n"  # 8
    b",,Nobody\n"  # 9
    b"+31612345610,,Gus\n"  # 10
    b",ada@Example.NL,Ada again\n"  # 11
    b"12345,,Short\n"  # 12
    b"+31612345613,,Gone\n"  # 13
)

COUNTS = {"created": 8, "duplicate": 2, "invalid": 2, "opted_out": 1}


def _check(company, job: ImportJob) -> None:
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert job.counts == COUNTS
    assert job.rows_total == job.rows_done == 13 and job.percent == 100
    names = dict(company.contacts.values_list("phone", "first_name"))
    assert len(names) == Contact.objects.count() == 8
    assert names["+31612345604"] == "Two\n4,5,6 lines"
    assert names["+31612345602"] in ("Bo", "Bo again")  # whichever range came first
    assert {r.row: r.reason for r in job.rejections.all()}.keys() == {9, 12}


def test_every_row_of_a_file_in_several_ranges_is_imported_once(company):
    record_optout(company=company, address="+31612345613", source="api")
    job = upload(company, FILE)

    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)

    ranges = list(job.ranges.values_list("first_row", "last_row", "rows_done"))
    assert ranges == [(1, 4, 4), (5, 8, 4), (9, 12, 4), (13, 13, 1)]
    _check(company, job)


def test_range_tasks_in_any_order_end_the_same(company, monkeypatch):
    record_optout(company=company, address="+31612345613", source="api")
    job = upload(company, FILE)
    queued = []
    monkeypatch.setattr(tasks.run_import_range_task, "delay", lambda *args: queued.append(args))

    tasks.run_import_task(job.pk)
    assert queued == [(job.pk, n) for n in range(4)]
    for args in reversed(queued):
        job.refresh_from_db()
        assert job.status == ImportJob.Status.RUNNING  # until the last range ends
        tasks.run_import_range_task(*args)

    _check(company, job)


def test_a_killed_range_resumes_without_duplicates(company):
    record_optout(company=company, address="+31612345613", source="api")
    job = upload(company, FILE)
    assert plan_import(job_id=job.pk) == [0, 1, 2, 3]

    def die_after_first_batch(job):
        raise KeyboardInterrupt  # the worker is killed right after a committed batch

    run_import_range(job_id=job.pk, number=0, suppressed_of=suppressed_among)
    with pytest.raises(KeyboardInterrupt):
        run_import_range(
            job_id=job.pk, number=1, suppressed_of=suppressed_among, progress=die_after_first_batch
        )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
    assert job.rows_done == 4 + 3  # range 1 whole, rows 5 to 7 of range 2 (6 is blank)
    assert job.ranges.get(number=1).rows_done == 3

    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)  # what a resume runs

    _check(company, job)


def test_a_second_task_on_a_range_being_imported_writes_nothing_twice(company):
    """A redelivered task, or a resume beside a live worker: one of the two goes on."""
    record_optout(company=company, address="+31612345613", source="api")
    job = upload(company, FILE)
    plan_import(job_id=job.pk)
    calls = []

    def meanwhile_another_task_takes_the_range(job):
        calls.append(job.rows_done)
        if len(calls) == 1:
            run_import_range(job_id=job.pk, number=1, suppressed_of=suppressed_among)

    run_import_range(
        job_id=job.pk,
        number=1,
        suppressed_of=suppressed_among,
        progress=meanwhile_another_task_takes_the_range,
    )
    assert calls == [3]  # the first task found its range moved on, and stopped
    job = run_import(job_id=job.pk, suppressed_of=suppressed_among)

    _check(company, job)


def test_an_import_begun_before_ranges_goes_on_from_its_last_row(company):
    """A job interrupted by an upgrade: its rows_done rows are not read again."""
    job = upload(company, b"phone\n+31612345601\n+31612345602\n+31612345603\n+31612345604\n")
    ContactFactory(company=company, phone="+31612345601", last_import=job)
    ImportJob.objects.filter(pk=job.pk).update(
        status="running", rows_total=4, rows_done=1, counts={"created": 1}
    )

    job = run_import(job_id=job.pk)

    assert job.status == ImportJob.Status.DONE
    assert job.counts == {"created": 4} and job.rows_done == 4
    assert company.contacts.count() == 4


def test_a_file_of_a_header_alone_is_done_at_once(company):
    job = run_import(job_id=upload(company, b"phone,email\n").pk)
    assert job.status == ImportJob.Status.DONE
    assert (job.rows_total, job.rows_done, job.counts) == (0, 0, {})


def test_cutting_a_file_twice_cuts_it_alike(company):
    job = upload(company, FILE)
    imports._cut(job)
    imports._cut(job)  # a second task that found no ranges yet, a moment later
    assert job.ranges.count() == 4
    job = run_import(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE and job.rows_done == 13


def test_a_utf16_file_is_cut_into_ranges_too(company):
    lines = ["phone\tname", *(f"+316123456{i:02d}\tZoë {i}" for i in range(1, 11))]
    job = upload(company, "\n".join(lines).encode("utf-16"), name="u.csv")
    assert job.encoding == "utf-16"

    job = run_import(job_id=job.pk)

    assert job.ranges.count() == 3
    assert set(job.ranges.values_list("start_offset", flat=True)) == {None}
    assert job.counts == {"created": 10} and job.rows_done == 10
    assert company.contacts.get(phone="+31612345610").first_name == "Zoë 10"


@pytest.mark.parametrize(
    "content, encoding",
    [
        (b'p,n\r\n+1,"A\r\nB"\r\n\r\n+2,C\r\n+3,D\r\n+4,E', "utf-8-sig"),
        (b'p,n\r+1,"x\ry"\r\r+2,z\r+3,\r', "utf-8-sig"),  # old Mac line ends
        (
            codecs.BOM_UTF8
            + 'p;n\n1;Zoë\n2;"multi\nline é"\n3;\ufeffx\n\n4;é\n'.encode()
            + b"5;\xff\xe2\x82\n6;y",
            "utf-8-sig",
        ),
        ("p;n\n1;Zoë\n2;€\n".encode("cp1252") + b"3;\x81\n", "cp1252"),
        (
            b"p,n\n+1,Ada\n+2,"
            + "é".encode() * (MAX_LINE // 2 + 10)  # under 1 MB of text, over 1 MB of bytes
            + b"\n+3,Bo\n+4,"
            + "é".encode() * (MAX_LINE + 1)
            + b"\r\n+5,"
            + b"x" * (MAX_LINE + 5)
            + b"\n+6,x\n",
            "utf-8-sig",
        ),
    ],
)
@pytest.mark.parametrize("every", [1, 2, 3, 100])
def test_ranges_read_the_rows_the_whole_file_has(tmp_path, content, encoding, every):
    path = tmp_path / "f.csv"
    path.write_bytes(content)
    fmt = Format(encoding=encoding, delimiter=";" if b";" in content[:8] else ",")
    whole = list(read_rows(path, fmt))[1:]

    total, starts = row_starts(path, fmt, every)

    assert total == len(whole)
    ends = [offset for _, offset in starts[1:]] + [len(content)]
    cut = [
        list(read_rows_at(path, fmt, start, end))
        for (_, start), end in zip(starts, ends, strict=True)
    ]
    assert [first for first, _ in starts] == list(range(1, total + 1, every))
    assert [len(rows) for rows in cut[:-1]] == [every] * (len(cut) - 1)
    assert [row for rows in cut for row in rows] == whole
