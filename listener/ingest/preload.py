"""Imported once by the forkserver that starts an ingest run's parser processes (see poll.make_pool).

What every parser process needs is loaded here, once, before the processes are forked: they start ready, and the
largest tables (the language model's 40 MB automaton, the compiled rules) stay shared between them, copy-on-write,
instead of one copy per process competing for the CPU caches. A failure here only means each process loads its
own copy, as it would without this module.
"""

from __future__ import annotations

import logging

try:
    from listener.ingest.prepare import loaded_classifier
    from listener.relevance.language import detect_language
    from listener.settings import load_settings

    loaded_classifier(load_settings())  # the run reads the same settings, from the same environment
    detect_language("Nous ouvrons un bureau à Lyon : l'équipe s'agrandit")  # loads the language model
except Exception:  # a bad config file is reported by the run itself, where someone reads it
    logging.getLogger(__name__).debug("preloading the classifier failed", exc_info=True)
