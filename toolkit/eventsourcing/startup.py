"""Start-up wiring, imported by :func:`toolkit.startup.run_startup_hooks`.

Registers the event-sourcing system checks, reads djangoevents' ``DJANGOEVENTS_CONFIG`` as an
alias of ``TOOLKIT["eventsourcing"]``, forgets cached backends and schemas when
``TOOLKIT`` changes, imports ``aggregates.py`` then ``handlers.py`` of every installed app, and
sets each aggregate event class's ``version`` from the schema files.
"""

from __future__ import annotations

from toolkit.checks import add_check
from toolkit.conf import on_reload, register_alias
from toolkit.eventsourcing import config
from toolkit.eventsourcing.checks import check_eventsourcing
from toolkit.eventsourcing.handlers import autodiscover_aggregates, autodiscover_handlers
from toolkit.startup import on_startup

add_check(check_eventsourcing)
register_alias("DJANGOEVENTS_CONFIG", "eventsourcing", config.djangoevents_settings)
on_reload(config.reset)
on_startup(autodiscover_aggregates)
on_startup(autodiscover_handlers)
on_startup(config.apply_event_versions)
