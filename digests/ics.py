"""Business-date invitation drafts as .ics files (RFC 5545), built with the icalendar package."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, vCalAddress, vText

from digests.contacts import staying
from digests.labels import labels
from digests.select import CustomerInfo, RepSnapshot

MEETING_MINUTES = 30
# Local to the rep: late enough for a commute, clear of lunch; one slot per draft, so two never share an hour.
MEETING_HOURS = (10, 11, 15, 16)


def proposed_start(on: date, time_zone: str, slot: int = 0) -> datetime:
    """Slot `slot` among the work-day hours from two days after `on`, in the rep's time zone (as UTC)."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    day = on + timedelta(days=2)
    remaining = slot
    while True:
        if day.weekday() < 5:
            if remaining < len(MEETING_HOURS):
                return datetime.combine(day, time(MEETING_HOURS[remaining]), tzinfo=zone).astimezone(UTC)
            remaining -= len(MEETING_HOURS)
        day += timedelta(days=1)


def invitation(
    snap: RepSnapshot,
    customer: CustomerInfo,
    agenda: Sequence[str],
    message: str,
    on: date,
    now: datetime,
    language: str = "en",
    slot: int = 0,
) -> bytes:
    """A tentative 30-minute meeting draft the rep can open, adjust and send, in the customer's language.

    `agenda` is what the customer will read: the caller leaves their troubles out. Attendees are the contacts
    who are staying (a departing CEO is not invited).
    """
    words = labels(language)
    start = proposed_start(on, snap.time_zone, slot)
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
    event.add("summary", words["ics.summary"].format(customer=customer.name))
    lines = [message, "", f"{words['ics.agenda']}:", *(f"- {topic}" for topic in agenda)]
    event.add("description", "\n".join(lines))
    event.add("status", "TENTATIVE")
    organizer = vCalAddress(f"mailto:{snap.email}")
    organizer.params["cn"] = vText(snap.name)
    event["organizer"] = organizer
    for contact in staying(customer):
        if contact.email:
            attendee = vCalAddress(f"mailto:{contact.email}")
            attendee.params["cn"] = vText(contact.name)
            attendee.params["role"] = vText("REQ-PARTICIPANT")
            attendee.params["rsvp"] = vText("TRUE")
            event.add("attendee", attendee, encode=False)
    calendar.add_component(event)
    return calendar.to_ical()
