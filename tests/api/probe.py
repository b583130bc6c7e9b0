"""A small endpoint on the real foundation, for the tests of what every endpoint shares.

``GET /api/v1/probe`` answers which key and company it sees; ``POST /api/v1/probe``
creates a group (so "did it run twice?" is a row count), fails on request, or waits
for the test to let it go (a request still in progress). Mounted beside the project's
own URLs with ``@pytest.mark.urls("tests.api.probe")``.
"""

import threading

from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework.response import Response

from addressbook.models import Group
from addressbook.services.groups import GroupError, create_group
from addressbook.tenancy import get_for_company
from api.base import CompanyAPIView, Conflict, idempotent

# Set by a test to hold a POST with {"wait": true} inside its handler until released.
entered = threading.Event()
release = threading.Event()
# Set by a test: the next POST fails with a server error, as a gateway outage would.
fail_next = threading.Event()


class ProbeRow(serializers.Serializer):
    phone = serializers.CharField(max_length=20)


class ProbeInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    fail = serializers.ChoiceField(choices=["", "server", "conflict", "missing"], default="")
    wait = serializers.BooleanField(default=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=5), required=False)
    rows = ProbeRow(many=True, required=False)


class Probe(CompanyAPIView):
    def get(self, request):
        groups = Group.objects.filter(company=self.company).count()
        return Response({"company": self.company.name, "key": request.auth.name, "groups": groups})

    @idempotent
    def post(self, request):
        given = ProbeInput(data=request.data)
        given.is_valid(raise_exception=True)
        if given.validated_data["wait"]:
            entered.set()
            release.wait(timeout=30)
        fail = given.validated_data["fail"]
        if fail == "server" or fail_next.is_set():
            fail_next.clear()
            raise RuntimeError("the gateway fell over")
        if fail == "conflict":
            raise Conflict("Not now.")
        if fail == "missing":
            get_for_company(Group.objects, self.company, pk=0)
        try:
            group = create_group(company=self.company, name=given.validated_data["name"])
        except GroupError as exc:
            raise Conflict(str(exc)) from exc
        return Response({"id": group.pk, "name": group.name}, status=201)


class GroupOut(serializers.ModelSerializer):
    class Meta:
        model = Group
        fields = ["id", "name"]


class ProbeGroups(CompanyAPIView, generics.ListAPIView):
    serializer_class = GroupOut

    def get_queryset(self):
        return Group.objects.filter(company=self.company)


urlpatterns = [
    path("api/v1/probe", Probe.as_view()),
    path("api/v1/probe/groups", ProbeGroups.as_view()),
    path("", include("config.urls")),
]
