"""The titles of every admin the shop serves, decided here: the monolith's one site, each split role's own site and
the admin's error pages all ask :func:`admin_titles`, so staff see the shop's name, never Django's default
("Django administration"), and in a split deployment also which role's admin they are in."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.admin import AdminSite

from ecommerce import deployment

SHOP_ADMIN = "Shop admin"


@dataclass(frozen=True)
class AdminTitles:
    header: str  # the banner on every page
    title: str  # the end of each page's <title>
    index_title: str  # the heading of the home page


def admin_titles(role: str | None = None) -> AdminTitles:
    """The titles for ``role``'s admin (default: this process's role)."""
    role = role or deployment.process_role()
    if role == deployment.MONOLITH:
        return AdminTitles(header=SHOP_ADMIN, title=SHOP_ADMIN, index_title="Shop administration")
    return AdminTitles(header=f"{SHOP_ADMIN}: {role}", title=f"{SHOP_ADMIN} ({role})",
                       index_title=f"{role.capitalize()} administration")


def title_admin_site(site: AdminSite, role: str | None = None) -> AdminSite:
    titles = admin_titles(role)
    site.site_header, site.site_title, site.index_title = titles.header, titles.title, titles.index_title
    return site
