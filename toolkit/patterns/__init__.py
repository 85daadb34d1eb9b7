"""The toolkit's patterns: import them from here.

::

    from toolkit.patterns import Repository, DjangoRepository, Specification, StateMachine

Importing this package needs no ``django.setup()``: modules that use models import them
inside the functions that need them. Errors live in :mod:`toolkit.patterns.exceptions`.
"""

from __future__ import annotations

from toolkit.patterns.cache import cache_invalidate, cached, invalidate
from toolkit.patterns.command import Command
from toolkit.patterns.component import Component, ComponentMixin, DMRComponentMixin
from toolkit.patterns.event_store import EventStore
from toolkit.patterns.exceptions import NotFound, PatternError
from toolkit.patterns.lazy import lazy
from toolkit.patterns.observer import EventBus
from toolkit.patterns.plugin import Plugin, PluginMeta, PluginRegistry, get_plugin_registry
from toolkit.patterns.repository import DjangoRepository, Repository
from toolkit.patterns.specification import Specification
from toolkit.patterns.state_machine import Guard, StateMachine, Transition, guard
from toolkit.patterns.strategy import Strategy
from toolkit.patterns.unit_of_work import UnitOfWork

__all__ = [
    "Command",
    "Component",
    "ComponentMixin",
    "DMRComponentMixin",
    "DjangoRepository",
    "EventBus",
    "EventStore",
    "Guard",
    "NotFound",
    "PatternError",
    "Plugin",
    "PluginMeta",
    "PluginRegistry",
    "Repository",
    "Specification",
    "StateMachine",
    "Strategy",
    "Transition",
    "UnitOfWork",
    "cache_invalidate",
    "cached",
    "get_plugin_registry",
    "guard",
    "invalidate",
    "lazy",
]
