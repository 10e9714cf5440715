from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "ecommerce.events"
    label = "events"

    def ready(self) -> None:
        from ecommerce.events.metrics import register_collectors

        register_collectors()
