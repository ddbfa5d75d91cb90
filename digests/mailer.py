"""Turn a rendered digest into an email and hand it to an SMTP server (none, starttls or ssl)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

from digests.model import Digest
from digests.render import Rendered
from listener.errors import ConfigError, DeliveryError
from listener.settings import SmtpSettings

log = logging.getLogger(__name__)


def sender_domain(from_header: str) -> str:
    """The domain of the From address, for Message-IDs (falls back to `listener.local`)."""
    _, address = parseaddr(from_header)
    return address.rpartition("@")[2] or "listener.local"


def build_message(
    digest: Digest, rendered: Rendered, smtp: SmtpSettings, *, rep_id: int, now: datetime, unsubscribe: str = ""
) -> EmailMessage:
    """multipart/alternative (text, then HTML), inside multipart/mixed when .ics drafts go along."""
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = smtp.from_
    message["To"] = Address(display_name=digest.rep_name, addr_spec=digest.rep_email)
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = make_msgid(f"digest.{rep_id}.{digest.on.isoformat()}", domain=sender_domain(smtp.from_))
    # Out-of-office replies to a robot help nobody.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "All"
    if unsubscribe:
        # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the URL, which pauses the digests.
        message["List-Unsubscribe"] = f"<{unsubscribe}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, subtype="plain", charset="utf-8")
    message.add_alternative(rendered.html, subtype="html", charset="utf-8")
    for attachment in digest.attachments:
        maintype, _, subtype = attachment.mime_type.partition("/")
        message.add_attachment(attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename)
    return message


def send_message(message: EmailMessage, smtp: SmtpSettings) -> None:
    """Deliver one message; any refusal or connection problem becomes a DeliveryError (no secrets in it)."""
    if smtp.security not in ("none", "starttls", "ssl"):
        raise ConfigError(f"smtp.security must be none, starttls or ssl, got {smtp.security!r}")
    context = ssl.create_default_context()
    client: smtplib.SMTP
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if smtp.user:
                client.login(smtp.user, smtp.password)
            refused = client.send_message(message)
            if refused:
                raise DeliveryError(f"server refused {', '.join(refused)}")
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"SMTP login as {smtp.user} refused ({exc.smtp_code})", hint="check smtp.user and LISTENER_SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPResponseException as exc:
        reply = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
        raise DeliveryError(f"SMTP server {smtp.host}:{smtp.port} answered {exc.smtp_code} {reply}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP to {smtp.host}:{smtp.port} failed: {type(exc).__name__}: {exc}") from None
