"""Reading a reply: fold it to a bare word and look that word up in the keyword table."""

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def normalize_reply(text: str) -> str:
    """`` Stop. `` → ``stop``; ``ARRÊT!`` → ``arret``; ``Opt-out 🙏`` → ``optout``.

    Case-folds, strips accents, then drops everything that is not a letter or digit, so a
    whole-message keyword survives the punctuation and emoji phones add.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_WORD.sub("", bare)
