"""django-cqrs' ``dj_cqrs.controller``: the entry points a transport calls.

``producer.produce(payload)`` hands a payload to the configured transport;
``consumer.consume(payload)`` applies a received one to its replica model (through the
revision store). A transport written for django-cqrs calls them under the same names.
"""
