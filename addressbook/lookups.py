"""``field__any=[...]``: membership in a list sent as one parameter.

On PostgreSQL ``= ANY(...)`` binds a whole batch of addresses (or ids) as a single
parameter, where ``__in`` makes one placeholder per value; converting thousands of
placeholders cost more than running the query. Texts without a line break go as one
text, split by the server (quoting a text is one call; an array of thousands of texts is
quoted value by value); other values as an array. Elsewhere it is a plain IN.
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
            if _joinable(values):
                return f"{lhs} = ANY(string_to_array(%s, chr(10)))", [
                    *lhs_params,
                    "\n".join(values),
                ]
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        if not values:
            return "1 = 0", lhs_params
        marks = ", ".join(["%s"] * len(values))
        return f"{lhs} IN ({marks})", [*lhs_params, *values]


def _joinable(values: list) -> bool:
    """Whether string_to_array gives the values back: texts, none empty, none with \\n."""
    return bool(values) and all(type(v) is str and v and "\n" not in v for v in values)
