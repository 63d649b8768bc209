from django.apps import AppConfig


class OrdersIntegrationConfig(AppConfig):
    name = "orders_integration"
    verbose_name = "Orders integration"
