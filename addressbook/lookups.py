"""``field__any=[...]``: membership in a list sent as one array parameter.

On PostgreSQL ``= ANY(%s)`` binds a whole batch of addresses (or ids) as a single
parameter, where ``__in`` makes one placeholder per value; converting thousands of
placeholders cost more than running the query. Elsewhere it is a plain IN.
"""

from django.db.models import CharField, IntegerField, Lookup


@CharField.register_lookup
@IntegerField.register_lookup  # ids too: a batch of messages by their primary keys
class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False  # a list of values, not one value to coerce to text

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        values = list(self.rhs)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", lhs_params
        marks = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({marks})", [*lhs_params, *values]
