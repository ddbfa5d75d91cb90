"""No DTD is ever processed: a document type declaration is found by expat's tokenizer before any parser sees it.

Entities (internal, external, parameter; a billion laughs) can only be declared in a DTD, so a feed that carries an
internal subset (`<!DOCTYPE rss [ ... ]>`) is refused as a whole, with one clear error. A DOCTYPE that only names an
external DTD (`<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "...">`, still served by old
RSS 0.91 feeds) declares nothing here; it is cut off with the rest of the prolog and the DTD is never loaded.

Where the declaration is is decided by expat reading the prolog (comments, processing instructions, a BOM, odd
whitespace and quoted `>` included), not by a pattern: `<!-- <a -->` or `<?pi <rss ?>` before the DOCTYPE cannot
hide it. Expat stops at the root element's start tag, before reading any of the DTD's declarations.

Behind this check, feedparser gets a SAX parser that refuses any DTD or entity declaration (`create_parser`, found
through feedparser's `PREFERRED_XML_PARSERS`), and connectors.feedparse refuses a document in which feedparser's own
prolog rewrite (`replace_doctype`) would find entities for its loose parser: defense in depth, so that a gap in one
layer is not a way in.
"""

from __future__ import annotations

from typing import Any
from xml.parsers import expat

from defusedxml.expatreader import DefusedExpatParser

DTD_REFUSED = "the feed declares a DTD; Listener never processes DTDs"
# Markup declarations, which belong in a DTD only (compared in lower case).
_DECLARATIONS = (b"<!entity", b"<!element", b"<!attlist", b"<!notation")


_MISPLACED_DECLARATION = expat.errors.codes[expat.errors.XML_ERROR_MISPLACED_XML_PI]


class DTDRefused(ValueError):
    """The document declares a DTD with declarations of its own."""

    def __init__(self) -> None:
        super().__init__(DTD_REFUSED)


class _RootReached(Exception):
    pass


def without_dtd(data: bytes, *, retries: int = 2) -> bytes:
    """The document with no DTD: `data` itself when it has no DOCTYPE; DTDRefused when its DOCTYPE declares things.

    A DOCTYPE with an external identifier only is dropped with the whole prolog (comments, processing instructions,
    the XML declaration: UTF-8 is XML's default, and `data` is UTF-8): the document from its root element on.
    """
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    doctype = False
    root = -1

    def on_doctype(name: str, system_id: str | None, public_id: str | None, has_internal_subset: int) -> None:
        nonlocal doctype
        if has_internal_subset:
            raise DTDRefused  # before expat reads a single declaration of the subset
        doctype = True

    def on_start(name: str, attributes: Any) -> None:
        nonlocal root
        root = parser.CurrentByteIndex
        raise _RootReached

    parser.StartDoctypeDeclHandler = on_doctype
    parser.StartElementHandler = on_start
    try:
        parser.Parse(data, True)
    except _RootReached:
        pass
    except expat.ExpatError:
        # Not well-formed before (or without) a root: feedparser's loose parser may still read it, with no DTD (see
        # the module's docstring). A declaration expat would not tokenize is refused all the same.
        error_at = max(parser.ErrorByteIndex, 0)
        at = data[error_at : error_at + 10]
        if parser.ErrorCode == _MISPLACED_DECLARATION and error_at and retries:
            # An XML declaration after whitespace, or after the one feedparser's encoding step put in front of it:
            # what came before was read without a DOCTYPE; read on from the misplaced declaration.
            rest = data[error_at:]
            clean = without_dtd(rest, retries=retries - 1)
            return data if clean is rest else clean
        if at[:9].lower() == b"<!doctype" and retries:
            # A DOCTYPE expat would not read here: HTML's `<!doctype html>`, or a hostile one after text or in the
            # wrong case, which feedparser's loose parser might still read. Read on its own, from its start, and
            # spelled as XML: does it declare anything? (DTDRefused if so.)
            without_dtd(b"<!DOCTYPE" + data[error_at + 9 :], retries=retries - 1)
            return data
        if at.lower().startswith(_DECLARATIONS):
            raise DTDRefused from None  # a declaration out of place: a DTD whose start expat could not read
        return data
    if not doctype:
        return data
    if root < 0:
        raise DTDRefused  # a DOCTYPE and no root element: nothing to read anyway
    return data[root:]


def create_parser(*args: Any, **kwargs: Any) -> DefusedExpatParser:
    """A SAX parser that raises on any DOCTYPE, entity declaration or external reference (for feedparser)."""
    return DefusedExpatParser(*args, forbid_dtd=True, forbid_entities=True, forbid_external=True, **kwargs)
