"""The organisation page: an admin builds a county from the page, a clerk finds a village and its people."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser


def add_unit(page, code: str, name: str, kind: str, attributes: str = "") -> None:
    form = page.locator("#add-unit")
    form.locator("input[name=code]").fill(code)
    form.locator("input[name=name]").fill(name)
    form.locator("select[name=kind]").select_option(kind)
    if attributes:
        form.locator("textarea[name=attributes]").fill(attributes)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/org/units/{code}")


def no_sideways_scroll(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)], ids=["desk", "phone"])
def test_an_admin_builds_a_county_and_a_clerk_finds_its_village(
    login, tmp_path: Path, width: int, height: int
) -> None:
    county = f"xian{width}"
    cadre, cadre_name = ("chen", "陈亮") if width > 700 else ("liu", "刘洋")  # one county each
    admin = login("admin", viewport=(width, height))
    admin.goto("/org")
    assert admin.locator("h1").inner_text() == "组织机构"
    new = admin.locator("#new-tenant")
    new.locator("input[name=code]").fill(county)
    new.locator("input[name=name]").fill(f"平利县{width}")
    new.locator("button[type=submit]").click()
    admin.wait_for_url(f"**/org/units/{county}")
    add_unit(admin, f"cg{width}", "城关镇", "town")
    add_unit(admin, f"jjp{width}", "蒋家坪村", "village", "村类别=深度贫困村")
    assert "深度贫困村" in admin.locator("#unit-facts").inner_text()
    form = admin.locator("#add-post")
    form.locator("input[name=username]").fill(cadre)
    form.locator("input[name=post]").fill("驻村第一书记")
    form.locator("input[name=rank]").fill("股级")
    form.locator("button[type=submit]").click()
    admin.wait_for_load_state()
    assert admin.locator(".flash").first.inner_text() == "已任命"
    row = admin.locator(f"#members tr[data-username='{cadre}']")
    assert "驻村第一书记" in row.inner_text() and "股级" in row.inner_text()
    assert no_sideways_scroll(admin) <= 1
    admin.screenshot(path=str(tmp_path / f"org-unit-{width}.png"), full_page=True)

    clerk = login("wang", viewport=(width, height))
    clerk.goto("/org")
    tree = clerk.locator(f"#org-tree li[data-code='{county}']")
    assert tree.locator("summary").first.is_visible()
    village = clerk.locator(f"#org-tree li[data-code='jjp{width}'] a")
    assert village.is_visible()  # the county and its towns start unfolded
    clerk.locator(f"#org-tree li[data-code='cg{width}'] > details > summary").click()  # fold the town
    assert not village.is_visible()
    assert no_sideways_scroll(clerk) <= 1
    clerk.screenshot(path=str(tmp_path / f"org-tree-{width}.png"), full_page=True)
    clerk.fill("input[name=q]", "蒋家坪")
    clerk.locator(".org-search button[type=submit]").click()
    clerk.locator(f".org-results li[data-code='jjp{width}'] a").click()
    clerk.wait_for_url(f"**/org/units/jjp{width}")
    assert cadre_name in clerk.locator("#members").inner_text()
    assert clerk.locator("#add-unit").count() == 0 and clerk.locator("#add-post").count() == 0  # not an admin
    clerk.goto(f"/org/units/jjp{width}?lang=en")
    assert clerk.locator("h1 .badge").inner_text() == "Village"
    assert clerk.js_errors == [] and admin.js_errors == []
