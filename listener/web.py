"""`listener serve`: the small web app behind the digest's one-click links.

Every reachable path carries a signed token (digests/tokens.py). GET only shows a page naming the item and the
action with one button: mail scanners and link previews open every link, so nothing changes on GET. The button
POSTs the same URL, which records the action once (a replay finds the row and changes nothing). `/u/<token>` is
the RFC 8058 one-click unsubscribe, POSTed by mail clients; it pauses the rep's digests.

Starlette (a small, well-kept ASGI toolkit) served by uvicorn: routing, form parsing and a thread pool for the
synchronous database work, and nothing else (no sessions, no templates engine to configure, no debug pages).
"""

from __future__ import annotations

import logging
from html import escape
from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from digests.feedback import ItemView, categories_for, describe, pause_digests, record_feedback
from digests.labels import labels
from digests.suggest import choose_language
from digests.tokens import UNSUBSCRIBE, Claim, TokenError, verify
from listener.db.schema import Rep
from listener.db.session import transaction
from listener.errors import BadInput
from listener.settings import WebSettings

log = logging.getLogger(__name__)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}
# The pages speak the rep's language (their digest's): the words live in the phrasebooks' [labels] as web.* keys,
# English where a language lacks one. Pages without a rep (a bad token, a wrong path) follow Accept-Language.


def _words(language: str) -> dict[str, str]:
    return labels(choose_language(language))


def _browser_language(request: Request) -> str:
    """The browser's most preferred language tag (Accept-Language, q-values honoured), or English."""
    ranked = []
    for n, part in enumerate(request.headers.get("accept-language", "")[:200].split(",")):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag and tag != "*" and weight > 0:
            ranked.append((-weight, n, tag))
    return choose_language(*(tag for _, _, tag in sorted(ranked)))


