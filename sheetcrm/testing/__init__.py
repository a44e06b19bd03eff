"""A local fake of the Google Sheets v4 REST API (plus the slice of Drive v3 gspread uses).

Like moto for AWS: a real HTTP server on ``127.0.0.1`` that answers the requests gspread
(and any other Sheets client) sends, with Google's response shapes, status codes and error
bodies, so automation can be tested without Google. Nothing in gspread is patched: the
real gspread code path runs and really goes over HTTP to the fake.

Quick start::

    from sheetcrm.testing import FakeSheetsServer

    with FakeSheetsServer() as fake:
        sid = fake.create_spreadsheet("CRM", {"Contacts": [["Name", "Email"], ["Ann", "a@x.org"]]})
        gc = fake.client()                      # a real gspread.Client
        ws = gc.open_by_key(sid).worksheet("Contacts")
        ws.update([["Bob", "b@x.org"]], "A3")
        assert fake.get_values(sid, "Contacts")[2] == ["Bob", "b@x.org"]

Pointing other code at the fake
-------------------------------
gspread hard-codes ``https://sheets.googleapis.com`` and ``https://www.googleapis.com``.
Code that builds its own gspread client (for example with its own ``HTTPClient`` subclass)
can be redirected in one of three ways:

* ``redirect_session(client.http_client.session, fake.url)`` mounts a ``requests``
  transport adapter that rewrites those hosts (and ``oauth2.googleapis.com``, for token
  refreshes) to the fake. Works on any ``requests.Session``, including
  ``google.auth.transport.requests.AuthorizedSession``.
* ``gspread.Client(creds, http_client=fake.http_client_class)`` uses
  :class:`FakeHTTPClient` bound to this fake.
* ``fake_http_client(fake.url, MyHTTPClient)`` returns a subclass of *your* HTTP client
  class that redirects, so its retry/backoff logic runs unchanged against the fake.

Test hooks
----------
``fake.requests`` (every request, recorded), ``fake.request_count``,
``fake.cells_written``, ``fake.reset_counters()``, ``fake.inject_fault(...)`` (429/5xx,
Retry-After, delays for timeouts, dropped connections) and
``fake.between_requests(callback)`` (act as a person editing the sheet between a sync's
read and its write). Helpers such as ``create_spreadsheet``, ``set_values``,
``insert_rows``, ``delete_rows``, ``sort_rows`` and ``make_private`` change state directly,
as a person in the browser would, without counting as API requests.

Faithfulness
------------
The reference is real recorded Google traffic; ``scripts/replay_recordings.py`` replays it
against the fake and reports every difference. Known, deliberate deviations:

* Formulas: a small evaluator (arithmetic, comparison, ``&``, cell and range references,
  about forty common functions). Anything else evaluates to ``#NAME?``. References are
  rewritten when rows/columns are inserted or deleted and when a sheet is renamed, as in
  Google; sorting moves formulas without adjusting their references, and deleting a sheet
  leaves references to it evaluating to ``#REF!`` rather than rewriting the text.
* ``USER_ENTERED`` parsing covers numbers (with thousands separators, ``%``, ``$``),
  booleans, ISO dates and datetimes, ``M/D/YYYY`` (day-first for non-US locales) and times.
  Google's parser knows more (``1-2`` becomes a date there, text here).
* Number formats: a subset of Google's pattern language (``0``, ``#``, ``,``, ``.``,
  ``%``, ``E+``, quoted literals, date/time tokens). "Automatic" formatting shows up to ten
  decimals and switches to ``1.23457E+15`` above 1e15.
* Data validation is stored and reported; API writes are not checked against it, a person
  typing through ``set_values`` is refused by a strict rule (``validation.py``, a few
  condition types); protected ranges are
  stored, API callers are treated as the owner (who may edit them), and the person-like
  helpers honour them only after ``fake.act_as(email)`` (an editor who is not the owner).
* Batch-update request kinds that only change presentation (borders, conditional
  formats, filters, banding, auto-resize) are accepted and answered with ``{}`` without
  modelling their effect; kinds that change data and are not implemented (``copyPaste``,
  ``cutPaste``, ``moveDimension``, ``insertRange``/``deleteRange``, ...) answer 501
  UNIMPLEMENTED, never a silent success. Drive export/import and the ``*ByDataFilter``
  methods also answer 501.
* Developer metadata (``metadata.py``): rows and columns only; it follows inserts and
  deletes as documented, and whole-row sorts by choice (undocumented). ``findReplace``
  (``findreplace.py``) searches text cells only.
* Error texts for cases absent from the recordings follow Google's known wording where it
  is known (``exceeds grid limits``, ``Requested writing within range``, ``Unable to parse
  range``, ``You can't hide all the sheets``); a few rarer ones are best guesses.
* Behaviours taken from Google's documentation rather than recorded traffic (append's
  table detection, protected-range editors, overlapping merges, tab colour twins and
  8-bit rounding, sheet-qualified named ranges, ...) are listed with their sources in
  ``tests/cassettes/README.md``.
* Merging keeps every value in the merged cells (Google keeps the top-left one only).
* Answers are JSON indented by two spaces, like Google's, except those over 256 KB, sent
  compact (Python's indenting encoder is slow; JSON clients do not care).
* Whether a non-ASCII sheet title is quoted in echoed ranges (``公司!A1`` vs
  ``'公司'!A1``) is not in the recordings; the fake leaves letters of any script bare.
"""

from sheetcrm.testing.common import GOOGLE_HOSTS
from sheetcrm.testing.faults import Fault, RecordedRequest
from sheetcrm.testing.server import (
    FakeHTTPClient,
    FakeSheetsServer,
    ProtectedCellError,
    fake_http_client,
    redirect_session,
)
from sheetcrm.testing.validation import RejectedInputError

__all__ = [
    "GOOGLE_HOSTS",
    "FakeHTTPClient",
    "FakeSheetsServer",
    "Fault",
    "ProtectedCellError",
    "RecordedRequest",
    "RejectedInputError",
    "fake_http_client",
    "redirect_session",
]
