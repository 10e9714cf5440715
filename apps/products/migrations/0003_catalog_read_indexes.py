"""Indexes for catalog reads: a stored, indexed search document instead of an expression index (PostgreSQL only),
the default order (newest first, then id) as one index, and the discount window bounds. On SQLite only the plain
indexes are created."""

from django.db import migrations, models

from apps.products.db import PostgresOnlySQL

# Frozen copies of apps.products.models' definitions: a migration must keep meaning what it meant when written.
SEARCH_DOCUMENT_COLUMN = "search_document"
SEARCH_DOCUMENT_INDEX = "products_search_document_gin"
SEARCH_DOCUMENT_SQL = (
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(sku, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')"
)

OLD_EXPRESSION_INDEX = "products_search_vector_gin"
OLD_EXPRESSION_INDEX_SQL = (
    f"CREATE INDEX {OLD_EXPRESSION_INDEX} ON products_product USING gin (("
    "setweight(to_tsvector('english'::regconfig, COALESCE(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(sku, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, COALESCE(description, '')), 'B')))"
)


class Migration(migrations.Migration):

    dependencies = [
        ("products", "0002_staff_group_permissions"),
    ]

    operations = [
        PostgresOnlySQL(
            sql=(f"ALTER TABLE products_product ADD COLUMN {SEARCH_DOCUMENT_COLUMN} tsvector "
                 f"GENERATED ALWAYS AS ({SEARCH_DOCUMENT_SQL}) STORED"),
            reverse_sql=f"ALTER TABLE products_product DROP COLUMN {SEARCH_DOCUMENT_COLUMN}",
            description="stored search document",
        ),
        PostgresOnlySQL(
            sql=f"CREATE INDEX {SEARCH_DOCUMENT_INDEX} ON products_product USING gin ({SEARCH_DOCUMENT_COLUMN})",
            reverse_sql=f"DROP INDEX IF EXISTS {SEARCH_DOCUMENT_INDEX}",
            description="GIN index on the search document",
        ),
        PostgresOnlySQL(
            sql=f"DROP INDEX IF EXISTS {OLD_EXPRESSION_INDEX}",
            reverse_sql=OLD_EXPRESSION_INDEX_SQL,
            description="drop the expression index the stored document replaces",
        ),
        migrations.RemoveIndex(
            model_name="product",
            name="products_active_created_idx",
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["is_active", "-created_at", "id"], name="products_active_newest_idx"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["discount_starts_at"], name="products_discount_starts_idx"),
        ),
        migrations.AddIndex(
            model_name="product",
            index=models.Index(fields=["discount_ends_at"], name="products_discount_ends_idx"),
        ),
    ]
