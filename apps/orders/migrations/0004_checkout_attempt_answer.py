"""Checkout attempts keep the order exactly as their first answer returned it, so a replay answers that, whatever
happened to the order since. Attempts that succeeded before this migration get the order as it is now (the closest
record there is; keys live 24 hours)."""

from decimal import Decimal

from django.db import migrations, models

CENT = Decimal("0.01")


def _money(value):
    return str(Decimal(value).quantize(CENT))


def _order_answer(order, lines):
    return {
        "id": str(order.id), "number": order.number, "user_id": order.user_id, "status": order.status,
        "items": [
            {"product_id": line.product_id, "sku": line.sku, "name": line.name,
             "unit_price": _money(line.unit_price), "quantity": line.quantity, "line_total": _money(line.line_total)}
            for line in lines
        ],
        "subtotal": _money(order.subtotal), "shipping_cost": _money(order.shipping_cost),
        "discount": _money(order.discount), "total": _money(order.total), "currency": order.currency,
        "shipping_address": {
            "full_name": order.shipping_full_name, "street": order.shipping_street, "city": order.shipping_city,
            "state": order.shipping_state, "zip_code": order.shipping_zip_code, "country": order.shipping_country,
            "phone": order.shipping_phone,
        },
        "payment_status": order.payment_status,
        "created_at": order.created_at.isoformat(), "updated_at": order.updated_at.isoformat(),
    }


def store_answers_of_earlier_successes(apps, schema_editor):
    CheckoutAttempt = apps.get_model("orders", "CheckoutAttempt")
    Order = apps.get_model("orders", "Order")
    OrderLine = apps.get_model("orders", "OrderLine")
    for attempt in CheckoutAttempt.objects.filter(state="succeeded", order_answer__isnull=True).iterator():
        order = Order.objects.filter(pk=attempt.order_id).first()
        if order is None:
            attempt.delete()  # nothing to replay: the key starts afresh
            continue
        lines = OrderLine.objects.filter(order=order).order_by("id")
        attempt.order_answer = _order_answer(order, lines)
        attempt.save(update_fields=["order_answer"])


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0003_order_followup_pending'),
    ]

    operations = [
        migrations.AddField(
            model_name='checkoutattempt',
            name='order_answer',
            field=models.JSONField(blank=True, null=True),
        ),
        migrations.RunPython(store_answers_of_earlier_successes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='checkoutattempt',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('state', 'succeeded'), _negated=True), ('order_answer__isnull', False), _connector='OR'), name='orders_attempt_success_has_answer'),
        ),
    ]
