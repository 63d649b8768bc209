from django.apps import AppConfig


class OrdersIntegrationConfig(AppConfig):
    name = "orders_integration"
    verbose_name = "Orders integration"

    def ready(self) -> None:
        from orders_integration.receivers import create_inventory_for_new_product
        from orders_integration.signals import product_created

        product_created.connect(create_inventory_for_new_product, dispatch_uid="inventory-for-new-product")
