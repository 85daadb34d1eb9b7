"""The pure core: what every other part of the toolkit builds on.

Rules for this package (checked by the import-linter contracts in ``pyproject.toml``):

- it imports no Django and no other toolkit sub-package; everything else may import it;
- decision logic only: no I/O, no settings, no models. Django-bound code lives in the
  adapter modules of the packages above (``DjangoRepository``, the Django event-store
  backend, audit writes, plugin state, projection checkpoints).

Modules: :mod:`toolkit.core.exceptions` (the one error tree, re-exported by
:mod:`toolkit.patterns.exceptions`), :mod:`toolkit.core.bus` (the one publish/subscribe
engine under ``EventBus``, ``EventBroker`` and the event-sourcing handlers),
:mod:`toolkit.core.registry` (the one typed registry), :mod:`toolkit.core.aggregate` (the
one aggregate and domain-event core under the event-sourced and the DDD aggregates),
:mod:`toolkit.core.repository` (the one repository contract under the three repository
faces) and :mod:`toolkit.core.compat`.
"""
