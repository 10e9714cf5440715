from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "ecommerce.events"
    label = "events"