class SecurityHeaders:
    """Adds the security headers to every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def page(title: str, body: str, status: int = 200, language: str = "en") -> HTMLResponse:
    """A small self-contained page; `title` is escaped here, `body` must already be escaped HTML."""
    html = (
        f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;max-width:520px;margin:24px auto;padding:0 14px;'
        'color:#1f2937;line-height:1.5;">'
        f'<h1 style="font-size:20px;">{escape(title)}</h1>{body}</body></html>'
    )
    return HTMLResponse(html, status_code=status)


def _item_html(view: ItemView, words: dict[str, str]) -> str:
    parts = [f"<p><b>{escape(view.customer)}</b></p>"]
    if view.title:
        parts.append(f"<p>{escape(view.title)}</p>")
    if view.kind:
        kind = words.get(f"web.kind.{view.kind}", view.kind)
        what = f"{kind} / {words.get(f'cat.{view.category}', view.category)}" if view.category else kind
        called = words["web.called_it"].format(what=what)
        parts.append(f'<p style="color:#6b7280;font-size:13px;">{escape(called)}</p>')
    return "".join(parts)


def _message(words: dict[str, str], key: str, status: int = 200, language: str = "en") -> HTMLResponse:
    """A page made of the `web.<key>.title` and `web.<key>.body` labels."""
    return page(words[f"web.{key}.title"], f"<p>{escape(words[f'web.{key}.body'])}</p>", status, language)


def _bad_token(error: TokenError, language: str) -> HTMLResponse:
    words = _words(language)
    if error.expired:
        return _message(words, "expired", 410, language)
    return _message(words, "invalid", 400, language)


def create_app(sessions: sessionmaker[Session], web: WebSettings) -> Starlette:
    """The ASGI app: `/a/<token>` (feedback) and `/u/<token>` (one-click unsubscribe); 404 everywhere else."""
    if len(web.secret) < 16:
        raise ValueError("LISTENER_WEB_SECRET must be set (at least 16 characters)")

    def claim_of(request: Request, unsubscribe: bool) -> Claim:
        claim = verify(web.secret, request.path_params["token"], web.token_days)
        if (claim.action == UNSUBSCRIBE) != unsubscribe:
            raise TokenError(expired=False)
        return claim

    def rep_language(session: Session, claim: Claim, request: Request) -> str:
        rep = session.get(Rep, claim.rep_id)
        return choose_language(rep.language) if rep and rep.language else _browser_language(request)

    def show(claim: Claim, request: Request) -> HTMLResponse:
        with transaction(sessions) as session:
            language = rep_language(session, claim, request)
            view = None if claim.action == UNSUBSCRIBE else describe(session, claim)
        words = _words(language)
        if claim.action != UNSUBSCRIBE and view is None:
            return _message(words, "gone", 404, language)
        choices = categories_for(claim.action)
        select = ""
        if choices:
            options = "".join(
                f'<option value="{escape(c)}">{escape(words.get(f"cat.{c}", c))}</option>' for c in choices
            )
            select = (
                f'<p><label>{escape(words["web.category"])} <select name="category"><option value="">-</option>'
                f"{options}</select></label></p>"
            )
        what = words[f"web.ask.{claim.action}"]
        button = (
            f'<form method="post">{select}<button type="submit" style="font-size:16px;padding:10px 18px;">'
            f"{escape(what)}</button></form>"
        )
        return page(what, (_item_html(view, words) if view else "") + button, language=language)

    def act(claim: Claim, category: str, request: Request) -> HTMLResponse:
        language = "en"
        try:
            with transaction(sessions) as session:
                language = rep_language(session, claim, request)
                if claim.action == UNSUBSCRIBE:
                    created = pause_digests(session, claim.rep_id)
                else:
                    _, created = record_feedback(session, claim, category=category)
        except BadInput as exc:
            words = _words(language)
            return page(words["web.unchanged.title"], f"<p>{escape(exc.explain())}</p>", 404, language)
        log.info("feedback: rep %d %s %s%s", claim.rep_id, claim.action, claim.item_key, "" if created else " (again)")
        words = _words(language)
        note = "" if created else f"<p>{escape(words['web.again'])}</p>"
        body = f"<p>{escape(words[f'web.done.{claim.action}'])}</p>{note}"
        return page(words["web.done.title"], body, language=language)

    async def feedback_get(request: Request) -> Response:
        try:
            claim = claim_of(request, unsubscribe=request.url.path.startswith("/u/"))
        except TokenError as exc:
            return _bad_token(exc, _browser_language(request))
        return await run_in_threadpool(show, claim, request)

    async def feedback_post(request: Request) -> Response:
        try:
            claim = claim_of(request, unsubscribe=request.url.path.startswith("/u/"))
        except TokenError as exc:
            return _bad_token(exc, _browser_language(request))
        form = await request.form(max_files=0, max_fields=4, max_part_size=1024)
        category = str(form.get("category") or "")
        return await run_in_threadpool(act, claim, category, request)

    async def not_found(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 404
        language = _browser_language(request)
        return _message(_words(language), "not_found", 405 if status == 405 else 404, language)

    routes = [
        Route("/a/{token:str}", feedback_get, methods=["GET"]),
        Route("/a/{token:str}", feedback_post, methods=["POST"]),
        Route("/u/{token:str}", feedback_get, methods=["GET"]),
        Route("/u/{token:str}", feedback_post, methods=["POST"]),
    ]
    app = Starlette(debug=False, routes=routes, exception_handlers={404: not_found, 405: not_found})
    app.add_middleware(SecurityHeaders)
    return app


def uvicorn_config(sessions: sessionmaker[Session], web: WebSettings, host: str, port: int) -> Any:
    """uvicorn's settings for the app. No access log: every URL carries a token that acts for a rep."""
    import uvicorn

    return uvicorn.Config(
        create_app(sessions, web),
        host=host,
        port=port,
        access_log=False,
        server_header=False,
        proxy_headers=True,  # the reverse proxy's X-Forwarded-For, from 127.0.0.1 only (uvicorn's default)
        log_level="warning",
    )


def serve(sessions: sessionmaker[Session], web: WebSettings, host: str, port: int) -> None:
    """Run the app under uvicorn until stopped (SIGTERM or Ctrl-C)."""
    import uvicorn

    uvicorn.Server(uvicorn_config(sessions, web, host, port)).run()


__all__ = ["create_app", "serve", "uvicorn_config"]
