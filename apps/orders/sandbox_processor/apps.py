from django.apps import AppConfig


class SandboxProcessorConfig(AppConfig):
    name = "apps.orders.sandbox_processor"
    label = "sandbox_processor"
    verbose_name = "Sandbox card processor"
