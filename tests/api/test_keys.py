"""The key service: what is stored of a key, and what revoking changes."""

import hashlib

from api.keys import api_keys_of, create_api_key, key_for_secret, revoke_api_key
from api.models import ApiKey


def test_only_a_hash_of_the_key_is_stored(company, owner):
    issued = create_api_key(company=company, name="  CRM sync ", created_by=owner)
    row = ApiKey.objects.filter(company=company).values().get()
    assert issued.secret not in str(row)
    assert row["key_hash"] == hashlib.sha256(issued.secret.encode()).hexdigest()
    assert row["name"] == "CRM sync"
    assert issued.secret.startswith(f"oab_{row['prefix']}_") and len(row["prefix"]) == 12
    assert key_for_secret(issued.secret) == issued.key


def test_every_key_is_different(company):
    secrets = {create_api_key(company=company, name="k").secret for _ in range(20)}
    assert len(secrets) == 20
    assert len({s.split("_")[1] for s in secrets}) == 20


def test_revoking_twice_changes_nothing_the_second_time(company, issued_key):
    assert revoke_api_key(key=issued_key.key) is True
    first = ApiKey.objects.get(pk=issued_key.key.pk).revoked_at
    assert revoke_api_key(key=issued_key.key) is False
    assert ApiKey.objects.get(pk=issued_key.key.pk).revoked_at == first
    assert key_for_secret(issued_key.secret) == issued_key.key  # found, and refused as revoked


def test_the_list_is_the_companys_newest_first(company, other_company):
    create_api_key(company=other_company, name="Theirs")
    old = create_api_key(company=company, name="Old").key
    new = create_api_key(company=company, name="New").key
    revoke_api_key(key=old)
    assert list(api_keys_of(company=company)) == [new, old]
