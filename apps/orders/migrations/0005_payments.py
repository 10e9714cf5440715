"""Payments, their idempotency keys and the provider events that changed them. Orders paid before payments were
recorded were all paid by staff, offline: each gets its manual payment (refunded if the order was canceled since), so
every paid order has the payment that paid it."""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.db import migrations, models


def record_manual_payments(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    Payment = apps.get_model("orders", "Payment")
    paid = Order.objects.filter(payment_status__in=["succeeded", "refunded"], payments__isnull=True)
    Payment.objects.bulk_create(
        [Payment(order=order, provider="manual", status=order.payment_status, amount=order.total,
                 currency=order.currency, succeeded_at=order.updated_at,
                 refunded_at=order.updated_at if order.payment_status == "refunded" else None)
         for order in paid.iterator()],
        batch_size=500,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('orders', '0004_checkout_attempt_answer'),
    ]

    operations = [
        migrations.CreateModel(
            name='Payment',
            fields=[
                ('id', models.UUIDField(default=uuid.uuid4, editable=False, primary_key=True, serialize=False)),
                ('provider', models.CharField(max_length=32)),
                ('provider_payment_id', models.CharField(blank=True, max_length=255)),
                ('status', models.CharField(choices=[('requires_confirmation', 'Requires Confirmation'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('refunded', 'Refunded')], default='requires_confirmation', max_length=32)),
                ('amount', models.DecimalField(decimal_places=2, max_digits=12)),
                ('currency', models.CharField(max_length=3)),
                ('client_secret', models.CharField(blank=True, max_length=255)),
                ('failure_message', models.CharField(blank=True, max_length=255)),
                ('refund_due', models.BooleanField(default=False)),
                ('refund_reason', models.CharField(blank=True, max_length=255)),
                ('provider_refund_id', models.CharField(blank=True, max_length=255)),
                ('succeeded_at', models.DateTimeField(blank=True, null=True)),
                ('failed_at', models.DateTimeField(blank=True, null=True)),
                ('refunded_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('order', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='payments', to='orders.order')),
            ],
            options={
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.CreateModel(
            name='PaymentAttempt',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('user_id', models.PositiveBigIntegerField()),
                ('idempotency_key', models.CharField(max_length=255)),
                ('request_fingerprint', models.CharField(max_length=128)),
                ('answer', models.JSONField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('payment', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='attempt', to='orders.payment')),
            ],
        ),
        migrations.CreateModel(
            name='ProviderEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(max_length=32)),
                ('event_id', models.CharField(max_length=255)),
                ('type', models.CharField(max_length=100)),
                ('outcome', models.CharField(choices=[('applied', 'Applied'), ('duplicate', 'Duplicate'), ('ignored', 'Ignored'), ('rejected', 'Rejected')], max_length=16)),
                ('detail', models.CharField(blank=True, max_length=255)),
                ('amount', models.DecimalField(blank=True, decimal_places=2, help_text='What the event claimed.', max_digits=12, null=True)),
                ('currency', models.CharField(blank=True, help_text='What the event claimed.', max_length=3)),
                ('received_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='events', to='orders.payment')),
            ],
            options={
                'ordering': ['-received_at', '-id'],
            },
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['order', '-created_at'], name='orders_payment_order_idx'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.UniqueConstraint(condition=models.Q(('provider_payment_id', ''), _negated=True), fields=('provider', 'provider_payment_id'), name='orders_payment_provider_id_once'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('amount__gte', 0)), name='orders_payment_amount_non_negative'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['requires_confirmation', 'succeeded', 'failed', 'refunded'])), name='orders_payment_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='payment',
            constraint=models.CheckConstraint(condition=models.Q(('refund_due', False), ('status', 'succeeded'), _connector='OR'), name='orders_payment_refund_due_only_when_succeeded'),
        ),
        migrations.AddIndex(
            model_name='paymentattempt',
            index=models.Index(fields=['created_at'], name='orders_payattempt_created_idx'),
        ),
        migrations.AddConstraint(
            model_name='paymentattempt',
            constraint=models.UniqueConstraint(fields=('user_id', 'idempotency_key'), name='orders_payment_attempt_one_per_key'),
        ),
        migrations.AddConstraint(
            model_name='providerevent',
            constraint=models.UniqueConstraint(fields=('provider', 'event_id'), name='orders_provider_event_once'),
        ),
        migrations.RunPython(record_manual_payments, migrations.RunPython.noop),
    ]
