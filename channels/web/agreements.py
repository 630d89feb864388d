"""The borrower's copy of a signed agreement, behind a signed link that expires."""
from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.agreements.document import render_agreement_html
from bot.agreements.links import token_opens
from bot.agreements.service import agreement_by_reference
from bot.storage import Database

router = APIRouter()

NOT_AVAILABLE = ("<!doctype html><meta charset='utf-8'><title>Link not valid</title>"
                 "<p>This link is not valid or has expired. / 此链接无效或已过期。</p>")


@router.get("/agreements/{reference}", response_class=HTMLResponse, include_in_schema=False)
def agreement_document(reference: str, request: Request, t: str = "") -> HTMLResponse:
    settings = request.app.state.settings
    if not token_opens(settings.link_secret, t, reference):
        return HTMLResponse(NOT_AVAILABLE, status_code=403)
    database: Database = request.app.state.database
    with database.unit_of_work() as session:
        agreement = agreement_by_reference(session, reference)
        if agreement is None:
            return HTMLResponse(NOT_AVAILABLE, status_code=404)
        html = render_agreement_html(agreement.terms_json, agreement.reference, agreement.language)
    return HTMLResponse(html, headers={
        "Cache-Control": "private, no-store",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        "Referrer-Policy": "no-referrer",
        "X-Robots-Tag": "noindex",
    })
