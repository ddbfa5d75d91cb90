"""Business-date invitation drafts as .ics files (RFC 5545), built with the icalendar package."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress, vText

from digests.select import CustomerInfo, RepSnapshot

MEETING_MINUTES = 30
MEETING_HOUR = 10  # local to the rep: late enough for a commute, early enough to leave the day free
_SUMMARY = {"en": "{customer} catch-up", "es": "Puesta al día con {customer}"}
_AGENDA = {"en": "Agenda", "es": "Agenda"}


def proposed_start(on: date, time_zone: str) -> datetime:
    """The first weekday at least two days after `on`, at 10:00 in the rep's time zone (as UTC)."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    day = on + timedelta(days=2)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(MEETING_HOUR), tzinfo=zone).astimezone(UTC)


def invitation(
    snap: RepSnapshot, customer: CustomerInfo, agenda: Sequence[str], message: str, on: date, now: datetime
) -> bytes:
    """A tentative 30-minute meeting draft the rep can open, adjust and send; attendees are the customer's contacts."""
    lang = "es" if snap.language == "es" else "en"
    start = proposed_start(on, snap.time_zone)
    calendar = Calendar()
    calendar.add("prodid", "-//Listener//digest//EN")
    calendar.add("version", "2.0")
    # PUBLISH, not REQUEST: this is a draft for the rep, not an invitation Listener sends on their behalf.
    calendar.add("method", "PUBLISH")
    event = Event()
    uid_seed = f"{snap.email}|{customer.id}|{on.isoformat()}".encode()
    event.add("uid", f"{hashlib.sha256(uid_seed).hexdigest()[:32]}@listener")
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=MEETING_MINUTES))
    event.add("summary", _SUMMARY[lang].format(customer=customer.name))
    lines = [message, "", f"{_AGENDA[lang]}:", *(f"- {topic}" for topic in agenda)]
    event.add("description", "\n".join(lines))
    event.add("status", "TENTATIVE")
    organizer = vCalAddress(f"mailto:{snap.email}")
    organizer.params["cn"] = vText(snap.name)
    event["organizer"] = organizer
    for contact in customer.contacts:
        if contact.email:
            attendee = vCalAddress(f"mailto:{contact.email}")
            attendee.params["cn"] = vText(contact.name)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            attendee.params["rsvp"] = vText("TRUE")
            event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()
