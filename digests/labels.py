"""The digest's own words (titles, intros, subject) in the rep's language; suggestions live in the phrasebook."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title.congratulate": "Congratulate",
        "intro.congratulate": "Wins worth a note or a comment today.",
        "title.help": "Offer help",
        "intro.help": "A hard moment: show you care and offer something concrete.",
        "title.conversation": "Join the conversation",
        "intro.conversation": "News to comment on, share or bring up.",
        "title.ask": "Ask about",
        "intro.ask": "Goals they announced: ask how it is going.",
        "title.date": "Time for a business date",
        "intro.date": "Enough new to talk about: an agenda ready, and an invitation draft attached.",
        "title.quiet": "Going quiet",
        "intro.quiet": "Past their usual touch: a low-effort way back in.",
        "title.upcoming": "Coming up",
        "intro.upcoming": "Dates in the next days, each with a gift idea.",
        "title.gesture": "This week's unexpected gesture",
        "intro.gesture": "No occasion at all: that is the point.",
        "more": "Also",
        "why": "Why",
        "suggestion": "Suggested message",
        "agenda": "Agenda",
        "gift": "Gift idea",
        "read": "Read the post",
        "invitation": "Invitation draft attached",
        "failing": "Sources not working",
        "failing.since": "since",
        "failing.more": "and {n} more: see `listener source list --failing`",
        "failing.disabled": "disabled",
        "footer": "Log what you did with `listener log CUSTOMER --kind congrats` so it stays out of tomorrow's digest.",
        "empty": "Nothing new today. Enjoy the quiet morning.",
        "greeting": "Good morning",
        "evidence": "Evidence",
        "score": "score",
        "last_touch": "last touch {days} days ago",
        "never_touched": "no touch logged yet",
        "way_back_in": "past the {cadence}-day touch cadence: a good way back in",
        "overdue": "{days} days since the last touch (cadence: {cadence})",
        "topics": "{count} fresh topics, no meeting in {gap} days",
        "no_meeting": "{count} fresh topics, no meeting logged",
        "birthday": "{name}'s birthday",
        "customer_since": "{years} years as a customer",
        "customer_since.1": "1 year as a customer",
        "founded": "{years} years since {customer} was founded",
        "gesture.why": "Picked for this week, for no reason: customers remember those.",
        "cuts.why": "The post also mentions job cuts, so the suggestion stays neutral.",
        "quiet.nopost": "Nothing recent from them: a plain check-in.",
        "subject.empty": "Nothing new today",
        "today": "today",
        "tomorrow": "tomorrow",
        "in_days": "in {days} days",
        "s.congratulate": "{n} to congratulate",
        "s.help": "{n} to help",
        "s.conversation": "{n} to comment on",
        "s.ask": "{n} to ask about",
        "s.date": "{n} business dates",
        "s.date.1": "1 business date",
        "s.quiet": "{n} going quiet",
        "s.upcoming": "{n} coming up",
        "s.gesture": "a gesture",
        "cat.funding": "funding",
        "cat.acquisition": "acquisition",
        "cat.launch": "launch",
        "cat.award": "award",
        "cat.milestone": "milestone",
        "cat.expansion": "expansion",
        "cat.partnership": "partnership",
        "cat.customer_win": "new customer",
        "cat.leadership": "appointment",
        "cat.press": "press",
        "cat.content": "post",
        "cat.event": "event",
        "cat.hiring": "hiring",
        "cat.update": "update",
        "cat.plan": "plan",
        "cat.layoffs": "layoffs",
        "cat.incident": "incident",
        "cat.legal": "legal",
        "cat.departure": "departure",
        "cat.downturn": "downturn",
    },
    "es": {
        "title.congratulate": "Felicitar",
        "intro.congratulate": "Logros que merecen una nota o un comentario hoy.",
        "title.help": "Ofrecer ayuda",
        "intro.help": "Un momento difícil: muestra interés y ofrece algo concreto.",
        "title.conversation": "Unirse a la conversación",
        "intro.conversation": "Noticias para comentar, compartir o sacar en la próxima charla.",
        "title.ask": "Preguntar por",
        "intro.ask": "Objetivos que anunciaron: pregunta cómo van.",
        "title.date": "Hora de una reunión",
        "intro.date": "Hay mucho de qué hablar: agenda lista y borrador de invitación adjunto.",
        "title.quiet": "Se están enfriando",
        "intro.quiet": "Pasado su contacto habitual: una forma sencilla de retomar.",
        "title.upcoming": "Próximas fechas",
        "intro.upcoming": "Fechas de los próximos días, cada una con una idea de regalo.",
        "title.gesture": "El detalle inesperado de la semana",
        "intro.gesture": "Sin ninguna ocasión: de eso se trata.",
        "more": "También",
        "why": "Por qué",
        "suggestion": "Mensaje sugerido",
        "agenda": "Agenda",
        "gift": "Idea de regalo",
        "read": "Ver la publicación",
        "invitation": "Borrador de invitación adjunto",
        "failing": "Fuentes que no funcionan",
        "failing.since": "desde",
        "failing.more": "y {n} más: ver `listener source list --failing`",
        "failing.disabled": "desactivada",
        "footer": "Registra lo que hiciste con `listener log CLIENTE --kind congrats` y no volverá a salir mañana.",
        "empty": "Nada nuevo hoy. Disfruta de la mañana tranquila.",
        "greeting": "Buenos días",
        "evidence": "Indicios",
        "score": "puntuación",
        "last_touch": "último contacto hace {days} días",
        "never_touched": "sin contactos registrados",
        "way_back_in": "pasada su frecuencia de {cadence} días: buena ocasión para retomar",
        "overdue": "{days} días desde el último contacto (frecuencia: {cadence})",
        "topics": "{count} temas recientes, sin reunión en {gap} días",
        "no_meeting": "{count} temas recientes, ninguna reunión registrada",
        "birthday": "Cumpleaños de {name}",
        "customer_since": "{years} años como cliente",
        "customer_since.1": "1 año como cliente",
        "founded": "{years} años desde la fundación de {customer}",
        "gesture.why": "Elegido esta semana sin motivo: los clientes recuerdan estos detalles.",
        "cuts.why": "La publicación también menciona recortes de empleo, así que la sugerencia es neutral.",
        "quiet.nopost": "Nada reciente de su parte: un saludo sencillo.",
        "subject.empty": "Nada nuevo hoy",
        "today": "hoy",
        "tomorrow": "mañana",
        "in_days": "dentro de {days} días",
        "s.congratulate": "{n} para felicitar",
        "s.help": "{n} para ayudar",
        "s.conversation": "{n} para comentar",
        "s.ask": "{n} para preguntar",
        "s.date": "{n} reuniones",
        "s.date.1": "1 reunión",
        "s.quiet": "{n} enfriándose",
        "s.upcoming": "{n} próximas fechas",
        "s.gesture": "un detalle",
        "cat.funding": "financiación",
        "cat.acquisition": "adquisición",
        "cat.launch": "lanzamiento",
        "cat.award": "premio",
        "cat.milestone": "hito",
        "cat.expansion": "expansión",
        "cat.partnership": "alianza",
        "cat.customer_win": "nuevo cliente",
        "cat.leadership": "nombramiento",
        "cat.press": "prensa",
        "cat.content": "artículo",
        "cat.event": "evento",
        "cat.hiring": "contratación",
        "cat.update": "novedad",
        "cat.plan": "plan",
        "cat.layoffs": "despidos",
        "cat.incident": "incidencia",
        "cat.legal": "asunto legal",
        "cat.departure": "salida",
        "cat.downturn": "dificultades",
    },
}

_WEEKDAYS = {
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    "es": ("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
}
_MONTHS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
}


def labels(language: str) -> dict[str, str]:
    """The labels of a language, English for any language without its own."""
    return LABELS.get(language, LABELS["en"])


def short_date(day: date, language: str) -> str:
    """`Tue 24 Nov` / `mar 24 nov`: locale-free, so output does not depend on the machine's locale."""
    lang = language if language in _WEEKDAYS else "en"
    return f"{_WEEKDAYS[lang][day.weekday()]} {day.day} {_MONTHS[lang][day.month - 1]}"


def subject_line(counts: Sequence[tuple[str, int]], on: date, language: str) -> str:
    """A subject that says what is inside: the counts per section and the date."""
    words = labels(language)
    parts = []
    for key, n in counts:
        if n <= 0:
            continue
        template = words[f"s.{key}.1"] if n == 1 and f"s.{key}.1" in words else words[f"s.{key}"]
        parts.append(template.format(n=n))
    head = ", ".join(parts) if parts else words["subject.empty"]
    return f"{head} · {short_date(on, language)}"


def more_label(customer: str, category: str, words: dict[str, str]) -> str:
    """How an item past a section's cap is named in the summary line: `Acme (funding)`."""
    if not category:
        return customer
    return f"{customer} ({words.get(f'cat.{category}', category.replace('_', ' '))})"
