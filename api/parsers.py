"""The API's parser: JSON only, refusing what no column can store."""

from rest_framework import exceptions, parsers

from config.middleware import UNSTORABLE, UNSTORABLE_MESSAGE


class JSONBodyParser(parsers.JSONParser):
    """JSON, refusing what no column can store, with the error shape of the API.

    NUL and lone surrogates (``"\\u0000"``, ``"\\ud800"``) are valid JSON but cannot be
    stored in PostgreSQL text or any UTF-8 column; the middleware that refuses them in
    forms never sees a JSON body. A body nested too deep for the parser is no JSON either.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from None
        if _holds_unstorable(data):
            raise exceptions.ParseError(UNSTORABLE_MESSAGE)
        return data


def _holds_unstorable(data) -> bool:
    pending = [data]
    while pending:  # no recursion: the parser's nesting limit is not ours to meet again
        item = pending.pop()
        if isinstance(item, str):
            if UNSTORABLE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
