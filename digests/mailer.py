"""Turn a rendered digest into an email and hand it to an SMTP server (none, starttls or ssl), knowing the point
after which it may have been delivered."""

from __future__ import annotations

import io
import logging
import re
import smtplib
import socket
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from email.generator import BytesGenerator
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

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


class OutcomeUnknown(DeliveryError):
    """The whole message went to the server but no clear answer came back: it may have been delivered.

    Never retried automatically (a second copy is worse than a late one); `listener digest retry` resends it.
    """


def send_message(message: EmailMessage, smtp: SmtpSettings, *, before_end: Callable[[], None] | None = None) -> None:
    """Deliver one message, driving the SMTP dialogue in steps so that the point of no return is known.

    `before_end` runs after the message body was sent and just before the terminating "." (the moment the
    server may accept it): the caller records "data sent" there, or raises to abort without sending the ".".
    A failure before that point is a DeliveryError (nothing was delivered); after it, OutcomeUnknown, unless the
    server answered the "." with a clear refusal. An error from QUIT after the 250 is not a failure: the message
    was accepted. Timeouts follow RFC 5321 4.5.3.2: `smtp.timeout` for each reply, `smtp.data_timeout` for
    the reply to the ".".
    """
    if smtp.security not in ("none", "starttls", "ssl"):
        raise ConfigError(f"smtp.security must be none, starttls or ssl, got {smtp.security!r}")
    context = ssl.create_default_context()
    client: smtplib.SMTP | None = None
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        if smtp.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if smtp.user:
            client.login(smtp.user, smtp.password)
        _send_until_end(client, message)
        if before_end is not None:
            before_end()
        _end_data(client, smtp)
        try:
            client.quit()
        except (smtplib.SMTPException, OSError) as exc:  # accepted already; a 421 or a drop here changes nothing
            log.info("SMTP QUIT after the message was accepted: %s", exc)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"SMTP login as {smtp.user} refused ({exc.smtp_code})", hint="check smtp.user and LISTENER_SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(
            f"SMTP server {smtp.host}:{smtp.port} answered {exc.smtp_code} {_text(exc.smtp_error)}"
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"SMTP server {smtp.host}:{smtp.port} refused {', '.join(exc.recipients)}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP to {smtp.host}:{smtp.port} failed: {type(exc).__name__}: {exc}") from None
    finally:
        if client is not None:
            client.close()


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _send_until_end(client: smtplib.SMTP, message: EmailMessage) -> None:
    """MAIL, RCPT, DATA and the message itself, without the terminating "." (what smtplib's sendmail does in one
    call, which leaves no moment to record that the point of no return is next)."""
    client.ehlo_or_helo_if_needed()
    sender = getaddresses([str(message["Sender"] or message["From"])])[0][1]
    recipients = [address for _, address in getaddresses([str(v) for v in message.get_all("To", [])]) if address]
    international = any(not a.isascii() for a in [sender, *recipients])
    options: list[str] = []
    if international:
        if not client.has_extn("smtputf8"):
            raise DeliveryError("the SMTP server does not accept non-ASCII addresses (no SMTPUTF8)")
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    code, reply = client.mail(sender, options)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    refused = {}
    for recipient in recipients:
        code, reply = client.rcpt(recipient)
        if code not in (250, 251):
            refused[recipient] = (code, reply)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    code, reply = client.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    buffer = io.BytesIO()
    # as smtplib.send_message does; EmailMessage always has an EmailPolicy, which has utf8
    policy = message.policy.clone(utf8=True) if international else message.policy  # type: ignore[call-arg]
    BytesGenerator(buffer, policy=policy).flatten(message, linesep="\r\n")
    body = re.sub(rb"(?m)^\.", b"..", buffer.getvalue())  # RFC 5321 4.5.2 transparency
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    client.send(body)
    if client.sock is None or _peer_gone(client.sock):
        raise smtplib.SMTPServerDisconnected("the server closed the connection before the end of the message")


def _peer_gone(sock: socket.socket) -> bool:
    """True if the server closed the connection (or spoke out of turn) while it should be reading the message."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        # A TLS socket may hold records that are not data (session tickets): reading processes them.
        if isinstance(sock, ssl.SSLSocket):
            sock.recv(1)
        else:
            sock.recv(1, socket.MSG_PEEK)
    except (BlockingIOError, ssl.SSLWantReadError, InterruptedError):
        return False
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)
    return True  # b"" is the server's close; any reply before the "." is an early refusal


def _end_data(client: smtplib.SMTP, smtp: SmtpSettings) -> None:
    """Send the terminating "." and wait up to smtp.data_timeout for the answer: past the point of no return."""
    try:
        assert client.sock is not None
        client.sock.settimeout(smtp.data_timeout)
        client.send(b".\r\n")
        code, reply = client.getreply()
    except (smtplib.SMTPException, OSError) as exc:
        raise OutcomeUnknown(
            f"SMTP to {smtp.host}:{smtp.port}: no answer to the end of the message ({type(exc).__name__}: {exc}); "
            "it may have been delivered",
            hint="check the rep's inbox, then `listener digest retry --rep EMAIL` if it did not arrive",
        ) from None
    if code != 250:
        # A clear refusal of the message: nothing was delivered, the next run may try again.
        raise DeliveryError(f"SMTP server {smtp.host}:{smtp.port} answered {code} {_text(reply)}")
    client.sock.settimeout(smtp.timeout)
